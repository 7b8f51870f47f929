"""The trade-executor adapter driven the way trade-executor's main loop drives an execution model, on the world.

The runner: `routing_state = routing_model.create_routing_state(universe, execution_model.
get_routing_state_details())`, `execution_model.set_pre_broadcast_state_sync_callback(store.sync)`, then
`execution_model.execute_trades(ts, state, trades, routing_model, routing_state, check_balances=...)`
(returns None, trades updated in place); at start-up `execution_model.repair_unconfirmed_trades(state)`;
unconfirmed trades again with `rebroadcast=True`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.broadcast import TrackerConfig
from vaultexec.chain.rpc import RPCClient, connect_web3
from vaultexec.chain.wallet import HotWallet
from vaultexec.dex.deployments import executor_router_map
from vaultexec.errors import BadInputError, SettlementError
from vaultexec.execution.executor import STAGE_BROADCAST, STAGE_SIGNED, ExecutorConfig
from vaultexec.execution.routing import VaultRouting
from vaultexec.integrations.trade_executor import (
    ExecutorTransaction,
    VaultExecutorExecutionModel,
    VaultRoutingModel,
    VaultTransactionBuilder,
)
from vaultexec.model.compat import trade_to_executor_dict
from vaultexec.model.trade import TradeExecution
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.plugin import ASSET_MANAGER_KEY
from vaultexec.testing.world import World

from exec_pipeline import FAST_RETRY, make_trade, pair, register_world, world_pairs  # isort: skip
from market_moves import push_weth_price_up  # isort: skip
from te_standins import StandInState, StandInTrade, TradeStatus  # isort: skip
from test_executor import SYMBOLS, balances  # isort: skip

TS = datetime.datetime(2026, 1, 1, 12)


class CrashError(Exception):
    """Stands for the process dying at a stage."""


def te_trades(world: World, trades: Sequence[TradeExecution]) -> list[StandInTrade]:
    """trade-executor trades (its JSON shape: factory address, fee fraction, kind) for our test trades."""
    routers = executor_router_map()
    return [StandInTrade(trade_to_executor_dict(t, routers)) for t in trades]


def build(web3: Web3, world: World, vault: Contract, tmp_path: Path, crash_at: str | None = None,
          hook: Callable[[str], None] | None = None) -> tuple[VaultExecutorExecutionModel, VaultRoutingModel]:
    """The adapter wired as an application would: one RPC client, our routing, the asset manager's wallet."""
    register_world(world.addresses)
    client = RPCClient(web3.provider.endpoint_uri, timeout=30, retry=FAST_RETRY)  # type: ignore[attr-defined]
    wallet = HotWallet.from_key(ASSET_MANAGER_KEY, world.chain_id)
    routing = VaultRouting(connect_web3(client), vault.address, wallet.address, world_pairs(world.addresses),
                           client=client)
    routing_model = VaultRoutingModel(routing, executor_router_map(), transaction_factory=ExecutorTransaction)
    config = ExecutorConfig(TrackerConfig(confirmations=0, poll_interval=0.05, timeout=30.0, stuck_after=60.0,
                                          drop_check_after=2.0, nonce_consumed_after=0.5, nonce_consumed_blocks=0))

    def crash(stage: str, trades: Sequence[TradeExecution]) -> None:
        if hook is not None:
            hook(stage)
        if stage == crash_at:
            raise CrashError(stage)

    store = SQLiteStore(tmp_path / "store.db", vault.address)
    tx_builder = VaultTransactionBuilder(web3, client, wallet, vault.address, ExecutorTransaction)
    model = VaultExecutorExecutionModel(client, vault.address, wallet, store, routing_model, web3=web3,
                                        tx_builder=tx_builder, config=config, on_stage=crash)
    return model, routing_model


