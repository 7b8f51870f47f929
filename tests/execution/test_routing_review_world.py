"""Routing bugs found in the money-path review (on the world), each with the test that would have caught it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_account.signers.local import LocalAccount
from test_routing_helpers import make_trade, world_pairs
from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import PriceMovedError
from vaultexec.execution import VaultRouting
from vaultexec.testing.world import World

from market_moves import push_weth_price_up  # isort: skip



def test_price_guard_keeps_the_executor_decision_price_when_replanned(
        web3: Web3, world: World, vault: Contract, asset_manager: LocalAccount) -> None:
    """A re-plan (RoutingPlanner plans a batch again after a refusal) must judge the quote against the
    executor's decision price, not against the pool mid price the first plan read (which would let the
    price walk by planned_max_slippage on every re-plan)."""
    pairs = world_pairs(world)
    routing = VaultRouting(web3, vault.address, asset_manager.address, [pairs["v2"]])
    trade = make_trade(1, pairs["v2"], Decimal(3000))
    trade.planned_mid_price = Decimal(3000)
    trade.planned_max_slippage = Decimal("0.02")
    push_weth_price_up(world, 50_000)  # ~ +1 %: the quote is still within 2 % of 3000
    routing.plan_trades([trade])
    push_weth_price_up(world, 50_000)  # ~ +2 % more: beyond 2 % of the decision price
    with pytest.raises(PriceMovedError, match="from the decision price 3000"):
        routing.plan_trades([trade])
