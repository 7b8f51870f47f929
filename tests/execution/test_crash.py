"""Crash tests: a real executor process SIGKILLed mid-batch, then resume() in a new process.

Every trade must settle exactly once: statuses in the store, one `Executed` event per trade, and the
vault's balance changes equal to what the settled trades say, raw unit for raw unit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.model.trade import TradeStatus
from vaultexec.store.factory import open_store
from vaultexec.store.protocol import ExecutionStore
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.redis import RedisServer, launch_redis
from vaultexec.testing.world import World

from exec_pipeline import sqlite_url  # isort: skip
from test_executor import SYMBOLS, balances, executed_events, raw_changes  # isort: skip

WORKER = Path(__file__).with_name("crash_worker.py")
TRADES = 4


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with launch_redis() as server:
        yield server


def run_worker(*args: str, expect_killed: bool = False) -> dict[str, str]:
    done = subprocess.run([sys.executable, str(WORKER), *args], capture_output=True, text=True, timeout=120)
    if expect_killed:
        assert done.returncode == -9, f"worker was not killed: rc {done.returncode}\n{done.stderr[-3000:]}"
        return {}
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def write_config(tmp_path: Path, anvil: AnvilInstance, vault: Contract, world: World, store_url: str) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"url": anvil.url, "vault": vault.address, "store_url": store_url,
                                "addresses": world.addresses.to_dict()}))
    return str(path)


def check_settled_once(web3: Web3, world: World, vault: Contract, store: ExecutionStore,
                       before: dict[str, int], start_block: int) -> None:
    trades = store.export_all()
    assert sorted(t.trade_id for t in trades) == list(range(1, TRADES + 1))
    assert [t.get_status() for t in trades] == [TradeStatus.success] * TRADES
    assert executed_events(web3, vault, start_block) == TRADES
    after = balances(world, vault)
    assert raw_changes(trades) == {s: after[s] - before[s] for s in SYMBOLS if after[s] != before[s]}


@pytest.mark.parametrize("stage", ["signed", "broadcast", "tracked"])
def test_sigkill_then_resume_settles_every_trade_once(stage: str, web3: Web3, anvil: AnvilInstance, world: World,
                                                      vault: Contract, asset_manager: LocalAccount,
                                                      tmp_path: Path) -> None:
    store_url = sqlite_url(tmp_path / "store.db")
    config = write_config(tmp_path, anvil, vault, world, store_url)
    before, start_block = balances(world, vault), web3.eth.block_number + 1
    nonce_before = web3.eth.get_transaction_count(asset_manager.address)

    run_worker("execute", config, stage, expect_killed=True)
    store = open_store(store_url, vault.address)
    crashed = store.export_all()
    assert len(crashed) == TRADES and all(t.is_pending() for t in crashed)
    assert all(t.blockchain_transactions[-1].signed_bytes for t in crashed)  # written ahead
    sent = web3.eth.get_transaction_count(asset_manager.address) - nonce_before
    assert sent == (0 if stage == "signed" else TRADES)

    statuses = run_worker("resume", config)
    assert statuses == {str(i): "success" for i in range(1, TRADES + 1)}
    check_settled_once(web3, world, vault, store, before, start_block)
    assert web3.eth.get_transaction_count(asset_manager.address) - nonce_before == TRADES

    # A second start-up finds nothing to do and sends nothing.
    assert run_worker("resume", config) == {}
    assert executed_events(web3, vault, start_block) == TRADES


def test_sigkill_with_redis_store(web3: Web3, anvil: AnvilInstance, world: World, vault: Contract,
                                  asset_manager: LocalAccount, tmp_path: Path, redis_server: RedisServer) -> None:
    config = write_config(tmp_path, anvil, vault, world, redis_server.url)
    before, start_block = balances(world, vault), web3.eth.block_number + 1
    run_worker("execute", config, "broadcast", expect_killed=True)
    assert run_worker("resume", config) == {str(i): "success" for i in range(1, TRADES + 1)}
    check_settled_once(web3, world, vault, open_store(redis_server.url, vault.address), before, start_block)


def test_next_run_after_crash_resumes_before_trading(web3: Web3, anvil: AnvilInstance, world: World,
                                                     vault: Contract, asset_manager: LocalAccount,
                                                     tmp_path: Path) -> None:
    """Crash after signing; the next run starts with resume(), which re-sends the stored bytes, and then
    its own batch (same trade ids) is refused by the store instead of executing twice."""
    store_url = sqlite_url(tmp_path / "store.db")
    config = write_config(tmp_path, anvil, vault, world, store_url)
    start_block = web3.eth.block_number + 1
    run_worker("execute", config, "signed", expect_killed=True)
    done = subprocess.run([sys.executable, str(WORKER), "execute", config, "none"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert "not planned" in done.stderr or "already stored" in done.stderr
    store = open_store(store_url, vault.address)
    assert [t.get_status() for t in store.export_all()] == [TradeStatus.success] * TRADES
    assert executed_events(web3, vault, start_block) == TRADES
