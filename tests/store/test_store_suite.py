"""The shared store suite: every test runs on SQLite and on a real redis-server (`store` fixture)."""

from __future__ import annotations

import contextlib
import copy
import sqlite3
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from store_samples import (
    OTHER_VAULT,
    T0,
    VAULT,
    broadcasted,
    failed,
    make_trade,
    signed_tx,
    started,
    succeeded,
)

from vaultexec.errors import (
    BadInputError,
    CorruptRecordError,
    DuplicateRecordError,
    RecordNotFoundError,
    StoreTransitionError,
)
from vaultexec.model.serialisation import dump_json
from vaultexec.model.trade import MAX_TRADE_ID, TradeExecution, TradeStatus
from vaultexec.store.protocol import ExecutionStore
from vaultexec.store.redis import member_of


def test_store_satisfies_protocol(store: ExecutionStore) -> None:
    assert isinstance(store, ExecutionStore)
    assert store.vault == VAULT


def test_create_then_load_round_trips_exactly(store: ExecutionStore) -> None:
    trade = started(make_trade())
    store.create(trade)
    loaded = store.load(trade.trade_id)
    assert loaded == trade
    assert dump_json(loaded) == dump_json(trade)
    assert loaded.blockchain_transactions[0].signed_bytes == trade.blockchain_transactions[0].signed_bytes


def test_second_create_of_same_id_is_refused_and_keeps_first(store: ExecutionStore) -> None:
    trade = make_trade()
    store.create(trade)
    clash = make_trade(trade_id=trade.trade_id, quantity=trade.planned_quantity * 2)
    with pytest.raises(DuplicateRecordError, match=rf"Trade {trade.trade_id} .* already stored"):
        store.create(clash)
    with pytest.raises(DuplicateRecordError):
        store.create(trade)
    assert store.load(trade.trade_id) == trade
    assert store.count() == 1


def test_load_missing_raises(store: ExecutionStore) -> None:
    with pytest.raises(RecordNotFoundError, match="Trade 424242"):
        store.load(424242)


def test_update_walks_the_lifecycle_and_keeps_history(store: ExecutionStore) -> None:
    trade = make_trade()
    store.create(trade)
    for step in (started, broadcasted, succeeded):
        step(trade)
        store.update(trade)
        assert store.load(trade.trade_id) == trade
    assert store.load(trade.trade_id).get_status() == TradeStatus.success
    path = [(t.from_status, t.to_status) for t in store.history(trade.trade_id)]
    assert path == [(None, "planned"), ("planned", "started"), ("started", "broadcasted"),
                    ("broadcasted", "success")]


def test_update_of_unknown_trade_raises(store: ExecutionStore) -> None:
    with pytest.raises(RecordNotFoundError, match="create"):
        store.update(make_trade())


def test_backward_update_is_refused_naming_both_states(store: ExecutionStore) -> None:
    trade = broadcasted(started(make_trade()))
    store.create(trade)
    stale = started(make_trade(trade_id=trade.trade_id))
    with pytest.raises(StoreTransitionError, match="from broadcasted to started"):
        store.update(stale)
    assert store.load(trade.trade_id).get_status() == TradeStatus.broadcasted


def test_settled_trade_is_final_for_update(store: ExecutionStore) -> None:
    trade = succeeded(broadcasted(started(make_trade())))
    store.create(trade)
    with pytest.raises(StoreTransitionError, match="from success to success"):
        store.update(trade)


def test_replacement_transaction_on_broadcasted_trade(store: ExecutionStore) -> None:
    trade = broadcasted(started(make_trade()))
    store.create(trade)
    first_hash = trade.blockchain_transactions[0].tx_hash
    trade.blockchain_transactions[0].set_signed("0x" + "fe" * 32, "0x02f9" + "cd" * 100, 7)
    store.update(trade)
    loaded = store.load(trade.trade_id)
    assert loaded.blockchain_transactions[0].tx_hash == "0x" + "fe" * 32
    assert loaded.blockchain_transactions[0].replaced_tx_hashes == [first_hash]


