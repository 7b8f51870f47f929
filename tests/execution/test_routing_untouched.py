"""A refused plan leaves every trade of its batch exactly as it was, and the price guard keeps judging
against the executor's decision price: after a refusal, after a successful plan, across VaultRouting
instances and JSON round trips."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from decimal import Decimal

import pytest
from eth_account.signers.local import LocalAccount
from test_routing_helpers import make_trade, world_pairs
from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import (
    BadInputError,
    ConfigurationError,
    GuardRefusedError,
    InsufficientBalanceError,
    PreflightRefusedError,
    PriceMovedError,
    RouteNotFoundError,
    VaultExecError,
)
from vaultexec.execution import VaultRouting
from vaultexec.execution.routing import DECISION_NOTE
from vaultexec.model import TradeExecution, TradingPairIdentifier
from vaultexec.testing.world import World

from market_moves import push_weth_price_up  # isort: skip

Pairs = dict[str, TradingPairIdentifier]



def _good_sell(pairs: Pairs) -> TradeExecution:
    """A sell that plans fine; it runs first, so it is quoted before the culprit is refused."""
    trade = make_trade(1, pairs["v3"], Decimal(3000), buy=False)
    trade.planned_mid_price = Decimal(3000)
    trade.planned_max_slippage = Decimal("0.05")
    return trade


def _insufficient_balance(pairs: Pairs, vault: Contract, deployer: str, world: World) -> TradeExecution:
    return make_trade(2, pairs["v2"], Decimal(2_000_000))


def _spend_limit(pairs: Pairs, vault: Contract, deployer: str, world: World) -> TradeExecution:
    vault.functions.setSpendLimit(world.usdc.address, 500 * 10**6, 3600).transact({"from": deployer})
    return make_trade(2, pairs["v2"], Decimal(1000))


def _price_moved(pairs: Pairs, vault: Contract, deployer: str, world: World) -> TradeExecution:
    trade = make_trade(2, pairs["v2"], Decimal(1000))
    trade.planned_mid_price = Decimal(2500)
    trade.planned_max_slippage = Decimal("0.02")
    return trade


def _no_liquidity(pairs: Pairs, vault: Contract, deployer: str, world: World) -> TradeExecution:
    trade = make_trade(2, pairs["v2"], Decimal(1), buy=False)
    trade.planned_quantity = Decimal("-0.000000000000000001")
    return trade


def _preflight(pairs: Pairs, vault: Contract, deployer: str, world: World) -> TradeExecution:
    """A zero-tolerance buy after the batch's other zero-tolerance buy on the same pool: the simulation reverts."""
    return make_trade(3, pairs["v2"], Decimal(50_000), tolerance=Decimal(0))


def _wrong_pool(pairs: Pairs, vault: Contract, deployer: str, world: World) -> TradeExecution:
    pair = dataclasses.replace(pairs["v2"], pool_address=world.v2_pair("WETH", "WBTC"))
    return make_trade(2, pair, Decimal(1000))


def _bad_guard(pairs: Pairs, vault: Contract, deployer: str, world: World) -> TradeExecution:
    trade = make_trade(2, pairs["v2"], Decimal(1000))
    trade.planned_max_slippage = Decimal(5)
    return trade


CULPRITS: dict[str, tuple[Callable[[Pairs, Contract, str, World], TradeExecution], type[VaultExecError]]] = {
    "insufficient-balance": (_insufficient_balance, InsufficientBalanceError),
    "spend-limit": (_spend_limit, GuardRefusedError),
    "price-moved": (_price_moved, PriceMovedError),
    "no-liquidity": (_no_liquidity, RouteNotFoundError),
    "preflight": (_preflight, PreflightRefusedError),
    "wrong-pool": (_wrong_pool, ConfigurationError),
    "bad-input": (_bad_guard, BadInputError),
}


@pytest.mark.parametrize("culprit", CULPRITS)
def test_refused_batch_leaves_every_trade_as_it_was(web3: Web3, world: World, vault: Contract,
                                                    asset_manager: LocalAccount, deployer: str,
                                                    culprit: str) -> None:
    pairs = world_pairs(world)
    build, error = CULPRITS[culprit]
    trades = [_good_sell(pairs), build(pairs, vault, deployer, world)]
    if culprit == "preflight":
        trades.insert(1, make_trade(2, pairs["v2"], Decimal(50_000), tolerance=Decimal(0)))
    routing_pairs = list(pairs.values()) + [t.pair for t in trades if t.pair not in pairs.values()]
    before = [copy.deepcopy(t) for t in trades]
    before_json = [t.to_json() for t in trades]
    with pytest.raises(error):
        VaultRouting(web3, vault.address, asset_manager.address, routing_pairs).setup_trades(trades)
    for trade, old, old_json in zip(trades, before, before_json, strict=True):
        assert trade == old
        assert trade.to_json() == old_json
        assert trade.planned_mid_price == old.planned_mid_price and trade.price_structure is None