def run_cycle(model: VaultExecutorExecutionModel, routing_model: VaultRoutingModel, state: StandInState,
              trades: list[StandInTrade], **kwargs: Any) -> None:
    """One cycle as trade-executor's runner does it."""
    routing_state = routing_model.create_routing_state(None, model.get_routing_state_details())
    assert model.execute_trades(TS, state, trades, routing_model, routing_state, check_balances=False,
                                **kwargs) is None


def raw_change(trade: StandInTrade, world: World, symbol: str) -> int:
    """What a settled trade-executor trade says the vault's balance of `symbol` did (raw units)."""
    ours = trade._data
    base, quote = ours["pair"]["base"], ours["pair"]["quote"]
    assert trade.executed_quantity is not None and trade.executed_reserve is not None
    if base["token_symbol"] == symbol:
        return int(trade.executed_quantity.scaleb(base["decimals"]))
    if quote["token_symbol"] == symbol:
        sign = -1 if trade.is_buy() else 1
        return sign * int(trade.executed_reserve.scaleb(quote["decimals"]))
    return 0


def test_cycles_of_buys_and_sells_through_the_vault(web3: Web3, world: World, vault: Contract,
                                                    asset_manager: LocalAccount, tmp_path: Path) -> None:
    model, routing_model = build(web3, world, vault, tmp_path)
    model.initialize()
    model.preflight_check()
    assert model.get_balance_address() == vault.address
    assert model.get_safe_latest_block() == web3.eth.block_number
    a = world.addresses
    buys = te_trades(world, [make_trade(1, pair(a, "WETH", "USDC"), "1000"),
                             make_trade(2, pair(a, "WETH", "USDC", 500), "2000")])
    sells = te_trades(world, [make_trade(3, pair(a, "WETH", "USDC", 3000), "1500", buy=False),
                              make_trade(4, pair(a, "WETH", "USDC"), "900", buy=False)])
    state = StandInState(buys + sells)
    synced: list[list[str]] = []
    model.set_pre_broadcast_state_sync_callback(lambda: synced.append(
        [f"{t.get_status().value}:{bool(t.blockchain_transactions[0].signed_bytes)}" for t in buys]))

    before = balances(world, vault)
    run_cycle(model, routing_model, state, buys)
    run_cycle(model, routing_model, state, sells)
    after = balances(world, vault)

    # The state was synced after signing and before anything was broadcast: signed bytes on started trades.
    assert synced[0] == ["started:True", "started:True"]
    for trade in buys + sells:
        assert trade.get_status() == TradeStatus.success, trade.get_revert_reason()
        tx = trade.blockchain_transactions[0]
        assert tx.status is True and tx.block_number and tx.tx_hash and tx.signed_bytes
        assert tx.contract_address == vault.address and tx.function_selector == "execute"
        assert isinstance(trade.executed_price, float) and trade.executed_price > 0
        assert trade.cost_of_gas is not None and trade.cost_of_gas > 0
        assert trade.executed_at is not None and trade.executed_at.tzinfo is None
    assert state.successes == [1, 2, 3, 4]
    # What trade-executor now believes equals what the vault's balances did, raw unit for raw unit.
    for symbol in SYMBOLS:
        assert sum(raw_change(t, world, symbol) for t in buys + sells) == after[symbol] - before[symbol]


def test_failing_trade_is_marked_failed_with_reason(web3: Web3, world: World, vault: Contract,
                                                    asset_manager: LocalAccount, tmp_path: Path) -> None:
    model, routing_model = build(web3, world, vault, tmp_path)
    a = world.addresses
    too_big = make_trade(6, pair(a, "WETH", "USDC", 500), "900000000")  # far more USDC than the vault holds
    trades = te_trades(world, [make_trade(5, pair(a, "WETH", "USDC"), "500"), too_big])
    state = StandInState(trades)
    nonce = web3.eth.get_transaction_count(asset_manager.address)
    run_cycle(model, routing_model, state, trades)
    good, bad = trades
    assert good.get_status() == TradeStatus.success
    assert bad.get_status() == TradeStatus.failed and bad.failed_at is not None
    assert bad.get_revert_reason(), "the failure carries its reason"
    assert not bad.blockchain_transactions[0].signed_bytes  # refused before signing: no gas spent
    assert web3.eth.get_transaction_count(asset_manager.address) == nonce + 1


