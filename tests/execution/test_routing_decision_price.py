"""The price guard's reference does not drift when the executor re-prices a quoted trade through
`planned_price` only: the pool mid routing wrote into `planned_mid_price` is routing's, not the executor's.
A trade routing never quoted is judged on its own `planned_mid_price`, even when its `price_structure`
repeats it (the trading executor's trades do)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from test_routing_helpers import make_trade, world_pairs
from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import PriceMovedError
from vaultexec.execution import VaultRouting
from vaultexec.execution.plan import TradeQuote
from vaultexec.execution.price_guard import decision_price, price_guard
from vaultexec.execution.quoting import commit_quote, utcnow
from vaultexec.model import AssetIdentifier, ExchangeKind, TradingPairIdentifier
from vaultexec.model.compat import ExchangeRouter, RouterMap, trade_from_executor_json
from vaultexec.model.trade import TradeExecution, TradePricing
from vaultexec.testing.world import World

from market_moves import push_weth_price_up  # isort: skip

USDC = AssetIdentifier(31337, "0x" + "11" * 20, "USDC", 6)
WETH = AssetIdentifier(31337, "0x" + "22" * 20, "WETH", 18)
PAIR = TradingPairIdentifier(WETH, USDC, "0x" + "33" * 20, "0x" + "44" * 20, 500, ExchangeKind.uniswap_v3)


def _accepted_quote(trade: TradeExecution, price: Decimal, mid: Decimal) -> TradeQuote:
    """A quote the guard accepted, as routing builds it (the decision price it was judged against)."""
    pricing = TradePricing(price=price, mid_price=mid, lp_fee=[], pair_fee=[], side=True, read_at=utcnow(),
                           block_number=1, token_in=Decimal(3000), token_out=Decimal(1))
    guard = price_guard(trade)
    assert guard is not None
    return TradeQuote(Decimal(1), price, mid, Decimal(0), Decimal("0.0005"), pricing, guard[1])


def test_repricing_through_planned_price_keeps_the_reference() -> None:
    trade = make_trade(1, PAIR, Decimal(3000))
    trade.planned_price, trade.planned_max_slippage = Decimal(3000), Decimal("0.02")
    commit_quote(trade, _accepted_quote(trade, Decimal(3060), Decimal(3057)))  # +1.9 %: accepted
    assert decision_price(trade) == (Decimal(3000), "the decision price in notes")
    trade.planned_price = Decimal(3000)  # the executor re-decides at its price
    assert decision_price(trade) == (Decimal(3000), "planned_price")
    commit_quote(trade, _accepted_quote(trade, Decimal(3115), Decimal(3112)))  # +3.8 % from 3000
    trade.planned_price = Decimal(3000)
    assert decision_price(trade) == (Decimal(3000), "planned_price")


def test_a_mid_price_the_executor_sets_is_still_the_reference() -> None:
    trade = make_trade(1, PAIR, Decimal(3000))
    trade.planned_mid_price, trade.planned_max_slippage = Decimal(3000), Decimal("0.02")
    commit_quote(trade, _accepted_quote(trade, Decimal(3060), Decimal(3057)))
    trade.planned_mid_price = Decimal(3050)
    assert decision_price(trade) == (Decimal(3050), "planned_mid_price")



def test_price_cannot_walk_when_the_executor_reprices_planned_price(web3: Web3, world: World, vault: Contract,
                                                                    asset_manager: LocalAccount) -> None:
    pairs = world_pairs(world)
    routing = VaultRouting(web3, vault.address, asset_manager.address, [pairs["v2"]])
    trade = make_trade(1, pairs["v2"], Decimal(3000))
    trade.planned_price, trade.planned_max_slippage = Decimal(3000), Decimal("0.02")
    push_weth_price_up(world, 50_000)  # ~ +1 %: within 2 % of 3000
    routing.plan_trades([trade])
    assert trade.planned_mid_price is not None and trade.planned_mid_price > Decimal(3020), "the pool's mid now"
    trade.planned_price = Decimal(3000)  # the executor re-decides at the same price
    push_weth_price_up(world, 50_000)  # ~ +2.3 % from 3000, within 2 % of the first plan's pool mid
    with pytest.raises(PriceMovedError, match="from the decision price 3000"):
        routing.plan_trades([trade])


#: A trade as the trading executor hands it over: its `price_structure` repeats its planned mid price.
EXECUTOR_TRADE = Path(__file__).parents[1] / "model" / "data" / "executor_v3_buy.json"
MAINNET_V3 = RouterMap((ExchangeRouter(1, "0x1F98431c8aD98523631AE4a59f267346ea31F984",
                                       "0xE592427A0AEce92De3Edee1F18E0157C05861564", ExchangeKind.uniswap_v3),))


def test_an_executor_trade_routing_never_quoted_is_judged_on_its_mid_price() -> None:
    trade = trade_from_executor_json(EXECUTOR_TRADE.read_text(), MAINNET_V3)
    trade.planned_max_slippage = Decimal("0.01")
    assert trade.price_structure is not None and trade.price_structure.mid_price == trade.planned_mid_price
    assert trade.planned_mid_price == Decimal("2271.2975") and trade.planned_price == Decimal("2272.4331")
    assert decision_price(trade) == (Decimal("2271.2975"), "planned_mid_price")
    assert price_guard(trade) == (Decimal("0.01"), Decimal("2271.2975"))
