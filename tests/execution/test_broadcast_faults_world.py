"""The executor on the world when the node refuses or lags: a stuck trade the wallet cannot pay to replace,
receipts served late, a transaction refused at its first broadcast (no nonce gap left behind)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.broadcast import TrackerConfig
from vaultexec.execution.executor import PlannedTrade, VaultExecutionModel, default_tracker_config
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.model.transaction import TxState
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.faultproxy import FaultProxy
from vaultexec.testing.world import World

from exec_pipeline import make_executor, make_trade, pair, register_world, world_pairs  # isort: skip
from test_executor import balances, executed_events, raw_changes  # isort: skip

RECEIPT_LAG = 1.5


class LaggingReceipts(FaultProxy):
    """A node whose receipts show up `RECEIPT_LAG` s after its nonce and its transaction-by-hash do
    (a load-balanced provider): every receipt is answered null until that long after it was first asked."""

    def __init__(self, upstream_url: str) -> None:
        super().__init__(upstream_url)
        self.first_seen: dict[str, float] = {}
        self.hidden = 0

    def rewrite_reply(self, request: dict[str, Any], reply: dict[str, Any]) -> None:
        if request.get("method") != "eth_getTransactionReceipt" or not reply.get("result"):
            return
        seen = self.first_seen.setdefault(request["params"][0], time.monotonic())
        if time.monotonic() - seen < RECEIPT_LAG:
            reply["result"] = None
            self.hidden += 1


def executor_for(url: str, world: World, vault: Contract, tmp_path: Path, tracker: TrackerConfig | None = None,
                 on_stage: object = None) -> VaultExecutionModel:
    register_world(world.addresses)
    return make_executor(url, vault.address, world.chain_id, world_pairs(world.addresses),
                         SQLiteStore(tmp_path / "store.db", vault.address), RunState(), on_stage,  # type: ignore[arg-type]
                         tracker)


@pytest.fixture()
def automine(anvil: AnvilInstance) -> Iterator[None]:
    yield
    anvil.rpc("evm_setAutomine", [True])


def test_stuck_trade_the_wallet_cannot_pay_to_replace_settles_when_the_original_lands(
        web3: Web3, anvil: AnvilInstance, world: World, vault: Contract, asset_manager: LocalAccount,
        tmp_path: Path, automine: None) -> None:
    before, start_block = balances(world, vault), web3.eth.block_number + 1
    miner = threading.Timer(1.5, lambda: anvil.rpc("evm_mine"))

    def starve(stage: str, trades: Sequence[TradeExecution]) -> None:
        if stage == "signed":
            anvil.rpc("evm_setAutomine", [False])
        if stage == "broadcast":  # the original's worst case is paid, a 10 % bump is not
            tx = trades[0].blockchain_transactions[-1]
            assert tx.gas_limit is not None and tx.max_fee_per_gas is not None
            anvil.rpc("anvil_setBalance", [asset_manager.address, hex(tx.gas_limit * tx.max_fee_per_gas + 10**9)])
            miner.start()

    tracker = TrackerConfig(confirmations=0, poll_interval=0.05, timeout=20.0, stuck_after=0.3,
                            drop_check_after=0.5)
    executor = executor_for(anvil.url, world, vault, tmp_path, tracker, starve)
    [trade] = executor.execute_trades([make_trade(1, pair(world.addresses, "WETH", "USDC", 500), "1000")])
    miner.join()
    tx = trade.blockchain_transactions[-1]
    assert trade.get_status() is TradeStatus.success, trade.notes
    assert tx.replaced_tx_hashes == [] and tx.tx_state is TxState.confirmed
    assert executed_events(web3, vault, start_block) == 1
    after = balances(world, vault)
    assert raw_changes([trade]) == {s: after[s] - before[s] for s in after if after[s] != before[s]}
    assert executor.store.load(1).get_status() is TradeStatus.success
    assert executor.run_state.trades_failed == 0 and executor.run_state.trades_succeeded == 1
    assert executor.resume() == [] and not executor.repair().repaired


@pytest.mark.parametrize("config", ["default", "impatient"])
def test_receipts_served_late_do_not_fail_an_executed_trade(
        web3: Web3, anvil: AnvilInstance, world: World, vault: Contract, asset_manager: LocalAccount,
        tmp_path: Path, config: str) -> None:
    """With the defaults the wait alone is enough; an impatient config (0.2 s, 0 blocks) relies on the
    by-hash check: the transaction is in a block, so its receipt is waited for."""
    tracker = default_tracker_config(world.chain_id)
    if config == "impatient":
        tracker = TrackerConfig(poll_interval=0.05, timeout=30, drop_check_after=5.0, nonce_consumed_after=0.2,
                                nonce_consumed_blocks=0)
    start_block = web3.eth.block_number + 1
    with LaggingReceipts(anvil.url) as proxy:
        executor = executor_for(proxy.url, world, vault, tmp_path, tracker)
        [trade] = executor.execute_trades([make_trade(1, pair(world.addresses, "WETH", "USDC", 500), "1000")])
        assert proxy.hidden > 0
    assert trade.get_status() is TradeStatus.success, trade.notes
    assert executor.store.load(1).get_status() is TradeStatus.success
    assert executed_events(web3, vault, start_block) == 1


def test_refused_first_broadcast_gives_its_nonce_to_the_next_batch(
        web3: Web3, anvil: AnvilInstance, world: World, vault: Contract, asset_manager: LocalAccount,
        tmp_path: Path) -> None:
    drained: list[bool] = []

    def drain(stage: str, trades: Sequence[TradeExecution]) -> None:
        if stage == "signed" and not drained:  # the gas money is spent elsewhere after the funds check
            drained.append(True)
            anvil.rpc("anvil_setBalance", [asset_manager.address, hex(1)])

    nonce = web3.eth.get_transaction_count(asset_manager.address)
    executor = executor_for(anvil.url, world, vault, tmp_path, on_stage=drain)
    [first] = executor.execute_trades([make_trade(1, pair(world.addresses, "WETH", "USDC", 500), "1000")])
    assert first.is_failed() and "nothing was executed" in (first.notes or "")
    assert first.blockchain_transactions[-1].nonce == nonce
    anvil.rpc("anvil_setBalance", [asset_manager.address, hex(10**20)])
    [second] = executor.execute_trades([make_trade(2, pair(world.addresses, "WETH", "USDC"), "500")])
    assert second.is_success() and second.blockchain_transactions[-1].nonce == nonce  # the gap is reused
    assert web3.eth.get_transaction_count(asset_manager.address) == nonce + 1
    result = executor.repair([1])  # nonce taken by trade 2, none of trade 1's hashes landed
    assert [t.trade_id for t in result.repaired] == [1] and "used by another transaction" in (
        result.repaired[0].notes or "")


def test_refused_first_broadcast_with_later_nonces_in_flight_is_filled(
        web3: Web3, world: World, vault: Contract, asset_manager: LocalAccount, tmp_path: Path) -> None:
    a = world.addresses
    executor = executor_for(web3.provider.endpoint_uri, world, vault, tmp_path)  # type: ignore[attr-defined]
    trades = [make_trade(1, pair(a, "WETH", "USDC"), "500"), make_trade(2, pair(a, "WETH", "USDC", 500), "700")]
    routing = executor.planner.routing  # type: ignore[attr-defined]
    plan = routing.plan_trades(trades)
    first, second = plan.get_plan(1), plan.get_plan(2)
    # trade 1's gas limit is below the intrinsic gas of any transaction: the node refuses it at broadcast
    rigged = [PlannedTrade(trades[0], first.vault_calldata, 20_999, tuple(first.asset_deltas)),
              PlannedTrade(trades[1], second.vault_calldata, second.gas_limit, tuple(second.asset_deltas))]

    class Fixed:
        def plan_trades(self, planned: list[TradeExecution]) -> list[PlannedTrade]:
            return rigged

    executor.planner = Fixed()
    nonce = web3.eth.get_transaction_count(asset_manager.address)
    settled = {t.trade_id: t for t in executor.execute_trades(trades)}
    assert settled[1].is_failed() and "intrinsic gas too low" in (settled[1].notes or "")
    assert settled[2].is_success(), settled[2].notes  # not held back behind nonce `nonce`
    assert settled[2].blockchain_transactions[-1].nonce == nonce + 1
    assert web3.eth.get_transaction_count(asset_manager.address) == nonce + 2
    assert "filled by 0x" in (executor.store.load(1).blockchain_transactions[-1].notes or "")