def test_trade_reverting_on_chain_is_marked_failed_with_its_receipt(web3: Web3, world: World, vault: Contract,
                                                                    asset_manager: LocalAccount,
                                                                    tmp_path: Path) -> None:
    """Someone moves the pool after our trade was signed: it lands and reverts on the vault's minimum receive."""
    def move_market(stage: str) -> None:
        if stage == STAGE_SIGNED:
            push_weth_price_up(world, 500_000)

    model, routing_model = build(web3, world, vault, tmp_path, hook=move_market)
    trades = te_trades(world, [make_trade(13, pair(world.addresses, "WETH", "USDC"), "2000")])
    state = StandInState(trades)
    before = balances(world, vault)
    run_cycle(model, routing_model, state, trades, max_slippage=0.01)
    (trade,) = trades
    assert trade.get_status() == TradeStatus.failed and state.successes == []
    tx = trade.blockchain_transactions[0]
    assert tx.status is False and tx.block_number and tx.realised_gas_units_consumed  # landed, gas paid
    assert tx.revert_reason and trade.get_revert_reason() == tx.revert_reason
    assert balances(world, vault) == before  # a reverted trade moves nothing
    with pytest.raises(SettlementError, match="trade #13 failed"):  # trade-executor's stop_on_execution_failure
        routing_model.settle_trade(web3, state, trade, {}, stop_on_execution_failure=True)
    assert trade.get_status() == TradeStatus.failed  # settled once, not marked again


def test_crash_after_broadcast_then_repair_unconfirmed_trades(web3: Web3, world: World, vault: Contract,
                                                              asset_manager: LocalAccount, tmp_path: Path) -> None:
    model, routing_model = build(web3, world, vault, tmp_path, crash_at=STAGE_BROADCAST)
    a = world.addresses
    trades = te_trades(world, [make_trade(7, pair(a, "WETH", "USDC"), "700"),
                               make_trade(8, pair(a, "WETH", "USDC", 3000), "800", buy=False)])
    planned_never_signed = te_trades(world, [make_trade(9, pair(a, "WETH", "USDC"), "100")])[0]
    planned_never_signed.started_at = TS  # started by a run that died before setting it up
    state = StandInState([*trades, planned_never_signed])
    nonce = web3.eth.get_transaction_count(asset_manager.address)
    with pytest.raises(CrashError):
        run_cycle(model, routing_model, state, trades)
    assert [t.get_status() for t in trades] == [TradeStatus.broadcasted] * 2
    hashes = [t.blockchain_transactions[0].tx_hash for t in trades]

    restarted, _ = build(web3, world, vault, tmp_path)  # a new process: same store, no memory
    repaired = restarted.repair_unconfirmed_trades(state)
    assert sorted(t.trade_id for t in repaired) == [7, 8, 9]
    assert [t.get_status() for t in trades] == [TradeStatus.success] * 2
    assert [t.blockchain_transactions[0].tx_hash for t in trades] == hashes
    assert planned_never_signed.get_status() == TradeStatus.failed
    assert web3.eth.get_transaction_count(asset_manager.address) == nonce + 2  # nothing signed twice
    assert restarted.repair_unconfirmed_trades(state) == []


