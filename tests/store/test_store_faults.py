"""Faults: Redis stopped and crashed mid-run, two processes on one SQLite file, corrupt records."""

from __future__ import annotations

import contextlib
import copy
import multiprocessing
import re
import sqlite3
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from store_samples import T0, VAULT, broadcasted, make_trade, started, succeeded

from vaultexec.errors import (
    CorruptRecordError,
    DuplicateRecordError,
    RecordNotFoundError,
    StoreTransitionError,
    StoreUnavailableError,
)
from vaultexec.model.serialisation import dump_json
from vaultexec.model.trade import TradeExecution
from vaultexec.store.codec import StoredRow
from vaultexec.store.protocol import ExecutionStore
from vaultexec.store.redis import RedisStore, connect, member_of
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.redis import RedisServer, launch_redis


@pytest.fixture()
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test alone: fault tests stop and kill it."""
    with launch_redis(data_dir=tmp_path / "redis") as server:
        yield server


@pytest.mark.parametrize("crash", [False, True], ids=["sigterm", "sigkill"])
def test_redis_restart_loses_nothing_and_client_reconnects(private_redis: RedisServer, crash: bool) -> None:
    store = RedisStore(connect(private_redis.url), VAULT)
    trades = [make_trade(opened_at=T0 + timedelta(seconds=i)) for i in range(20)]
    for trade in trades:
        store.create(trade)
    store.update(started(trades[0]))

    private_redis.restart(kill=crash)

    assert store.export_all() == trades  # same client object: reconnected by itself
    store.update(broadcasted(trades[0]))
    assert store.load(trades[0].trade_id).get_status().value == "broadcasted"


def test_redis_write_during_outage_raises_and_is_not_half_applied(private_redis: RedisServer) -> None:
    store = RedisStore(connect(private_redis.url, socket_timeout=2.0), VAULT)
    before = started(make_trade())
    store.create(before)
    private_redis.stop()

    lost = make_trade()
    with pytest.raises(StoreUnavailableError, match="Redis store unreachable while trying to create trade"):
        store.create(lost)
    with pytest.raises(StoreUnavailableError, match=r"update trade|read the status"):
        store.update(broadcasted(before))
    with pytest.raises(StoreUnavailableError, match="Nothing was written") as read:
        store.load(before.trade_id)
    assert "write" not in str(read.value).replace("Nothing was written", "")  # a read says nothing of writes

    private_redis.start()
    assert store.load(before.trade_id).get_status().value == "started"  # the refused update did not land
    with pytest.raises(RecordNotFoundError):
        store.load(lost.trade_id)
    store.create(lost)  # the caller retries once Redis is back
    store.update(before)
    assert store.count() == 2


def test_redis_corrupt_record_is_named(redis_client: redis.Redis) -> None:
    store = RedisStore(redis_client, VAULT)
    good, bad = make_trade(opened_at=T0), make_trade(opened_at=T0 + timedelta(seconds=1))
    store.create(good)
    store.create(bad)
    redis_client.hset(f"vaultexec:{VAULT}:reports", member_of(bad.trade_id), '{"trade_id": 1, "bogus": 2}')
    with pytest.raises(CorruptRecordError, match=rf"Stored trade {bad.trade_id} of vault {VAULT} in Redis"):
        store.load(bad.trade_id)
    with pytest.raises(CorruptRecordError, match=rf"trade {bad.trade_id}"):
        store.export_all()
    assert store.load(good.trade_id) == good


BODY_MUTATIONS = ["unknown_field", "missing_field", "wrong_type", "not_json", "other_id", "time_out_of_range",
                  "huge_time", "deeply_nested", "not_utf8"]


def corrupt_body(trade: TradeExecution, mutation: str) -> str | bytes:
    """The trade's stored JSON, broken in one way a disk, a bug or a hand edit could break it."""
    body = dump_json(trade)
    opened = re.search(r'"opened_at": [^,]+', body)
    assert opened is not None
    mutations: dict[str, str | bytes] = {
        "unknown_field": body.replace('{"trade_id"', '{"surprise": 1, "trade_id"', 1),
        "missing_field": body.replace('"position_id": 1, ', "", 1),
        "wrong_type": body.replace('"position_id": 1', '"position_id": "one"', 1),
        "not_json": body[: len(body) // 2],
        "other_id": dump_json(make_trade()),
        "time_out_of_range": body.replace(opened.group(0), '"opened_at": 1e300'),  # OverflowError
        "huge_time": body.replace(opened.group(0), '"opened_at": 99999999999999999999'),
        "deeply_nested": body.replace('"notes": null', '"notes": ' + "[" * 100_000 + "]" * 100_000),  # recursion
        "not_utf8": body.encode()[:-1] + b"\xff}",
    }
    return mutations[mutation]


@pytest.mark.parametrize("mutation", BODY_MUTATIONS)
def test_sqlite_corrupt_record_is_named(sqlite_path: Path, mutation: str) -> None:
    store = SQLiteStore(sqlite_path, VAULT)
    trade = make_trade()
    store.create(trade)
    corrupt = corrupt_body(trade, mutation)
    assert corrupt != dump_json(trade)
    with sqlite3.connect(sqlite_path) as raw:
        raw.execute("UPDATE trades SET body=? WHERE trade_id=?", (corrupt, trade.trade_id))
    expected = rf"Stored trade {trade.trade_id} of vault {VAULT} in SQLite {sqlite_path}"
    with pytest.raises(CorruptRecordError, match=expected):
        store.load(trade.trade_id)
    with pytest.raises(CorruptRecordError, match=expected):
        store.export_all()


@pytest.mark.parametrize("mutation", BODY_MUTATIONS)
def test_redis_corrupt_body_is_named(redis_client: redis.Redis, mutation: str) -> None:
    store = RedisStore(redis_client, VAULT)
    trade = make_trade()
    store.create(trade)
    redis_client.hset(f"vaultexec:{VAULT}:reports", member_of(trade.trade_id), corrupt_body(trade, mutation))
    expected = rf"Stored trade {trade.trade_id} of vault {VAULT} in Redis .* field {member_of(trade.trade_id)}"
    with pytest.raises(CorruptRecordError, match=expected):
        store.load(trade.trade_id)
    with pytest.raises(CorruptRecordError, match=expected):
        store.list_by_status("planned")


@pytest.mark.parametrize("entry", ["garbage{", "[1, 2]", '{"from": null}', "[" * 100_000,
                                   '{"from": null, "to": 7, "at_us": 1, "reason": null}',
                                   '{"from": null, "to": "planned", "at_us": 1e300, "reason": null}',
                                   '{"from": null, "to": "planned", "at_us": 99999999999999999999, "reason": null}'])
def test_redis_corrupt_history_entry_is_named(redis_client: redis.Redis, entry: str) -> None:
    store = RedisStore(redis_client, VAULT)
    trade = make_trade()
    store.create(trade)
    key = f"vaultexec:{VAULT}:history:{member_of(trade.trade_id)}"
    redis_client.rpush(key, entry)
    with pytest.raises(CorruptRecordError, match=rf"History of trade {trade.trade_id} of vault {VAULT} in Redis "
                                                 rf".* list {key} holds an entry"):
        store.history(trade.trade_id)
    assert store.load(trade.trade_id) == trade


@pytest.mark.parametrize("index", ["by_time", "by_status:planned"])
def test_redis_index_member_that_is_no_trade_id_is_named(redis_client: redis.Redis, index: str) -> None:
    store = RedisStore(redis_client, VAULT)
    store.create(make_trade(opened_at=T0))
    key = f"vaultexec:{VAULT}:{index}"
    redis_client.zadd(key, {"not-a-trade": 1})
    expected = rf"Vault {VAULT}: Redis .* holds member 'not-a-trade', which is not a trade id"
    with pytest.raises(CorruptRecordError, match=expected):
        store.export_all() if index == "by_time" else store.list_by_status("planned")


@pytest.mark.parametrize("at_us", ["yesterday", 10**30, None])
def test_sqlite_corrupt_history_row_is_named(sqlite_path: Path, at_us: object) -> None:
    store = SQLiteStore(sqlite_path, VAULT)
    trade = make_trade()
    store.create(trade)
    with sqlite3.connect(sqlite_path) as raw:
        raw.execute("PRAGMA ignore_check_constraints=1")
        raw.execute("UPDATE transitions SET at_us=? WHERE trade_id=?",
                    (str(at_us) if at_us is not None else "", trade.trade_id))
    with pytest.raises(CorruptRecordError, match=rf"History of trade {trade.trade_id} of vault {VAULT} in SQLite"):
        store.history(trade.trade_id)


def _writer(path: str, worker: int, count: int, shared_ids: list[int]) -> None:
    """Child process: creates its own trades, then races the other process on the shared ones."""
    store = SQLiteStore(path, VAULT)
    for i in range(count):
        trade = started(make_trade(trade_id=1_000_000 * worker + i, opened_at=T0 + timedelta(seconds=i)))
        store.create(trade)
        store.update(broadcasted(trade))
        store.update(succeeded(trade))
    for trade_id in shared_ids:
        with contextlib.suppress(DuplicateRecordError):
            store.create(make_trade(trade_id=trade_id, quantity=Decimal(worker)))
    store.close()


def test_sqlite_two_processes_lose_and_tear_nothing(sqlite_path: Path) -> None:
    count, shared = 150, list(range(500, 560))
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(sqlite_path), w, count, shared)) for w in (1, 2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
        assert process.exitcode == 0
    store: ExecutionStore = SQLiteStore(sqlite_path, VAULT)
    everything = store.export_all()  # every body loads strictly: no torn record
    assert store.count() == len(everything) == 2 * count + len(shared)
    for worker in (1, 2):
        for i in range(count):
            trade = store.load(1_000_000 * worker + i)
            assert trade.get_status().value == "success"
            assert [t.to_status for t in store.history(trade.trade_id)] == ["started", "broadcasted",
                                                                            "success"]
    for trade_id in shared:  # exactly one process won each race, and only one create is recorded
        assert len(store.history(trade_id)) == 1


class InterleavedRedisStore(RedisStore):
    """Runs `between` once after the record was read and checked, before it is written: a writer that
    got in between, at the worst moment, on a real server."""

    between: Callable[[], None] | None = None

    def _check_keeps_hashes(self, row: StoredRow, stored_body: bytes | None) -> StoredRow:
        stored = super()._check_keeps_hashes(row, stored_body)
        step, self.between = self.between, None
        if step is not None:
            step()
        return stored


@pytest.mark.parametrize("batch", [False, True], ids=["update", "update_many"])
def test_redis_replacement_stored_by_another_writer_in_between_is_not_erased(redis_client: redis.Redis,
                                                                            batch: bool) -> None:
    """Same status before and after, so only the record itself tells that the other writer got in."""
    trade = broadcasted(started(make_trade()))
    other = RedisStore(redis_client, VAULT)
    other.create(trade)
    stale = copy.deepcopy(trade)
    trade.blockchain_transactions[0].set_signed("0x" + "fe" * 32, "0x02f9" + "cd" * 100, 7)  # fee bump
    slow = InterleavedRedisStore(redis_client, VAULT)
    slow.between = lambda: other.update(trade)
    with pytest.raises(StoreTransitionError, match=r"drops transaction hash.*0xfefe"):
        slow.update_many([stale]) if batch else slow.update(stale)
    assert store_hashes(other, trade.trade_id) == {"0x" + "fe" * 32, stale.blockchain_transactions[0].tx_hash}


def store_hashes(store: ExecutionStore, trade_id: int) -> set[str | None]:
    return {h for tx in store.load(trade_id).blockchain_transactions for h in tx.get_all_tx_hashes()}
