"""Tracking large batches (issue #14): drop checks bounded per poll, a queue that drains over several blocks
is never "stuck", an idle automining dev chain is asked for a block. On anvil, the tracker's clock stepped
by hand (no sleeps)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from vaultexec.chain import broadcast
from vaultexec.chain.broadcast import TrackerConfig, TransactionTracker
from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.model.transaction import TxState

from test_broadcast import mined_nonce, sign_transfers  # isort: skip


class Clock:
    """The tracker's `time`: monotonic() answers what the test set; sleep() does not wait."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(broadcast, "time", SimpleNamespace(monotonic=fake.monotonic, sleep=fake.sleep))
    return fake


@pytest.fixture()
def small_blocks(client: RPCClient, manual_mining: None) -> Iterator[None]:
    """Manual mining, and a block holds two 21k-gas transfers."""
    limit = client.call("eth_getBlockByNumber", ["latest", False])["gasLimit"]
    client.call("evm_setBlockGasLimit", [hex(50_000)])
    yield
    client.call("evm_setBlockGasLimit", [limit])


def test_drop_checks_per_poll_are_bounded_and_rotate(client: RPCClient, wallet: HotWallet, clock: Clock,
                                                     manual_mining: None) -> None:
    """40 pending transactions: each poll looks up at most 16 by hash, each once per drop_check_after."""
    txs = sign_transfers(client, wallet, 40)
    tracker = TransactionTracker(client, TrackerConfig(drop_check_after=5.0, drop_checks_per_poll=16,
                                                       stuck_after=3600))
    tracker.broadcast(txs)
    clock.now += 5.0
    asked = []
    for _ in range(4):
        before = client.stats.snapshot()
        tracker.poll(txs)
        asked.append(client.stats.since(before).requests_by_method.get("eth_getTransactionByHash", 0))
    assert asked == [16, 16, 8, 0]  # all 40 looked up once, then none until drop_check_after passed again
    clock.now += 5.0
    before = client.stats.snapshot()
    tracker.poll(txs)
    assert client.stats.since(before).requests_by_method.get("eth_getTransactionByHash", 0) == 16
    client.call("evm_mine")
    tracker.track(txs)
    assert all(tx.tx_state is TxState.confirmed for tx in txs)


def test_batch_larger_than_a_block_drains_without_replacements(client: RPCClient, wallet: HotWallet,
                                                                clock: Clock, small_blocks: None) -> None:
    """Six transfers, two per block, a block every 6 s, stuck_after 10 s: the later ones wait longer than
    10 s since they were sent, but the queue moves, so nothing is replaced."""
    txs = sign_transfers(client, wallet, 6, gas=21_000)
    tracker = TransactionTracker(client, TrackerConfig(drop_check_after=0.0, stuck_after=10.0),
                                 resign=wallet.resign_with_fees)
    tracker.broadcast(txs)
    for _ in range(3):
        clock.now += 6.0
        client.call("evm_mine")
        tracker.poll(txs)
    assert tracker.stats.replacements == 0
    assert all(tx.tx_state is TxState.confirmed for tx in txs) and len({tx.block_number for tx in txs}) == 3
    assert mined_nonce(client, wallet.address) == txs[-1].nonce + 1  # type: ignore[operator]


def test_queue_that_does_not_move_is_replaced(client: RPCClient, wallet: HotWallet, clock: Clock,
                                              manual_mining: None) -> None:
    """No block for longer than stuck_after: the waiting transactions are replaced, as before."""
    txs = sign_transfers(client, wallet, 3, gas=21_000)
    tracker = TransactionTracker(client, TrackerConfig(drop_check_after=0.0, stuck_after=10.0),
                                 resign=wallet.resign_with_fees)
    tracker.broadcast(txs)
    tracker.poll(txs)
    clock.now += 11.0
    tracker.poll(txs)
    assert tracker.stats.replacements == 3


def test_idle_dev_chain_is_asked_for_a_block(client: RPCClient, wallet: HotWallet, clock: Clock,
                                             manual_mining: None) -> None:
    """Transactions left in an automining anvil's pool with no new block: one evm_mine after the idle time."""
    txs = sign_transfers(client, wallet, 3, gas=21_000)
    # Automine is off here to stand for anvil's leftover pool: mining is allowed without the automine check.
    tracker = TransactionTracker(client, TrackerConfig(drop_check_after=0.0, stuck_after=3600,
                                                       mine_when_idle_after=1.0,
                                                       idle_mine_only_when_automining=False))
    tracker.broadcast(txs)
    tracker.poll(txs)
    assert tracker.stats.idle_mines == 0 and mined_nonce(client, wallet.address) == txs[0].nonce
    clock.now += 1.0
    started = time.monotonic()
    tracker.track(txs)
    assert tracker.stats.idle_mines == 1 and time.monotonic() - started < 5
    assert all(tx.tx_state is TxState.confirmed for tx in txs)


def test_a_node_that_does_not_automine_is_never_asked_for_a_block(client: RPCClient, wallet: HotWallet,
                                                                  clock: Clock, manual_mining: None) -> None:
    """Interval or manual mining (automine off) keeps its own pace: the idle rule never mines on it."""
    txs = sign_transfers(client, wallet, 2, gas=21_000)
    tracker = TransactionTracker(client, TrackerConfig(drop_check_after=0.0, stuck_after=3600,
                                                       mine_when_idle_after=1.0))
    tracker.broadcast(txs)
    tracker.poll(txs)
    clock.now += 5.0
    tracker.poll(txs)
    assert tracker.stats.idle_mines == 0 and client.stats.requests_by_method.get("evm_mine", 0) == 0
    assert mined_nonce(client, wallet.address) == txs[0].nonce
    assert all(tx.tx_state is TxState.broadcasted for tx in txs)
