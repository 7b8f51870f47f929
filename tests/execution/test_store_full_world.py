"""The store fills up mid-batch (issue 13, item 3): after broadcast, tracking goes on; resume() settles later.

The disk is a size-limited SQLite file (`PRAGMA max_page_count` on the store's connection, free pages filled),
filled once the batch is signed and stored: the "stored as broadcasted" write and the settlement writes fail
with SQLite's own "database or disk is full", which SQLite rolls back itself. Before the fix the second
ROLLBACK raised a raw OperationalError that aborted execute_trades mid-flight.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.execution.executor import STAGE_SIGNED
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.world import World

from crash_worker import batch  # isort: skip
from exec_pipeline import make_executor, register_world, world_pairs  # isort: skip
from test_executor import SYMBOLS, balances, executed_events, raw_changes  # isort: skip


def _fill(store: SQLiteStore) -> None:
    conn = store._conn
    conn.execute("CREATE TABLE filler (blob BLOB)")
    conn.execute(f"PRAGMA max_page_count={conn.execute('PRAGMA page_count').fetchone()[0]}")
    for size in (4096, 512, 64, 8):
        try:
            while True:
                conn.execute("INSERT INTO filler VALUES (randomblob(?))", (size,))
        except Exception:
            pass


def test_disk_full_after_signing_keeps_tracking_and_resume_settles(web3: Web3, world: World, vault: Contract,
                                                                    asset_manager: LocalAccount, tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    register_world(world.addresses)
    store = SQLiteStore(tmp_path / "store.db", vault.address)
    before, start_block = balances(world, vault), web3.eth.block_number + 1

    def on_stage(stage: str, trades: Sequence[TradeExecution]) -> None:
        if stage == STAGE_SIGNED:
            _fill(store)

    executor = make_executor(web3.provider.endpoint_uri, vault.address, world.chain_id,  # type: ignore[attr-defined]
                             world_pairs(world.addresses), store, on_stage=on_stage)
    with caplog.at_level(logging.ERROR):
        done = executor.execute_trades(batch(world.addresses))
    assert [t.get_status() for t in done] == [TradeStatus.success] * len(done)  # tracked and settled in memory
    assert executed_events(web3, vault, start_block) == len(done)
    assert "database or disk is full" in caplog.text and "cannot rollback" not in caplog.text
    assert all(t.is_pending() for t in store.export_all())  # the store could not record more

    store._conn.execute("DROP TABLE filler")
    store._conn.execute("PRAGMA max_page_count=1073741823")
    executor.on_stage = lambda stage, trades: None
    settled = executor.resume()
    assert sorted(t.trade_id for t in settled) == sorted(t.trade_id for t in done)
    stored = store.export_all()
    assert [t.get_status() for t in stored] == [TradeStatus.success] * len(done)
    assert executed_events(web3, vault, start_block) == len(done)
    after = balances(world, vault)
    assert raw_changes(stored) == {s: after[s] - before[s] for s in SYMBOLS if after[s] != before[s]}