def test_rebroadcast_resends_stored_bytes_never_resigns(web3: Web3, world: World, vault: Contract,
                                                        asset_manager: LocalAccount, tmp_path: Path) -> None:
    model, routing_model = build(web3, world, vault, tmp_path, crash_at=STAGE_SIGNED)
    a = world.addresses
    trades = te_trades(world, [make_trade(10, pair(a, "WETH", "USDC", 500), "600")])
    state = StandInState(trades)
    nonce = web3.eth.get_transaction_count(asset_manager.address)
    with pytest.raises(CrashError):
        run_cycle(model, routing_model, state, trades)
    (trade,) = trades
    signed = trade.blockchain_transactions[0].signed_bytes
    assert signed and web3.eth.get_transaction_count(asset_manager.address) == nonce  # signed, never sent

    restarted, restarted_routing = build(web3, world, vault, tmp_path)
    run_cycle(restarted, restarted_routing, state, trades, rebroadcast=True)
    assert trade.get_status() == TradeStatus.success
    assert trade.blockchain_transactions[0].signed_bytes == signed
    assert web3.eth.get_transaction_count(asset_manager.address) == nonce + 1
    assert state.successes == [10]

    unknown = te_trades(world, [make_trade(11, pair(a, "WETH", "USDC"), "10")])
    with pytest.raises(BadInputError, match="never signed here"):
        run_cycle(restarted, restarted_routing, StandInState(unknown), unknown, rebroadcast=True)


def test_arguments_in_vaultexec_order_are_a_clear_error_and_builder_addresses(web3: Web3, world: World, vault: Contract,
                                             asset_manager: LocalAccount, tmp_path: Path) -> None:
    model, routing_model = build(web3, world, vault, tmp_path)
    trades = te_trades(world, [make_trade(12, pair(world.addresses, "WETH", "USDC"), "10")])
    state = StandInState(trades)
    routing_state = routing_model.create_routing_state(None, model.get_routing_state_details())
    with pytest.raises(BadInputError, match="timestamp first"):
        model.execute_trades(trades, TS, state, routing_model, routing_state)  # type: ignore[arg-type]
    assert trades[0].get_status() == TradeStatus.planned
    builder = model.tx_builder
    assert builder.get_token_delivery_address() == vault.address
    assert builder.get_gas_wallet_address() == asset_manager.address
    assert builder.get_gas_wallet_balance() > Decimal(0)


class TEAssetDelta:
    """trade-executor's AssetDelta: token address and signed raw amount."""

    def __init__(self, asset: str, raw_amount: int) -> None:
        self.asset = asset
        self.raw_amount = raw_amount


def test_tx_builder_signs_a_router_swap_as_the_vaults_execute(web3: Web3, world: World, vault: Contract,
                                                              asset_manager: LocalAccount, tmp_path: Path) -> None:
    """trade-executor's router hands the builder a bound swap; the vault executes it within the deltas' bounds."""
    model, _ = build(web3, world, vault, tmp_path)
    builder = model.tx_builder
    builder.init()
    usdc, weth = world.addresses.tokens["USDC"], world.addresses.tokens["WETH"]
    router = world.uniswap_v2_router
    amount_in = 1_000 * 10**6
    quoted = router.functions.getAmountsOut(amount_in, [usdc, weth]).call()[-1]
    swap = router.functions.swapExactTokensForTokens(amount_in, quoted * 99 // 100, [usdc, weth], vault.address,
                                                     2**40)
    before = balances(world, vault)
    tx = builder.sign_transaction(router, swap, gas_limit=600_000,
                                  asset_deltas=[TEAssetDelta(usdc, -amount_in), TEAssetDelta(weth, quoted * 99 // 100)],
                                  notes="te swap")
    assert isinstance(tx, ExecutorTransaction) and tx.contract_address == vault.address
    assert tx.from_address == asset_manager.address and tx.function_selector == "execute"
    sent = web3.eth.send_raw_transaction(bytes.fromhex(tx.signed_bytes[2:]))
    assert "0x" + sent.hex().removeprefix("0x") == tx.tx_hash
    assert web3.eth.wait_for_transaction_receipt(sent)["status"] == 1
    after = balances(world, vault)
    assert before["USDC"] - after["USDC"] == amount_in
    assert after["WETH"] - before["WETH"] == quoted  # nothing moved in the pool between quote and swap
    assert world.token("USDC").functions.allowance(vault.address, router.address).call() == 0