def test_refusal_does_not_move_the_decision_price(web3: Web3, world: World, vault: Contract,
                                                  asset_manager: LocalAccount, deployer: str) -> None:
    """The audit's bypass: a balance refusal after the quote left the pool's mid in planned_mid_price, and a
    new routing then accepted a quote +2.3 % from the executor's 3000 with planned_max_slippage 2 %."""
    pairs = world_pairs(world)
    usdc = world.usdc
    balance = usdc.functions.balanceOf(vault.address).call()
    trade = make_trade(1, pairs["v2"], Decimal(3000))
    trade.planned_mid_price = Decimal(3000)
    trade.planned_max_slippage = Decimal("0.02")
    vault.functions.withdraw(usdc.address, balance - 10 * 10**6).transact({"from": deployer})
    push_weth_price_up(world, 50_000)  # ~ +1 %: within the guard, refused for the balance
    with pytest.raises(InsufficientBalanceError):
        VaultRouting(web3, vault.address, asset_manager.address, [pairs["v2"]]).setup_trades([trade])
    world.fund("USDC", vault.address, balance)
    push_weth_price_up(world, 50_000)  # ~ +2.3 % from 3000
    with pytest.raises(PriceMovedError, match=r"\+2\.\d+% from the decision price 3000"):
        VaultRouting(web3, vault.address, asset_manager.address, [pairs["v2"]]).setup_trades([trade])
    assert trade.planned_mid_price == Decimal(3000) and trade.is_planned()


def test_replanned_after_success_in_a_new_routing_and_process(web3: Web3, world: World, vault: Contract,
                                                              asset_manager: LocalAccount) -> None:
    """A planned (quoted) trade, stored and loaded, planned again by a new VaultRouting: still judged against
    the executor's 3000, not against the first plan's pool prices."""
    pairs = world_pairs(world)
    trade = make_trade(1, pairs["v2"], Decimal(3000))
    trade.planned_mid_price = Decimal(3000)
    trade.planned_max_slippage = Decimal("0.02")
    push_weth_price_up(world, 50_000)
    VaultRouting(web3, vault.address, asset_manager.address, [pairs["v2"]]).plan_trades([trade])
    assert trade.planned_mid_price is not None and trade.planned_mid_price > Decimal(3020), "the pool's mid now"
    assert trade.notes == f"{DECISION_NOTE}3000 USDC per WETH (the executor's; the price guard judges re-plans " \
                          "against it)"
    reloaded = TradeExecution.from_json(trade.to_json())
    push_weth_price_up(world, 50_000)
    with pytest.raises(PriceMovedError, match="from the decision price 3000"):
        VaultRouting(web3, vault.address, asset_manager.address, [pairs["v2"]]).plan_trades([reloaded])


def test_replanned_within_the_guard_keeps_one_note(web3: Web3, world: World, vault: Contract,
                                                  asset_manager: LocalAccount) -> None:
    pairs = world_pairs(world)
    trade = make_trade(1, pairs["v3"], Decimal(3000))
    trade.planned_price = Decimal(3000)
    trade.planned_max_slippage = Decimal("0.01")
    routing = VaultRouting(web3, vault.address, asset_manager.address, [pairs["v3"]])
    routing.plan_trades([trade])
    VaultRouting(web3, vault.address, asset_manager.address, [pairs["v3"]]).plan_trades([trade])
    assert (trade.notes or "").count(DECISION_NOTE) == 1 and f"{DECISION_NOTE}3000 " in (trade.notes or "")


def test_executor_repriced_trade_is_judged_on_its_new_price(web3: Web3, world: World, vault: Contract,
                                                            asset_manager: LocalAccount) -> None:
    """The executor re-decides a quoted trade at the current price: the new price is the reference."""
    pairs = world_pairs(world)
    trade = make_trade(1, pairs["v2"], Decimal(3000))
    trade.planned_mid_price = Decimal(3000)
    trade.planned_max_slippage = Decimal("0.02")
    VaultRouting(web3, vault.address, asset_manager.address, [pairs["v2"]]).plan_trades([trade])
    push_weth_price_up(world, 150_000)  # ~ +7 %: beyond 2 % of 3000
    trade.planned_mid_price = Decimal(3210)
    VaultRouting(web3, vault.address, asset_manager.address, [pairs["v2"]]).plan_trades([trade])
    assert (trade.notes or "").splitlines()[-1].startswith(f"{DECISION_NOTE}3210 ")


def test_no_note_without_the_guard(web3: Web3, world: World, vault: Contract, asset_manager: LocalAccount) -> None:
    pairs = world_pairs(world)
    trade = make_trade(1, pairs["v3"], Decimal(3000))
    VaultRouting(web3, vault.address, asset_manager.address, [pairs["v3"]]).plan_trades([trade])
    assert trade.notes is None and trade.price_structure is not None
