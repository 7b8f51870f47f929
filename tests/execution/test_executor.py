"""The executor on the world: mixed batches settle to the vault's exact on-chain balance changes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import InsufficientBalanceError, RecordNotFoundError
from vaultexec.execution.executor import PlannedTrade, VaultExecutionModel
from vaultexec.execution.settle import EXECUTED_TOPIC
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.store.export import trade_row
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.world import World
from vaultexec.vault.execute import AssetBound, encode_execute

from exec_pipeline import make_executor, make_trade, pair, register_world, world_pairs  # isort: skip

SYMBOLS = ("USDC", "WETH", "WBTC", "USDT")


def balances(world: World, vault: Contract) -> dict[str, int]:
    return {s: int(world.token(s).functions.balanceOf(vault.address).call()) for s in SYMBOLS}


def executed_events(web3: Web3, vault: Contract, from_block: int) -> int:
    logs = web3.eth.get_logs({"address": vault.address, "fromBlock": from_block, "topics": [EXECUTED_TOPIC]})
    return len(logs)


def raw_changes(trades: list[TradeExecution]) -> dict[str, int]:
    """What the settled trades say the vault's balances did, in raw units."""
    changes: dict[str, int] = {}
    for trade in trades:
        assert trade.executed_quantity is not None and trade.executed_reserve is not None
        base, reserve = trade.pair.base, trade.reserve_currency
        quantity = base.convert_to_raw_floor(abs(trade.executed_quantity))
        reserve_raw = reserve.convert_to_raw_floor(trade.executed_reserve)
        assert base.convert_to_decimal(quantity) == abs(trade.executed_quantity)  # exact, nothing rounded away
        sign = 1 if trade.is_buy() else -1
        changes[base.token_symbol] = changes.get(base.token_symbol, 0) + sign * quantity
        changes[reserve.token_symbol] = changes.get(reserve.token_symbol, 0) - sign * reserve_raw
    return changes


@pytest.fixture()
def executor(web3: Web3, world: World, vault: Contract, asset_manager: LocalAccount,
             tmp_path: Path) -> VaultExecutionModel:
    register_world(world.addresses)
    store = SQLiteStore(tmp_path / "store.db", vault.address)
    return make_executor(web3.provider.endpoint_uri, vault.address, world.chain_id,  # type: ignore[attr-defined]
                         world_pairs(world.addresses), store, RunState())


def test_mixed_batch_settles_to_exact_balance_changes(web3: Web3, world: World, vault: Contract,
                                                      executor: VaultExecutionModel) -> None:
    a = world.addresses
    trades = [
        make_trade(1, pair(a, "WETH", "USDC"), "1000"),              # V2 buy
        make_trade(2, pair(a, "WETH", "USDC", 500), "2000"),         # V3 buy
        make_trade(3, pair(a, "WETH", "USDC", 3000), "1500", buy=False),  # V3 sell
        make_trade(4, pair(a, "WETH", "USDC"), "900", buy=False),    # V2 sell
        make_trade(5, pair(a, "WBTC", "WETH", 3000), "2", buy=True),  # V3 buy of WBTC with WETH
        make_trade(6, pair(a, "USDT", "USDC", 500), "5000", buy=False),
    ]
    before, start_block = balances(world, vault), web3.eth.block_number + 1
    settled = executor.execute_trades(trades)
    after = balances(world, vault)

    assert [t.get_status() for t in settled] == [TradeStatus.success] * 6
    assert [t.trade_id for t in settled[:3]] == [3, 4, 6]  # sells first
    expected = {s: after[s] - before[s] for s in SYMBOLS}
    assert raw_changes(settled) == {s: v for s, v in expected.items() if v != 0}
    assert executed_events(web3, vault, start_block) == 6
    assert executor.run_state.trades_succeeded == 6 and executor.run_state.trades_broadcast == 6

    for trade in settled:
        tx = trade.blockchain_transactions[-1]
        assert tx.realised_gas_units_consumed and tx.realised_gas_price is not None
        assert trade.lp_fees_paid is not None and trade.lp_fees_paid > 0
        assert trade.executed_price is not None
        # 0.05 % or 0.3 % of the reserve side, rounded up to the reserve's raw unit
        fee_fraction = Decimal(trade.pair.fee) / 1_000_000
        assert abs(trade.lp_fees_paid - fee_fraction * trade.executed_reserve) <= Decimal(2).scaleb(  # type: ignore[operator]
            -trade.reserve_currency.decimals)
        stored = executor.store.load(trade.trade_id)
        assert stored.get_status() is TradeStatus.success
        assert stored.executed_quantity == trade.executed_quantity


