"""Acceptance: every route planned, pre-flighted and executed through the real vault on the world."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_account.signers.local import LocalAccount
from test_routing_helpers import make_trade, send_plan, world_pairs
from web3 import Web3
from web3.contract import Contract

from vaultexec.execution import VaultRouting
from vaultexec.testing.world import World

ROUTES = ["v2", "v2_router02", "v2_three_way", "v3", "v3_router02", "v3_two_hop", "v3_two_hop_v1"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("buy", [True, False], ids=["buy", "sell"])
def test_route_planned_and_executed(web3: Web3, world: World, vault: Contract, asset_manager: LocalAccount,
                                    route: str, buy: bool) -> None:
    pairs = world_pairs(world)
    pair = pairs[route]
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()))
    trade = make_trade(1, pair, Decimal(30_000), buy=buy)
    plan = routing.setup_trades([trade]).plans[0]

    assert trade.is_started() and len(trade.blockchain_transactions) == 1
    tx = trade.blockchain_transactions[0]
    assert tx.contract_address == vault.address and tx.from_address == asset_manager.address
    assert tx.function_selector == "execute" and tx.gas_limit == plan.gas_limit
    assert plan.simulation is not None and plan.simulation.success
    assert trade.planned_mid_price is not None and trade.lp_fees_estimated is not None
    # Price paid is worse than the mid price (fees + impact) on both sides, in quote per base.
    if buy:
        assert trade.planned_price > trade.planned_mid_price
    else:
        assert trade.planned_price < trade.planned_mid_price
    world_price = Decimal(60000 if pair.base.token_symbol == "WBTC" else 3000)
    assert abs(trade.planned_mid_price / world_price - 1) < Decimal("0.01")

    event = send_plan(web3, asset_manager, plan, vault)
    spend, receive = plan.asset_deltas
    assert event["spendAssets"] == [spend.asset.address]
    assert event["spent"] == [-spend.raw_amount]
    assert event["receiveAssets"] == [receive.asset.address]
    assert event["received"][0] >= receive.raw_amount
    # Nothing moved on chain between the quote and the send: the output is exactly the quote.
    assert event["received"][0] == plan.expected_out_raw
    assert event["gasUsed"] <= plan.gas_limit
