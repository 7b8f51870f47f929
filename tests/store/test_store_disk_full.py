"""Store faults are typed StoreErrors with the cause in the message (issue 13, item 3).

SQLite: a full disk (a size-limited file: `PRAGMA max_page_count` on the store's connection, the rest of the
allowed pages filled; and, where this may mount one, a small tmpfs), and a read-only file system. SQLite rolls
a failed transaction back itself there; our write must not run ROLLBACK again and hide the cause.
Redis: out of memory (maxmemory, noeviction) and a read-only replica.
"""

from __future__ import annotations

import copy
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlite_fill import fill_sqlite

from vaultexec.errors import StoreError, StoreUnavailableError
from vaultexec.model.trade import TradeExecution
from vaultexec.store.protocol import ExecutionStore
from vaultexec.store.redis import RedisStore
from vaultexec.store.sqlite import SQLiteStore

from store_samples import VAULT, broadcasted, make_trade, started, succeeded  # isort: skip

Write = Callable[[ExecutionStore], None]
SEEDED, SETTLED = 900_001, 900_002


def unfill_sqlite(store: SQLiteStore) -> None:
    store._conn.execute("DROP TABLE filler")
    store._conn.execute("PRAGMA max_page_count=1073741823")


def _grown(trade: TradeExecution) -> TradeExecution:
    """A later state of the trade with a longer body (as settlement adds receipts and notes)."""
    trade.add_note("settlement details " * 300)
    return trade


def _reorged(trade: TradeExecution) -> TradeExecution:
    trade.mark_reorged("block 100 reorged out")
    return trade


WRITES: dict[str, Write] = {
    "create": lambda s: s.create(started(make_trade())),
    "create_many": lambda s: s.create_many([started(make_trade()) for _ in range(3)]),
    "update": lambda s: s.update(_grown(broadcasted(copy.deepcopy(s.load(SEEDED))))),
    "update_many": lambda s: s.update_many([_grown(broadcasted(copy.deepcopy(s.load(SEEDED))))]),
    "revert_to_broadcasted": lambda s: s.revert_to_broadcasted(_grown(_reorged(copy.deepcopy(s.load(SETTLED)))),
                                                               "reorg"),
}


def _seed(store: ExecutionStore) -> None:
    store.create(started(make_trade(trade_id=SEEDED)))
    store.create(succeeded(broadcasted(started(make_trade(trade_id=SETTLED)))))


@pytest.mark.parametrize("write", WRITES)
def test_sqlite_disk_full_is_a_store_error_naming_the_cause(sqlite_path: Path, write: str) -> None:
    with SQLiteStore(sqlite_path, VAULT) as store:
        _seed(store)
        before = store.export_all()
        fill_sqlite(store)
        with pytest.raises(StoreUnavailableError, match=r"database or disk is full.*free space") as caught:
            for _ in range(200):  # a write that fits in a page's free bytes is fine; one that grows is refused
                WRITES[write](store)
                if write != "create" and write != "create_many":
                    break
        assert "cannot rollback" not in str(caught.value)
        assert store.export_all()[:2] == before or write == "revert_to_broadcasted"
        unfill_sqlite(store)
        WRITES["create"](store)  # space again: the store writes as before


@pytest.fixture()
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs (needs root and mount); skipped where it cannot be mounted."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_sqlite_on_a_full_tmpfs_commit_failure_is_a_store_error(small_tmpfs: Path) -> None:
    """A real full file system: the COMMIT (WAL append) fails and SQLite rolls back itself."""
    with SQLiteStore(small_tmpfs / "store.db", VAULT) as store:
        with pytest.raises(StoreUnavailableError, match="disk is full") as caught:
            for _ in range(10_000):
                store.create(started(make_trade()))
        assert "cannot rollback" not in str(caught.value)
        assert store.count() > 0  # what was stored before still reads


def test_sqlite_read_only_file_system_is_a_store_error(small_tmpfs: Path) -> None:
    SQLiteStore(small_tmpfs / "store.db", VAULT).close()
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    with pytest.raises(StoreError, match=r"(?i)read-?only"), SQLiteStore(small_tmpfs / "store.db", VAULT) as store:
        store.create(started(make_trade()))


def test_redis_out_of_memory_is_a_store_error(redis_client: redis.Redis) -> None:
    store = RedisStore(redis_client, VAULT)
    _seed(store)
    used = int(redis_client.info("memory")["used_memory"])
    redis_client.config_set("maxmemory-policy", "noeviction")
    redis_client.config_set("maxmemory", used + 1024)
    try:
        with pytest.raises(StoreError, match="OOM") as caught:
            for _ in range(100):
                store.create_many([started(make_trade()) for _ in range(20)])
        assert "create" in str(caught.value)
        with pytest.raises(StoreError, match="OOM"):
            store.update(broadcasted(copy.deepcopy(store.load(SEEDED))))
    finally:
        redis_client.config_set("maxmemory", 0)
    store.update(broadcasted(copy.deepcopy(store.load(SEEDED))))


def test_redis_read_only_replica_is_a_store_error(redis_client: redis.Redis) -> None:
    store = RedisStore(redis_client, VAULT)
    _seed(store)
    redis_client.execute_command("REPLICAOF", "127.0.0.1", "1")  # a master that does not exist: read-only
    try:
        for write in WRITES.values():
            with pytest.raises(StoreError, match=r"(?i)read only replica"):
                write(store)
        assert store.count() == 2
    finally:
        redis_client.execute_command("REPLICAOF", "NO", "ONE")