@pytest.mark.parametrize("settle", [succeeded, failed])
def test_reorg_reverts_settled_trade_to_broadcasted(store: ExecutionStore, settle: object) -> None:
    trade = broadcasted(started(make_trade()))
    store.create(trade)
    rolled_back = copy.deepcopy(trade)
    settle(trade)  # type: ignore[operator]
    store.update(trade)
    with pytest.raises(StoreTransitionError, match="revert_to_broadcasted"):
        store.update(rolled_back)
    store.revert_to_broadcasted(rolled_back, reason="block 100 reorged out")
    assert store.load(trade.trade_id) == rolled_back
    last = store.history(trade.trade_id)[-1]
    assert (last.from_status, last.to_status, last.reason) == (
        trade.get_status().value, "broadcasted", "block 100 reorged out")
    with pytest.raises(StoreTransitionError, match="only a success or failed trade"):
        store.revert_to_broadcasted(rolled_back, reason="twice")


def test_failed_trade_can_be_repaired(store: ExecutionStore) -> None:
    trade = failed(broadcasted(started(make_trade())))
    store.create(trade)
    trade.mark_repaired(T0 + timedelta(hours=1), note="counter trade 99")
    store.update(trade)
    assert store.list_by_status("repaired") == [trade]
    assert store.list_by_status("failed") == []


def test_iterate_by_time_both_orders_with_range(store: ExecutionStore) -> None:
    trades = [make_trade(opened_at=T0 + timedelta(minutes=m)) for m in (5, 1, 3, 2, 4)]
    for trade in trades:
        store.create(trade)
    by_time = sorted(trades, key=lambda t: t.opened_at or T0)
    assert list(store.iterate_by_time()) == by_time
    assert list(store.iterate_by_time(descending=True)) == by_time[::-1]
    window = list(store.iterate_by_time(T0 + timedelta(minutes=2), T0 + timedelta(minutes=4)))
    assert [t.opened_at for t in window] == [T0 + timedelta(minutes=m) for m in (2, 3, 4)]
    window_desc = list(store.iterate_by_time(start=T0 + timedelta(minutes=4), descending=True))
    assert [t.opened_at for t in window_desc] == [T0 + timedelta(minutes=m) for m in (5, 4)]
    assert list(store.iterate_by_time(end=T0)) == []


def test_same_time_orders_by_trade_id_across_pages(store: ExecutionStore) -> None:
    ids = [2, 10, 1, 1001, 100, *range(2000, 2600)]  # more than one 500-row page
    for trade_id in ids:
        store.create(make_trade(trade_id=trade_id, opened_at=T0))
    assert [t.trade_id for t in store.iterate_by_time()] == sorted(ids)
    assert [t.trade_id for t in store.iterate_by_time(descending=True)] == sorted(ids, reverse=True)


def test_first_and_last(store: ExecutionStore) -> None:
    assert store.first() is None and store.last() is None
    early, late, middle = (make_trade(opened_at=T0 + timedelta(days=d)) for d in (0, 9, 3))
    for trade in (early, late, middle):
        store.create(trade)
    assert store.first() == early
    assert store.last() == late


def test_list_by_status_finds_write_ahead_records(store: ExecutionStore) -> None:
    planned = make_trade(opened_at=T0)
    pending = started(make_trade(opened_at=T0 + timedelta(minutes=2)), nonce=8)
    in_flight = broadcasted(started(make_trade(opened_at=T0 + timedelta(minutes=1)), nonce=9))
    done = succeeded(broadcasted(started(make_trade(opened_at=T0 + timedelta(minutes=3)), nonce=10)))
    for trade in (planned, pending, in_flight, done):
        store.create(trade)
    assert store.list_by_status("broadcasted") == [in_flight]
    assert store.list_by_status(TradeStatus.started, TradeStatus.broadcasted) == [in_flight, pending]
    assert [t.blockchain_transactions[0].nonce for t in store.list_by_status("started")] == [8]
    assert store.list_by_status() == []
    store.update(broadcasted(pending))
    assert store.list_by_status("started") == []
    assert store.list_by_status("broadcasted") == [in_flight, pending]


