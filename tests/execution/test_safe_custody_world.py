"""The whole execution path against a Safe-custody vault (our guard as a Safe module, `safe_vault`): batches of
buys and sells on V2, V3 and a two-hop route, router and direct paths, a refused and a reverting trade, resume
after a crash — settled to the Safe's exact balance changes, with nothing left at the module."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from vaultexec.execution.assembly import ExecutorParts, connect_parts, make_trade, next_trade_id
from vaultexec.execution.executor import PlannedTrade
from vaultexec.execution.markets import MarketRequest, MarketResolver
from vaultexec.execution.routing_direct import Venue
from vaultexec.execution.settle import EXECUTED_TOPIC
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.store.factory import open_store
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.executors import world_pairs
from vaultexec.testing.vaults import SafeCustodyVault
from vaultexec.testing.world import World
from vaultexec.vault.direct import DirectProtocol
from vaultexec.vault.execute import AssetBound, encode_execute
from vaultexec.vault.safe_module import execute_as_owners, module_call_tx

from exec_pipeline import sqlite_url  # isort: skip
from test_crash import run_worker, write_config  # isort: skip
from test_executor import SYMBOLS, raw_changes  # isort: skip

pytestmark = pytest.mark.local_world
SLIPPAGE = Decimal("0.01")


def balances(world: World, holder: str) -> dict[str, int]:
    return {s: int(world.token(s).functions.balanceOf(holder).call()) for s in SYMBOLS}


def executed_events(web3: Web3, module: str, from_block: int) -> int:
    return len(web3.eth.get_logs({"address": module, "fromBlock": from_block, "topics": [EXECUTED_TOPIC]}))


def assert_settled_to_the_safe(world: World, safe_vault: SafeCustodyVault, trades: list[TradeExecution],
                               before: dict[str, int], start_block: int) -> None:
    """Every trade success, one `Executed` per trade at the module, the Safe's balances moved by exactly what
    the trades say, nothing at the module, no allowance left from the Safe to any router."""
    assert [t.get_status() for t in trades] == [TradeStatus.success] * len(trades), [t.notes for t in trades]
    after = balances(world, safe_vault.custody)
    assert raw_changes(trades) == {s: after[s] - before[s] for s in SYMBOLS if after[s] != before[s]}
    assert executed_events(world.web3, safe_vault.address, start_block) == len(trades)
    assert balances(world, safe_vault.address) == dict.fromkeys(SYMBOLS, 0)
    routers = (world.uniswap_v2_router.address, world.swap_router.address, world.swap_router02.address)
    for symbol in SYMBOLS:
        for router in routers:
            assert world.token(symbol).functions.allowance(safe_vault.custody, router).call() == 0


@pytest.fixture()
def safe_parts(anvil: AnvilInstance, asset_manager: LocalAccount, safe_vault: SafeCustodyVault,
               tmp_path: Path) -> Iterator[ExecutorParts]:
    parts = connect_parts(anvil.url, asset_manager, safe_vault.address, sqlite_url(tmp_path / "safe.db"))
    yield parts
    parts.close()


def trade(parts: ExecutorParts, markets: MarketResolver, request: MarketRequest, amount: str,
          buy: bool = True, trade_id: int | None = None) -> TradeExecution:
    return make_trade(trade_id or next_trade_id(parts.store), markets.pair(request), buy, Decimal(amount), SLIPPAGE)


def test_batch_of_buys_and_sells_settles_to_the_safes_balances(world: World, safe_vault: SafeCustodyVault,
                                                               safe_parts: ExecutorParts,
                                                               world_markets: MarketResolver) -> None:
    model, _ = safe_parts.executor(world_pairs(world_markets))
    requests = [(MarketRequest("WETH", "USDC", "v2"), "1000", True),
                (MarketRequest("WETH", "USDC", "v3", 500), "2000", True),
                (MarketRequest("WETH", "USDC", "v3", 3000), "0.5", False),
                (MarketRequest("WETH", "USDC", "v2"), "0.3", False),
                (MarketRequest("WBTC", "USDC", "v3", 3000, via="WETH", via_fee=500), "3000", True)]
    trades = [trade(safe_parts, world_markets, request, amount, buy, trade_id=n + 1)
              for n, (request, amount, buy) in enumerate(requests)]
    before, start_block = balances(world, safe_vault.custody), world.web3.eth.block_number + 1
    settled = model.execute_trades(trades)
    assert_settled_to_the_safe(world, safe_vault, settled, before, start_block)
    assert model.run_state.trades_succeeded == 5
    # The settlement's price check values a checked trade at the module's oracle (its quoteLoss), as for our
    # vault (trades sharing a pool in one block are not checked).
    checked = [t.notes or "" for t in settled if "price check" in (t.notes or "") or "sandwich" in (t.notes or "")]
    assert checked and all("vault oracle price" in note for note in checked), checked


def test_direct_path_through_the_module(world: World, safe_vault: SafeCustodyVault, safe_parts: ExecutorParts,
                                        world_markets: MarketResolver) -> None:
    """`executeDirect`: the module calls the pools, the Safe pays them (V2 transfer, V3 callback)."""
    usdc, weth = world.usdc.address, world.weth.address
    for factory, protocol, fee in ((world.uniswap_v2_factory.address, DirectProtocol.UNISWAP_V2, 3000),
                                   (world.uniswap_v3_factory.address, DirectProtocol.UNISWAP_V3, 500)):
        tx = module_call_tx(safe_vault.safe.contract, safe_vault.module, "setDirectPoolAllowed", factory,
                            int(protocol), usdc, weth, fee, True)
        execute_as_owners(safe_vault.safe.contract, tx, safe_vault.safe.signers())
    model, _ = safe_parts.executor(world_pairs(world_markets), venue=Venue.DIRECT)
    trades = [trade(safe_parts, world_markets, MarketRequest("WETH", "USDC", "v2"), "1500", trade_id=1),
              trade(safe_parts, world_markets, MarketRequest("WETH", "USDC", "v3", 500), "0.4", False, trade_id=2)]
    before, start_block = balances(world, safe_vault.custody), world.web3.eth.block_number + 1
    settled = model.execute_trades(trades)
    assert all(t.blockchain_transactions[-1].function_selector == "executeDirect" for t in settled)
    assert_settled_to_the_safe(world, safe_vault, settled, before, start_block)


def test_refused_and_reverting_trades_fail_alone(world: World, safe_vault: SafeCustodyVault,
                                                 safe_parts: ExecutorParts, world_markets: MarketResolver) -> None:
    """More USDC than the Safe holds: refused before signing (balances are the Safe's). A trade doomed after
    pre-flight: reverts on chain with the module's decoded reason; the others settle."""
    model, planner = safe_parts.executor(world_pairs(world_markets))
    v2 = MarketRequest("WETH", "USDC", "v2")
    good, too_big = trade(safe_parts, world_markets, v2, "500", trade_id=1), trade(
        safe_parts, world_markets, v2, "50000000", trade_id=2)
    settled = {t.trade_id: t for t in model.execute_trades([good, too_big])}
    assert settled[1].is_success() and settled[2].is_failed()
    assert settled[2].blockchain_transactions[-1].signed_bytes is None

    ok, doomed = trade(safe_parts, world_markets, v2, "400", trade_id=3), trade(safe_parts, world_markets, v2,
                                                                                 "400", trade_id=4)
    routing = planner.routing
    plan = routing.plan_trades([ok, doomed])
    first, second = plan.get_plan(3), plan.get_plan(4)
    too_much = [AssetBound(b.asset, b.amount * 1000) for b in second.min_receive]
    calldata = encode_execute(routing.vault, second.calls, second.max_spend, too_much)
    rigged = [PlannedTrade(ok, first.vault_calldata, first.gas_limit, tuple(first.asset_deltas)),
              PlannedTrade(doomed, calldata, second.gas_limit, tuple(second.asset_deltas))]

    class Fixed:
        def plan_trades(self, trades: list[TradeExecution]) -> list[PlannedTrade]:
            return rigged

    model.planner = Fixed()
    before = balances(world, safe_vault.custody)
    done = {t.trade_id: t for t in model.execute_trades([ok, doomed])}
    assert done[3].is_success() and done[4].is_failed()
    assert "ReceiveTooLow" in (done[4].get_revert_reason() or ""), done[4].get_revert_reason()
    after = balances(world, safe_vault.custody)
    assert raw_changes([done[3]]) == {s: after[s] - before[s] for s in SYMBOLS if after[s] != before[s]}


@pytest.mark.parametrize("stage", ["broadcast"])
def test_crash_then_resume_settles_every_trade_once(stage: str, web3: Web3, anvil: AnvilInstance, world: World,
                                                    safe_vault: SafeCustodyVault, tmp_path: Path) -> None:
    store_url = sqlite_url(tmp_path / "store.db")
    config = write_config(tmp_path, anvil, safe_vault.module, world, store_url)
    before, start_block = balances(world, safe_vault.custody), web3.eth.block_number + 1
    run_worker("execute", config, stage, expect_killed=True)
    run_worker("resume", config)
    store = open_store(store_url, safe_vault.address)
    try:
        assert_settled_to_the_safe(world, safe_vault, sorted(store.export_all(), key=lambda t: t.trade_id),
                                   before, start_block)
    finally:
        store.close()