def test_refused_trade_fails_alone(web3: Web3, world: World, vault: Contract,
                                   executor: VaultExecutionModel) -> None:
    """A trade the vault cannot fund fails before signing; the others of the batch still execute."""
    a = world.addresses
    trades = [make_trade(1, pair(a, "WETH", "USDC"), "500"),
              make_trade(2, pair(a, "WETH", "USDC", 500), "50000000"),  # more USDC than the vault has
              make_trade(3, pair(a, "WETH", "USDC", 3000), "700")]
    nonce_before = web3.eth.get_transaction_count(executor.wallet.address)
    settled = {t.trade_id: t for t in executor.execute_trades(trades)}
    assert settled[1].is_success() and settled[3].is_success()
    assert settled[2].is_failed()
    assert settled[2].blockchain_transactions[-1].signed_bytes is None
    assert "50000000" in (settled[2].notes or "") or "holds" in (settled[2].notes or "")
    assert web3.eth.get_transaction_count(executor.wallet.address) == nonce_before + 2
    assert executor.run_state.trades_failed == 1 and 2 in executor.run_state.last_errors
    stored = executor.store.load(2)
    assert stored.is_failed()
    # issue 13, item 4: the refusal's reason is the trade's revert reason, also in the CSV
    reason = stored.get_revert_reason()
    assert reason is not None and ("50000000" in reason or "holds" in reason), stored.notes
    assert trade_row(stored)["revert_reason"] == reason


def test_reverting_trade_settles_failed_with_decoded_reason(web3: Web3, world: World, vault: Contract,
                                                            executor: VaultExecutionModel) -> None:
    """A trade that passes planning but reverts on chain: failed, reason decoded, the next trade unharmed."""
    a = world.addresses
    good, doomed = make_trade(1, pair(a, "WETH", "USDC"), "500"), make_trade(2, pair(a, "WETH", "USDC"), "500")
    routing = executor.planner.routing  # type: ignore[attr-defined]
    plan = routing.plan_trades([good, doomed])
    first, second = plan.get_plan(1), plan.get_plan(2)
    # Doom trade 2 after pre-flight: its minimum receive far above any possible output.
    too_much = [AssetBound(b.asset, b.amount * 1000) for b in second.min_receive]
    calldata = encode_execute(routing.vault, second.calls, second.max_spend, too_much)
    rigged = [PlannedTrade(good, first.vault_calldata, first.gas_limit, tuple(first.asset_deltas)),
              PlannedTrade(doomed, calldata, second.gas_limit, tuple(second.asset_deltas))]

    class Fixed:
        def plan_trades(self, trades: list[TradeExecution]) -> list[PlannedTrade]:
            return rigged

    executor.planner = Fixed()
    settled = {t.trade_id: t for t in executor.execute_trades([good, doomed])}
    assert settled[1].is_success()
    assert settled[2].is_failed()
    reason = settled[2].get_revert_reason() or ""
    assert "ReceiveTooLow" in reason, reason
    assert settled[2].blockchain_transactions[-1].revert_data
    assert executor.store.load(2).get_revert_reason() == reason


def test_hot_wallet_without_gas_money_signs_nothing(web3: Web3, world: World, vault: Contract,
                                                     asset_manager: LocalAccount,
                                                     executor: VaultExecutionModel) -> None:
    """Caught before signing: a broadcast refusal would leave a nonce gap behind the batch."""
    web3.provider.make_request("anvil_setBalance", [asset_manager.address, hex(10**12)])  # type: ignore[arg-type]
    nonce = web3.eth.get_transaction_count(asset_manager.address, "pending")
    trade = make_trade(1, pair(world.addresses, "WETH", "USDC", 500), "1000")
    with pytest.raises(InsufficientBalanceError, match=r"holds 0\.000001 of the native token.*Nothing was signed"):
        executor.execute_trades([trade])
    assert trade.is_planned() and trade.blockchain_transactions == []
    assert web3.eth.get_transaction_count(asset_manager.address, "pending") == nonce
    with pytest.raises(RecordNotFoundError):
        executor.store.load(1)
