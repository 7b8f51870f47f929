"""Faults during a batch: transient HTTP errors through the fault proxy, node stopped and restarted."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from chain_wallets import funded_wallet, sign

from vaultexec.chain.broadcast import TrackerConfig, TransactionTracker
from vaultexec.chain.rpc import RetryPolicy, RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.model.transaction import BlockchainTransaction, TxState
from vaultexec.testing.anvil import AnvilInstance, find_free_port, start_anvil
from vaultexec.testing.faultproxy import Fault, FaultProxy

CONFIG = TrackerConfig(poll_interval=0.01, timeout=30)


def assert_each_landed_once(rpc: RPCClient, wallet: HotWallet, txs: list[BlockchainTransaction],
                            start_nonce: int) -> None:
    assert all(tx.tx_state is TxState.confirmed for tx in txs)
    assert sorted(tx.nonce for tx in txs) == list(range(start_nonce, start_nonce + len(txs)))  # type: ignore[type-var]
    assert int(rpc.call("eth_getTransactionCount", [wallet.address, "latest"]), 16) == start_nonce + len(txs)
    for tx in txs:
        assert rpc.call("eth_getTransactionReceipt", [tx.tx_hash])["blockHash"] == tx.block_hash


@pytest.fixture()
def proxy(plain_anvil: AnvilInstance) -> Iterator[FaultProxy]:
    with FaultProxy(plain_anvil.url) as p:
        yield p


@pytest.mark.parametrize("fault", [Fault.http_error(500), Fault.rate_limited("0.2"), Fault.drop(),
                                   Fault.lose_answer()], ids=["500", "429", "drop", "lost_answer"])
def test_batch_survives_transient_faults(client: RPCClient, proxy: FaultProxy, fault: Fault,
                                         fast_retry: RetryPolicy) -> None:
    proxied = RPCClient(proxy.url, retry=fast_retry)
    wallet = funded_wallet(client, 0xFA17)
    start = wallet.sync_nonce(proxied)
    txs = sign(proxied, wallet, 10)
    tracker = TransactionTracker(proxied, CONFIG)
    proxy.inject(fault, times=2)  # the broadcast (and its first retry) hit the fault
    tracker.broadcast(txs)
    proxy.inject(fault)  # and so does the first poll
    tracker.track(txs)
    assert proxy.pending_faults() == 0 and len(proxy.faults_applied) == 3
    assert proxied.stats.retries >= 3
    assert_each_landed_once(client, wallet, txs, start)


def test_node_stopped_and_restarted_mid_batch(tmp_path: Path) -> None:
    state, port = str(tmp_path / "state.json"), find_free_port()
    node = start_anvil(port=port, automine=False, extra_args=["--state", state])
    patient = RetryPolicy(attempts=200, initial_backoff=0.05, max_backoff=0.2, deadline=60)
    rpc = RPCClient(node.url, retry=patient)
    try:
        wallet = funded_wallet(rpc, 0x5707)
        start = wallet.sync_nonce(rpc)
        txs = sign(rpc, wallet, 6)
        tracker = TransactionTracker(rpc, CONFIG)
        tracker.broadcast(txs[:3])
        rpc.call("evm_mine")
        tracker.track(txs[:3])
        tracker.broadcast(txs[3:])  # pending in the pool when the node goes down
        node.stop()  # SIGTERM: anvil dumps its chain (not its pool) to the state file
        outcome: list[BaseException | None] = []

        def track_rest() -> None:
            try:
                tracker.track(txs[3:])
                outcome.append(None)
            except BaseException as exc:  # handed to the test thread
                outcome.append(exc)

        worker = threading.Thread(target=track_rest)
        worker.start()
        time.sleep(0.5)  # the tracker is retrying against a dead port now
        assert rpc.stats.retries > 0 and not outcome
        node = start_anvil(port=port, automine=True, extra_args=["--state", state])
        worker.join(timeout=60)
        assert outcome == [None]
        assert tracker.stats.rebroadcasts == 3  # the pool was lost: the same bytes were sent again
        assert_each_landed_once(rpc, wallet, txs, start)
    finally:
        node.close()
