"""The store fails mid-batch (issue 13, item 3): full, or read-only, at each stage of a batch.

Full: a size-limited SQLite file (`PRAGMA max_page_count` on the store's connection, free pages filled), so
writes fail with SQLite's own "database or disk is full", which SQLite rolls back itself (before the fix the
second ROLLBACK raised a raw OperationalError that aborted execute_trades mid-flight). Read-only: the store's
connection switched to `PRAGMA query_only` ("attempt to write a readonly database"). On Redis: out of memory
and a read-only replica. Before signing (stage planned) the batch is refused whole, nothing sent; after that
the transactions are out, tracking goes on, and resume() settles them once the store writes again. Books
exact either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import redis
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import StoreError, StoreUnavailableError
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.store.redis import RedisStore, connect
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.redis import RedisServer, launch_redis
from vaultexec.testing.world import World

from crash_worker import batch  # isort: skip
from sqlite_fill import fill_sqlite  # isort: skip
from exec_pipeline import make_executor, register_world, world_pairs  # isort: skip
from test_executor import SYMBOLS, balances, executed_events, raw_changes  # isort: skip


def break_store(store: SQLiteStore, fault: str) -> None:
    if fault == "full":
        fill_sqlite(store)
    else:
        store._conn.execute("PRAGMA query_only=ON")


def mend_store(store: SQLiteStore, fault: str) -> None:
    if fault == "full":
        store._conn.execute("DROP TABLE filler")
        store._conn.execute("PRAGMA max_page_count=1073741823")
    else:
        store._conn.execute("PRAGMA query_only=OFF")


CAUSE = {"full": "database or disk is full", "read_only": "readonly database"}


@pytest.mark.parametrize("stage", ["planned", "signed", "broadcast", "tracked"])
@pytest.mark.parametrize("fault", ["full", "read_only"])
def test_store_failing_at_each_stage(fault: str, stage: str, web3: Web3, world: World, vault: Contract,
                                     asset_manager: LocalAccount, tmp_path: Path,
                                     caplog: pytest.LogCaptureFixture) -> None:
    register_world(world.addresses)
    store = SQLiteStore(tmp_path / "store.db", vault.address)
    before, start_block = balances(world, vault), web3.eth.block_number + 1
    nonce_before = web3.eth.get_transaction_count(asset_manager.address)

    def on_stage(reached: str, trades: Sequence[TradeExecution]) -> None:
        if reached == stage:
            break_store(store, fault)

    executor = make_executor(web3.provider.endpoint_uri, vault.address, world.chain_id,  # type: ignore[attr-defined]
                             world_pairs(world.addresses), store, on_stage=on_stage)
    trades = batch(world.addresses)
    if stage == "planned":  # the write-ahead batch cannot be stored: refused whole, nothing signed or sent
        with pytest.raises(StoreUnavailableError, match=CAUSE[fault]) as caught:
            executor.execute_trades(trades)
        assert "cannot rollback" not in str(caught.value)
        assert web3.eth.get_transaction_count(asset_manager.address, "pending") == nonce_before
        assert store.count() == 0
        mend_store(store, fault)
        executor.on_stage = lambda reached, trades: None
        done = executor.execute_trades(batch(world.addresses))
    else:
        done = executor.execute_trades(trades)  # the transactions are out: tracked and settled in memory
        assert CAUSE[fault] in caplog.text and "cannot rollback" not in caplog.text
        assert all(t.is_pending() for t in store.export_all())  # the store could not record more
        mend_store(store, fault)
        executor.on_stage = lambda reached, trades: None
        assert sorted(t.trade_id for t in executor.resume()) == sorted(t.trade_id for t in done)
    assert [t.get_status() for t in done] == [TradeStatus.success] * len(done)
    stored = store.export_all()
    assert [t.get_status() for t in stored] == [TradeStatus.success] * len(done)
    assert executed_events(web3, vault, start_block) == len(done)
    assert web3.eth.get_transaction_count(asset_manager.address) == nonce_before + len(done)
    after = balances(world, vault)
    assert raw_changes(stored) == {s: after[s] - before[s] for s in SYMBOLS if after[s] != before[s]}


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with launch_redis() as server:
        yield server


REDIS_CAUSE = {"oom": "OOM", "read_only": "read only replica"}


def break_redis(client: redis.Redis, fault: str) -> None:
    if fault == "oom":
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("maxmemory", max(1, int(client.info("memory")["used_memory"]) // 2))
    else:
        client.execute_command("REPLICAOF", "127.0.0.1", "1")  # a primary that does not exist: read-only


def mend_redis(client: redis.Redis, fault: str) -> None:
    if fault == "oom":
        client.config_set("maxmemory", 0)
    else:
        client.execute_command("REPLICAOF", "NO", "ONE")


@pytest.mark.parametrize("stage", ["planned", "signed", "tracked"])
@pytest.mark.parametrize("fault", ["oom", "read_only"])
def test_redis_store_failing_at_each_stage(fault: str, stage: str, web3: Web3, world: World, vault: Contract,
                                           asset_manager: LocalAccount, redis_server: RedisServer,
                                           caplog: pytest.LogCaptureFixture) -> None:
    """The same on Redis: out of memory (maxmemory, noeviction) or turned into a read-only replica."""
    redis_server.start()
    admin = connect(redis_server.url)
    admin.flushdb()
    register_world(world.addresses)
    store = RedisStore(connect(redis_server.url), vault.address)
    before, start_block = balances(world, vault), web3.eth.block_number + 1
    nonce_before = web3.eth.get_transaction_count(asset_manager.address)

    def on_stage(reached: str, trades: Sequence[TradeExecution]) -> None:
        if reached == stage:
            break_redis(admin, fault)

    executor = make_executor(web3.provider.endpoint_uri, vault.address, world.chain_id,  # type: ignore[attr-defined]
                             world_pairs(world.addresses), store, on_stage=on_stage)
    try:
        if stage == "planned":
            with pytest.raises(StoreError, match=REDIS_CAUSE[fault]):
                executor.execute_trades(batch(world.addresses))
            assert web3.eth.get_transaction_count(asset_manager.address, "pending") == nonce_before
            mend_redis(admin, fault)
            executor.on_stage = lambda reached, trades: None
            done = executor.execute_trades(batch(world.addresses))
        else:
            done = executor.execute_trades(batch(world.addresses))
            assert REDIS_CAUSE[fault] in caplog.text
            mend_redis(admin, fault)
            executor.on_stage = lambda reached, trades: None
            assert sorted(t.trade_id for t in executor.resume()) == sorted(t.trade_id for t in done)
    finally:
        mend_redis(admin, fault)
    stored = store.export_all()
    assert [t.get_status() for t in stored] == [TradeStatus.success] * len(done)
    assert executed_events(web3, vault, start_block) == len(done)
    assert web3.eth.get_transaction_count(asset_manager.address) == nonce_before + len(done)
    after = balances(world, vault)
    assert raw_changes(stored) == {s: after[s] - before[s] for s in SYMBOLS if after[s] != before[s]}