def test_export_all_is_time_ordered_and_per_vault(store: ExecutionStore, other_store: ExecutionStore) -> None:
    mine = [make_trade(opened_at=T0 + timedelta(hours=h)) for h in (2, 0, 1)]
    theirs = make_trade(opened_at=T0)
    for trade in mine:
        store.create(trade)
    other_store.create(theirs)
    other_store.create(make_trade(trade_id=mine[0].trade_id))  # same id, other vault: no clash
    assert store.export_all() == sorted(mine, key=lambda t: t.opened_at or T0)
    assert store.count() == 3 and other_store.count() == 2
    assert store.list_vaults() == sorted([VAULT, OTHER_VAULT])


def test_multiple_transactions_and_big_numbers_survive(store: ExecutionStore) -> None:
    trade = make_trade(quantity=Decimal("123456789.123456789012345678"))
    trade.set_blockchain_transactions([signed_tx(1), signed_tx(2)])
    trade.blockchain_transactions[1].max_fee_per_gas = 2**255
    store.create(trade)
    loaded = store.load(trade.trade_id)
    assert loaded.planned_quantity == trade.planned_quantity
    assert [tx.nonce for tx in loaded.blockchain_transactions] == [1, 2]
    assert loaded.blockchain_transactions[1].max_fee_per_gas == 2**255


