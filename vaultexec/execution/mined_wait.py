"""The executor's cheap gate between broadcast and receipt polling: wait until a chunk's last nonce is mined."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.tracking import TrackerConfig, mine_idle_dev_chain
from vaultexec.model.transaction import BlockchainTransaction, TxState

logger = logging.getLogger(__name__)


def wait_until_mined(client: RPCClient, sender: str, txs: Sequence[BlockchainTransaction],
                     config: TrackerConfig) -> bool:
    """Cheap gate before receipt polling: one nonce request per look until the batch's last nonce is
    mined (or `drop_check_after` passes), so receipts are asked for once instead of once per poll.

    Between looks it waits for what the mining rate seen so far says the rest needs (at least
    `poll_interval`, at most 1 s), so a chunk costs a few requests however slowly it is mined. On an
    automining dev chain (`mine_when_idle_after` set) a mined nonce that stood still that long gets a
    block asked for (`evm_mine`): anvil can leave the tail of a bulk send in its pool until something
    happens, which at N = 10,000 cost a few hundred ms per chunk.

    True when every nonce was seen mined (False: `drop_check_after` passed first; tracking sorts it out)."""
    nonces = [tx.nonce for tx in txs if tx.nonce is not None and tx.tx_state is TxState.broadcasted]
    if not nonces:
        return False
    started = time.monotonic()
    deadline = started + config.drop_check_after
    idle_after = config.mine_when_idle_after
    first: int | None = None
    last, since = -1, started
    while True:
        mined = int(client.call("eth_getTransactionCount", [sender, "latest"]), 16)
        now = time.monotonic()
        if mined > max(nonces) or now >= deadline:
            return mined > max(nonces)
        first = mined if first is None else first
        if mined != last:
            last, since = mined, now
        elif idle_after is not None and now - since >= idle_after:
            since = now
            if mine_idle_dev_chain(client, config):
                logger.info("nonces %d..%d waited in the dev chain's pool with no new block: mined one", mined,
                            max(nonces))
                continue
        interval = config.poll_interval
        if mined > first:  # the rest at the rate seen so far
            interval = max(interval, min(1.0, (max(nonces) + 1 - mined) * (now - started) / (mined - first)))
        if idle_after is not None:  # look again in time to notice a standstill
            interval = min(interval, max(idle_after, config.poll_interval))
        time.sleep(min(interval, max(0.0, deadline - now)))
