"""Batched writes on both backends (`store` fixture): one write per batch, all or nothing, same checks."""

from __future__ import annotations

import copy
import threading
from datetime import timedelta

import pytest
from store_samples import T0, broadcasted, make_trade, started, succeeded

from vaultexec.errors import BadInputError, DuplicateRecordError, RecordNotFoundError, StoreTransitionError
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.store.protocol import ExecutionStore


def _batch(first_id: int, count: int) -> list[TradeExecution]:
    return [started(make_trade(trade_id=first_id + n, opened_at=T0 + timedelta(seconds=n)), nonce=n)
            for n in range(count)]


def _snapshot(store: ExecutionStore, ids: list[int]) -> dict[int, tuple[TradeExecution, list[str]]]:
    return {i: (store.load(i), [t.to_status for t in store.history(i)]) for i in ids}


def test_create_many_stores_every_trade_with_history(store: ExecutionStore) -> None:
    trades = _batch(100, 30)
    store.create_many(trades)
    assert store.count() == 30
    for trade in trades:
        assert store.load(trade.trade_id) == trade
        assert [(t.from_status, t.to_status) for t in store.history(trade.trade_id)] == [(None, "started")]
    assert [t.trade_id for t in store.list_by_status("started")] == [t.trade_id for t in trades]


def test_update_many_moves_every_trade_and_the_status_index(store: ExecutionStore) -> None:
    trades = _batch(200, 12)
    store.create_many(trades)
    store.update_many([broadcasted(t) for t in trades])
    store.update_many([succeeded(t) for t in trades[:5]])
    assert [t.trade_id for t in store.list_by_status("success")] == [t.trade_id for t in trades[:5]]
    assert [t.trade_id for t in store.list_by_status("broadcasted")] == [t.trade_id for t in trades[5:]]
    assert store.list_by_status("started") == []
    assert store.load(trades[0].trade_id) == trades[0]
    assert [t.to_status for t in store.history(trades[0].trade_id)] == ["started", "broadcasted", "success"]
    assert [t.to_status for t in store.history(trades[-1].trade_id)] == ["started", "broadcasted"]


def test_create_many_with_one_stored_id_writes_nothing(store: ExecutionStore) -> None:
    existing = make_trade(trade_id=305)
    store.create(existing)
    batch = _batch(300, 10)  # holds id 305
    with pytest.raises(DuplicateRecordError, match=r"Trade 305 .*already stored.*none of the batch"):
        store.create_many(batch)
    assert store.count() == 1
    assert store.load(305) == existing
    with pytest.raises(RecordNotFoundError):
        store.load(300)
    assert store.list_by_status("started") == []


def test_update_many_with_one_backward_move_writes_nothing(store: ExecutionStore) -> None:
    trades = _batch(400, 6)
    store.create_many(trades)
    store.update_many([broadcasted(t) for t in trades[:3]])
    before = _snapshot(store, [t.trade_id for t in trades])
    forward = [broadcasted(copy.deepcopy(t)) for t in trades[3:]]
    backward = copy.deepcopy(trades[0])
    backward.broadcasted_at = None  # broadcasted -> started
    assert backward.get_status() is TradeStatus.started
    with pytest.raises(StoreTransitionError, match="Trade 400: cannot move from broadcasted to started"):
        store.update_many([*forward, backward])
    assert _snapshot(store, [t.trade_id for t in trades]) == before


def test_update_many_with_one_unknown_trade_writes_nothing(store: ExecutionStore) -> None:
    trades = _batch(500, 4)
    store.create_many(trades)
    before = _snapshot(store, [t.trade_id for t in trades])
    with pytest.raises(RecordNotFoundError, match=r"Trade 599 .*none of the batch"):
        store.update_many([*[broadcasted(copy.deepcopy(t)) for t in trades], started(make_trade(trade_id=599))])
    assert _snapshot(store, [t.trade_id for t in trades]) == before


def test_batch_that_fails_to_encode_midway_writes_nothing(store: ExecutionStore) -> None:
    trades = _batch(600, 5)
    trades[3].opened_at = None
    with pytest.raises(BadInputError, match="opened_at"):
        store.create_many(trades)
    repeated = _batch(700, 2) + _batch(700, 1)
    with pytest.raises(BadInputError, match="Trade 700 appears twice"):
        store.create_many(repeated)
    assert store.count() == 0


def test_empty_batches_are_no_ops(store: ExecutionStore) -> None:
    store.create_many([])
    store.update_many([])
    assert store.count() == 0


def test_two_writers_race_the_same_batch(store: ExecutionStore, twin_store: ExecutionStore) -> None:
    """Both connections create_many the same ids at once: exactly one batch wins, whole."""
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def writer(name: str, target: ExecutionStore, nonce: int) -> None:
        batch = [started(make_trade(trade_id=800 + n, opened_at=T0), nonce=1000 * nonce + n) for n in range(50)]
        barrier.wait()
        try:
            target.create_many(batch)
            outcomes[name] = "won"
        except DuplicateRecordError:
            outcomes[name] = "duplicate"

    threads = [threading.Thread(target=writer, args=("a", store, 1)),
               threading.Thread(target=writer, args=("b", twin_store, 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["duplicate", "won"]
    winner_nonce = 1 if outcomes["a"] == "won" else 2
    assert {store.load(800 + n).blockchain_transactions[0].nonce // 1000 for n in range(50)} == {winner_nonce}
    assert all(len(store.history(800 + n)) == 1 for n in range(50))