def test_two_writers_race_create_and_update(store: ExecutionStore, twin_store: ExecutionStore) -> None:
    """Two connections create the same ids and push the same trades forward at once: one create wins
    per id, every update lands once, nothing goes backwards."""
    ids = list(range(900, 960))
    barrier = threading.Barrier(2)
    wins: list[int] = []

    def writer(target: ExecutionStore) -> None:
        barrier.wait()
        for trade_id in ids:
            with contextlib.suppress(DuplicateRecordError):
                target.create(make_trade(trade_id=trade_id, opened_at=T0))
                wins.append(trade_id)
        for trade_id in ids:
            trade = target.load(trade_id)
            if trade.get_status() == TradeStatus.planned:
                with contextlib.suppress(StoreTransitionError):
                    target.update(started(trade))

    threads = [threading.Thread(target=writer, args=(s,)) for s in (store, twin_store)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(wins) == ids
    for trade_id in ids:
        assert store.load(trade_id).get_status() == TradeStatus.started
        assert [t.to_status for t in store.history(trade_id)] in (
            ["planned", "started"], ["planned", "started", "started"])


# --- a write never drops a stored transaction hash (audit finding 1) ----------------------------------


def _all_hashes(trade: TradeExecution) -> list[str]:
    return [h for tx in trade.blockchain_transactions for h in tx.get_all_tx_hashes()]


def test_same_state_update_cannot_erase_the_write_ahead_transaction(store: ExecutionStore) -> None:
    trade = started(make_trade())
    store.create(trade)
    erased = copy.deepcopy(trade)
    erased.blockchain_transactions = []  # still started, but the signed transaction is gone
    with pytest.raises(StoreTransitionError, match=rf"Trade {trade.trade_id}: the update drops transaction hash"):
        store.update(erased)
    assert store.load(trade.trade_id) == trade
    assert len(store.history(trade.trade_id)) == 1


def test_replacement_that_forgets_the_old_hash_is_refused(store: ExecutionStore) -> None:
    trade = broadcasted(started(make_trade()))
    store.create(trade)
    forgetful = copy.deepcopy(trade)
    forgetful.blockchain_transactions[0].tx_hash = "0x" + "fe" * 32  # not via set_signed: old hash lost
    with pytest.raises(StoreTransitionError, match=trade.blockchain_transactions[0].tx_hash or "?"):
        store.update(forgetful)
    assert store.load(trade.trade_id) == trade


def test_forward_update_and_reorg_keep_every_hash(store: ExecutionStore) -> None:
    trade = broadcasted(started(make_trade()))
    trade.blockchain_transactions[0].set_signed("0x" + "fe" * 32, "0x02f9" + "cd" * 100, 7)  # replacement
    store.create(trade)
    settled = succeeded(copy.deepcopy(trade))
    settled.blockchain_transactions[0].replaced_tx_hashes = []  # the landed hash kept, the other lost
    with pytest.raises(StoreTransitionError, match="drops transaction hash"):
        store.update(settled)
    settled = succeeded(copy.deepcopy(trade))
    store.update(settled)
    rolled_back = copy.deepcopy(trade)
    rolled_back.blockchain_transactions = [signed_tx(nonce=8)]
    with pytest.raises(StoreTransitionError, match="drops transaction hash"):
        store.revert_to_broadcasted(rolled_back, reason="reorg")
    assert store.load(trade.trade_id) == settled
    assert sorted(_all_hashes(store.load(trade.trade_id))) == sorted(_all_hashes(trade))


def test_batch_update_dropping_one_hash_writes_nothing(store: ExecutionStore) -> None:
    trades = [started(make_trade(opened_at=T0 + timedelta(seconds=n)), nonce=n) for n in range(4)]
    store.create_many(trades)
    forward = [broadcasted(copy.deepcopy(t)) for t in trades]
    forward[2].blockchain_transactions = [signed_tx(nonce=99)]
    with pytest.raises(StoreTransitionError, match=rf"Trade {trades[2].trade_id}: the update drops"):
        store.update_many(forward)
    assert [store.load(t.trade_id) for t in trades] == trades


def test_hashes_compare_case_insensitively(store: ExecutionStore) -> None:
    trade = started(make_trade())
    trade.blockchain_transactions[0].tx_hash = "0x" + "AB" * 32
    store.create(trade)
    trade.blockchain_transactions[0].tx_hash = "0x" + "ab" * 32  # same transaction, other spelling
    store.update(broadcasted(trade))
    assert store.load(trade.trade_id).get_status() == TradeStatus.broadcasted


# --- reads under concurrent writers, ids and statuses checked at the boundary (findings 3 and 6) ---------


@pytest.mark.parametrize("descending", [True, False], ids=["newest_first", "oldest_first"])
def test_trade_created_during_iteration_shifts_no_page(store: ExecutionStore, descending: bool) -> None:
    trades = [make_trade(trade_id=3000 + n, opened_at=T0 + timedelta(seconds=n)) for n in range(620)]
    store.create_many(trades)
    walk = store.iterate_by_time(descending=descending)
    seen = [next(walk).trade_id]  # the first page is read
    # A trade on the side already walked past: before the cursor, it must shift nothing.
    store.create(make_trade(trade_id=9000, opened_at=T0 + timedelta(days=1 if descending else -1)))
    seen += [trade.trade_id for trade in walk]
    expected = [t.trade_id for t in trades]
    assert seen == (expected[::-1] if descending else expected)


def test_same_time_trades_created_during_iteration_are_not_repeated(store: ExecutionStore) -> None:
    store.create_many([make_trade(trade_id=5000 + n, opened_at=T0) for n in range(600)])
    walk = store.iterate_by_time()
    seen = [next(walk).trade_id]
    store.create(make_trade(trade_id=4000, opened_at=T0))  # same time, smaller id: already walked past
    seen += [trade.trade_id for trade in walk]
    assert seen == list(range(5000, 5600))


def test_list_by_status_names_each_trade_once(store: ExecutionStore) -> None:
    trade = broadcasted(started(make_trade()))
    store.create(trade)
    assert store.list_by_status("broadcasted", "broadcasted") == [trade]
    assert store.list_by_status(TradeStatus.broadcasted, "broadcasted", "started") == [trade]


def test_list_by_status_is_one_snapshot_while_trades_move(store: ExecutionStore,
                                                        twin_store: ExecutionStore) -> None:
    """Trades move started -> broadcasted while another connection lists both: each listed once, none lost."""
    trades = [started(make_trade(opened_at=T0 + timedelta(seconds=n)), nonce=n) for n in range(40)]
    store.create_many(trades)
    ids = sorted(t.trade_id for t in trades)
    done = threading.Event()

    def mover() -> None:
        for trade in reversed(trades):  # the later-listed status index first
            twin_store.update(broadcasted(trade))
        done.set()

    thread = threading.Thread(target=mover)
    thread.start()
    snapshots = 0
    while not done.is_set() or snapshots == 0:
        listed = [t.trade_id for t in store.list_by_status("started", "broadcasted")]
        assert sorted(listed) == ids
        snapshots += 1
    thread.join(timeout=60)


@pytest.mark.parametrize("bad_id", ["12", True, -1, 1.0, None])
def test_trade_ids_are_checked_at_the_boundary(store: ExecutionStore, bad_id: object) -> None:
    store.create(make_trade(trade_id=12))
    store.create(make_trade(trade_id=1))
    with pytest.raises(BadInputError, match="is not a trade id"):
        store.load(bad_id)  # type: ignore[arg-type]
    with pytest.raises(BadInputError, match="is not a trade id"):
        store.history(bad_id)  # type: ignore[arg-type]


def test_time_bounds_are_checked_when_called(store: ExecutionStore) -> None:
    with pytest.raises(BadInputError, match="is not a datetime"):
        store.iterate_by_time(start="2024-03-01")  # type: ignore[arg-type]


@pytest.mark.parametrize("status", ["brodcasted", "Started", "", 3])
def test_unknown_status_is_bad_input_not_an_empty_list(store: ExecutionStore, status: object) -> None:
    store.create(started(make_trade()))
    with pytest.raises(BadInputError, match="is not a trade status"):
        store.list_by_status("started", status)  # type: ignore[arg-type]


def test_brackets_inside_text_are_not_nesting(store: ExecutionStore) -> None:
    """The depth guard against hostile records counts structure only: text full of brackets still loads."""
    trade = failed(broadcasted(started(make_trade())), reason="[" * 500 + '"\\{' * 200)
    trade.add_note("{[" * 300)
    store.create(trade)
    assert store.load(trade.trade_id) == trade


def _corrupt_stored_body(backend: str, request: pytest.FixtureRequest, trade_id: int) -> None:
    """Break one stored record the way a disk or a hand edit could (not JSON any more)."""
    if backend == "sqlite":
        with sqlite3.connect(request.getfixturevalue("sqlite_path")) as raw:
            raw.execute("UPDATE trades SET body='{not json' WHERE trade_id=?", (trade_id,))
    else:
        request.getfixturevalue("redis_client").hset(f"vaultexec:{VAULT}:reports", member_of(trade_id),
                                                     "{not json")


def test_max_trade_id_reads_the_ids_only(store: ExecutionStore, backend: str,
                                         request: pytest.FixtureRequest) -> None:
    assert store.max_trade_id() is None
    for trade_id, seconds in ((9, 3), (10, 0), (2, 5)):  # ids out of time order; 10 after 9 numerically
        store.create(make_trade(trade_id=trade_id, opened_at=T0 + timedelta(seconds=seconds)))
    assert store.max_trade_id() == 10
    _corrupt_stored_body(backend, request, 10)
    with pytest.raises(CorruptRecordError):
        store.load(10)
    assert store.max_trade_id() == 10  # no record is decoded
    store.create(make_trade(trade_id=MAX_TRADE_ID))
    assert store.max_trade_id() == MAX_TRADE_ID


def test_max_trade_id_is_per_vault(store: ExecutionStore, other_store: ExecutionStore) -> None:
    other_store.create(make_trade(trade_id=99))
    assert store.max_trade_id() is None
    store.create(make_trade(trade_id=0))
    assert store.max_trade_id() == 0
    assert other_store.max_trade_id() == 99
