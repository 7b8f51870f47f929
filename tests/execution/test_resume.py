"""resume() and repair() on the world, and the pipeline under faults: dropped, stuck, reorged, flaky HTTP.

An in-process "crash" is an exception raised from the executor's stage hook: everything after it never
runs, and a fresh executor on the same store plays the restarted process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.broadcast import TrackerConfig
from vaultexec.execution.executor import VaultExecutionModel
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.anvil import AnvilInstance, AnvilOptions, find_anvil
from vaultexec.testing.faultproxy import Fault, FaultProxy
from vaultexec.testing.plugin import CODE_SIZE_LIMIT
from vaultexec.testing.world import World

from exec_pipeline import make_executor, make_trade, pair, register_world, world_pairs  # isort: skip
from test_executor import SYMBOLS, balances, executed_events, raw_changes  # isort: skip


class SimulatedCrashError(Exception):
    """Stands for the process dying at a stage."""


def batch(world: World) -> list[TradeExecution]:
    a = world.addresses
    return [make_trade(1, pair(a, "WETH", "USDC"), "700"),
            make_trade(2, pair(a, "WETH", "USDC", 500), "900", buy=False),
            make_trade(3, pair(a, "WETH", "USDC", 3000), "400")]


def new_executor(anvil: AnvilInstance, world: World, vault: Contract, tmp_path: Path, url: str | None = None,
                 crash_at: str | None = None, tracker: TrackerConfig | None = None,
                 on_stage: object = None) -> VaultExecutionModel:
    register_world(world.addresses)

    def hook(stage: str, trades: Sequence[TradeExecution]) -> None:
        if callable(on_stage):
            on_stage(stage, trades)
        if stage == crash_at:
            raise SimulatedCrashError(stage)

    return make_executor(url or anvil.url, vault.address, world.chain_id, world_pairs(world.addresses),
                         SQLiteStore(tmp_path / "store.db", vault.address), RunState(), hook, tracker)


def crash(executor: VaultExecutionModel, trades: list[TradeExecution]) -> None:
    with pytest.raises(SimulatedCrashError):
        executor.execute_trades(trades)


def assert_all_settled_once(web3: Web3, world: World, vault: Contract, executor: VaultExecutionModel,
                            before: dict[str, int], start_block: int, count: int = 3) -> None:
    trades = executor.store.export_all()
    assert [t.get_status() for t in trades] == [TradeStatus.success] * count
    assert executed_events(web3, vault, start_block) == count
    after = balances(world, vault)
    assert raw_changes(trades) == {s: after[s] - before[s] for s in SYMBOLS if after[s] != before[s]}


def test_resume_rebroadcasts_dropped_transactions(web3: Web3, anvil: AnvilInstance, world: World, vault: Contract,
                                                  asset_manager: LocalAccount, tmp_path: Path) -> None:
    before, start_block = balances(world, vault), web3.eth.block_number + 1
    anvil.rpc("evm_setAutomine", [False])
    try:
        crash(new_executor(anvil, world, vault, tmp_path, crash_at="broadcast"), batch(world))
        stored = new_executor(anvil, world, vault, tmp_path).get_pending_trades()
        hashes = [t.blockchain_transactions[-1].tx_hash for t in stored]
        for tx_hash in hashes:
            anvil.rpc("anvil_dropTransaction", [tx_hash])
        assert all(anvil.rpc("eth_getTransactionByHash", [h]) is None for h in hashes)
    finally:
        anvil.rpc("evm_setAutomine", [True])
    restarted = new_executor(anvil, world, vault, tmp_path)
    settled = restarted.resume()
    assert [t.get_status() for t in settled] == [TradeStatus.success] * 3
    assert [t.blockchain_transactions[-1].tx_hash for t in settled] == hashes  # the same bytes, re-sent
    assert_all_settled_once(web3, world, vault, restarted, before, start_block)


def test_resume_fails_trade_whose_nonce_another_transaction_used(
        web3: Web3, anvil: AnvilInstance, world: World, vault: Contract, asset_manager: LocalAccount,
        tmp_path: Path) -> None:
    start_block = web3.eth.block_number + 1
    crash(new_executor(anvil, world, vault, tmp_path, crash_at="signed"), batch(world))
    first = min(new_executor(anvil, world, vault, tmp_path).get_pending_trades(),
                key=lambda t: t.blockchain_transactions[-1].nonce or 0)
    nonce = first.blockchain_transactions[-1].nonce
    # The key is used elsewhere: a plain transfer takes the first trade's nonce.
    other = asset_manager.sign_transaction({"to": asset_manager.address, "value": 1, "gas": 21000, "nonce": nonce,
                                            "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9,
                                            "chainId": world.chain_id})
    web3.eth.send_raw_transaction(other.raw_transaction)

    restarted = new_executor(anvil, world, vault, tmp_path)
    settled = {t.trade_id: t for t in restarted.resume()}
    assert settled[first.trade_id].is_failed()
    failed_tx = settled[first.trade_id].blockchain_transactions[-1]
    assert "used by another transaction" in (failed_tx.get_revert_reason() or "")
    assert "used by another transaction" in (restarted.store.load(first.trade_id).notes or "")
    assert [settled[i].is_success() for i in sorted(settled) if i != first.trade_id] == [True, True]
    assert executed_events(web3, vault, start_block) == 2
    assert restarted.run_state.trades_failed == 1

    result = restarted.repair()
    assert [t.trade_id for t in result.repaired] == [first.trade_id] and not result.refused
    assert restarted.store.load(first.trade_id).get_status() is TradeStatus.repaired
    assert restarted.run_state.trades_repaired == 1


def test_repair_refuses_a_trade_that_could_still_land(web3: Web3, anvil: AnvilInstance, world: World,
                                                      vault: Contract, asset_manager: LocalAccount,
                                                      tmp_path: Path) -> None:
    before, start_block = balances(world, vault), web3.eth.block_number + 1
    crash(new_executor(anvil, world, vault, tmp_path, crash_at="signed"), batch(world))
    restarted = new_executor(anvil, world, vault, tmp_path)
    result = restarted.repair()
    assert sorted(result.refused) == [1, 2, 3] and not result.repaired
    assert all("could still land" in reason for reason in result.refused.values())
    assert [t.get_status() for t in restarted.resume()] == [TradeStatus.success] * 3
    assert_all_settled_once(web3, world, vault, restarted, before, start_block)


def test_transient_http_faults_are_retried_without_double_execution(
        web3: Web3, anvil: AnvilInstance, world: World, vault: Contract, asset_manager: LocalAccount,
        tmp_path: Path) -> None:
    before, start_block = balances(world, vault), web3.eth.block_number + 1
    with FaultProxy(anvil.url) as proxy:
        def inject(stage: str, trades: Sequence[TradeExecution]) -> None:
            if stage == "signed":  # the next requests: the broadcast batch, then tracking
                proxy.inject(Fault.lose_answer(), Fault.http_error(500), Fault.rate_limited("0"), Fault.drop(),
                             Fault.http_error(503))

        executor = new_executor(anvil, world, vault, tmp_path, url=proxy.url, on_stage=inject)
        settled = executor.execute_trades(batch(world))
        assert len(proxy.faults_applied) == 5
    assert [t.get_status() for t in settled] == [TradeStatus.success] * 3
    assert executor.client.stats.retries >= 4
    assert_all_settled_once(web3, world, vault, executor, before, start_block)


def test_stuck_transactions_are_replaced_and_the_replacement_stored_first(
        web3: Web3, anvil: AnvilInstance, world: World, vault: Contract, asset_manager: LocalAccount,
        tmp_path: Path) -> None:
    before, start_block = balances(world, vault), web3.eth.block_number + 1

    def raise_base_fee(stage: str, trades: Sequence[TradeExecution]) -> None:
        if stage == "signed":  # signed with the old fees; the market moves before they are sent
            anvil.rpc("anvil_setNextBlockBaseFeePerGas", [hex(200 * 10**9)])
            anvil.rpc("evm_mine")

    tracker = TrackerConfig(confirmations=0, poll_interval=0.05, timeout=30.0, stuck_after=0.3,
                            drop_check_after=1.0)
    executor = new_executor(anvil, world, vault, tmp_path, tracker=tracker, on_stage=raise_base_fee)
    settled = executor.execute_trades(batch(world))
    assert [t.get_status() for t in settled] == [TradeStatus.success] * 3
    for trade in settled:
        tx = trade.blockchain_transactions[-1]
        assert tx.replaced_tx_hashes, "the first fee version cannot have landed"
        assert tx.max_fee_per_gas is not None and tx.max_fee_per_gas > 200 * 10**9
        stored = executor.store.load(trade.trade_id).blockchain_transactions[-1]
        assert stored.get_all_tx_hashes()[-1] == tx.tx_hash and stored.replaced_tx_hashes
    assert_all_settled_once(web3, world, vault, executor, before, start_block)


def test_reorg_after_receipts_were_seen_settles_on_the_new_chain(
        web3: Web3, anvil: AnvilInstance, world: World, vault: Contract, asset_manager: LocalAccount,
        tmp_path: Path) -> None:
    before, start_block = balances(world, vault), web3.eth.block_number + 1
    snapshots: list[str] = []
    reorged: list[bool] = []

    def reorg(stage: str, trades: Sequence[TradeExecution]) -> None:
        if stage == "signed":
            snapshots.append(anvil.rpc("evm_snapshot"))
        if stage == "tracked" and not reorged:  # receipts seen, not settled yet: the blocks vanish
            assert all(t.blockchain_transactions[-1].block_number for t in trades)
            assert anvil.rpc("evm_revert", [snapshots[0]])
            reorged.append(True)

    executor = new_executor(anvil, world, vault, tmp_path, on_stage=reorg)
    settled = executor.execute_trades(batch(world))
    assert reorged
    assert [t.get_status() for t in settled] == [TradeStatus.success] * 3
    assert_all_settled_once(web3, world, vault, executor, before, start_block)


def test_node_stopped_and_restarted_mid_batch(web3: Web3, anvil: AnvilInstance, world: World, vault: Contract,
                                              asset_manager: LocalAccount, tmp_path: Path) -> None:
    """The executor's node goes down after signing and comes back (same state) a second later: the
    broadcast and tracking requests fail with connection refused, are retried, and the batch settles.

    (Stopped after the broadcast instead, anvil's state dump of a fork sometimes keeps the nonces but not
    the receipts, which the tracker rightly reads as "nonce used by another transaction".)"""
    state = tmp_path / "node-state.json"
    node = AnvilInstance(find_anvil(), AnvilOptions(chain_id=None, fork_url=anvil.url, code_size_limit=CODE_SIZE_LIMIT,
                                                    extra_args=["--dump-state", str(state)]))
    node.start()
    restarted: list[threading.Thread] = []

    def restart_later() -> None:
        time.sleep(1.0)
        node.options.load_state = str(state)
        node.requested_port = node.port
        node.start()

    def stop_node(stage: str, trades: Sequence[TradeExecution]) -> None:
        if stage == "signed":
            node.stop()  # SIGTERM: anvil dumps its state
            restarted.append(threading.Thread(target=restart_later))
            restarted[0].start()

    try:
        node_web3 = Web3(Web3.HTTPProvider(node.url))
        start_block = node_web3.eth.block_number + 1
        executor = new_executor(anvil, world, vault, tmp_path, url=node.url, on_stage=stop_node)
        settled = executor.execute_trades(batch(world))
        assert restarted and executor.client.stats.retries > 0
        assert [t.get_status() for t in settled] == [TradeStatus.success] * 3, [t.notes for t in settled]
        assert executed_events(node_web3, vault, start_block) == 3
    finally:
        for thread in restarted:
            thread.join()
        node.close()
