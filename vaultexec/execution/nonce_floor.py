"""The wallet never signs a nonce the store holds for another transaction, unless that one provably never ran.

After a node rewind (a restart from an older state) or on a lagging node, the node's pending nonce is below
nonces our trades used; signing from there would reuse them, and the new transactions would replace the old
ones (settled trades would later read as failed). `check_nonce_floor` refuses before anything is signed.
A stored nonce whose trade failed without its transaction ever being mined (dropped, replaced by a no-op)
may be reused; anything else needs `resume()` first (it re-sends the stored transactions).
"""

from __future__ import annotations

import logging

from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import pending_nonce
from vaultexec.errors import NodeBehindError, RecordNotFoundError
from vaultexec.model.trade import TradeStatus
from vaultexec.store.protocol import ExecutionStore

logger = logging.getLogger(__name__)

#: Nonces below the store's highest that are looked at one by one (a deeper gap is refused outright).
MAX_CHECKED = 64


def check_nonce_floor(client: RPCClient, store: ExecutionStore, chain_id: int, wallet: str,
                      next_nonce: int | None = None) -> None:
    """NodeBehindError if the node's pending nonce of `wallet` is at or below a nonce a stored trade used.

    The node's nonce, not the wallet's local counter: that one stays ahead of a rewound node (one request,
    only when the store holds nonces of the wallet; none when the caller just read it: `next_nonce`)."""
    highest = getattr(store, "highest_nonce", None)
    holder_of = getattr(store, "nonce_holder", None)
    if highest is None or holder_of is None:
        return
    floor = highest(chain_id, wallet)
    if floor is None:
        return
    if next_nonce is None:
        next_nonce = pending_nonce(client, wallet)
    if next_nonce > floor:
        return
    for nonce in range(floor, max(next_nonce, floor - MAX_CHECKED) - 1, -1):
        holder = holder_of(chain_id, wallet, nonce)
        if holder is not None and not _never_ran(store, holder):
            raise NodeBehindError(
                f"The node's pending nonce of hot wallet {wallet} on chain {chain_id} is {next_nonce}, but trade "
                f"{holder[1]} of vault {holder[0]} holds a transaction with nonce {nonce} (the store's highest for "
                f"this wallet is {floor}): the node is behind our records (lagging, or restarted from an older "
                "state). Nothing was signed: run resume() first (it re-sends the stored transactions), or use a "
                "node that is in sync.")
    if next_nonce < floor - MAX_CHECKED:
        raise NodeBehindError(
            f"The node's pending nonce of hot wallet {wallet} on chain {chain_id} is {next_nonce}, more than "
            f"{MAX_CHECKED} below the highest nonce the store holds for it ({floor}). Nothing was signed: run "
            "resume() first, or use a node that is in sync.")
    logger.info("nonces %d..%d of %s belong to trades whose transactions never ran: they may be used again",
                next_nonce, floor, wallet)


def _never_ran(store: ExecutionStore, holder: tuple[str, int]) -> bool:
    """True when the holder is a trade of this vault that failed with its last transaction never mined."""
    if holder[0] != store.vault:
        return False
    try:
        trade = store.load(holder[1])
    except RecordNotFoundError:
        return False
    tx = trade.blockchain_transactions[-1] if trade.blockchain_transactions else None
    return trade.get_status() is TradeStatus.failed and (tx is None or tx.block_number is None)
