"""Each configured pool is checked against the router's factory, inside the batch's one read request.

A wrong pool_address used to give a wrong mid price silently (or none, when the read failed): the swap
goes through (router, tokens, fee), the mid price came from pair.pool_address.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from eth_account.signers.local import LocalAccount
from test_routing_helpers import make_trade, send_plan, world_pairs
from web3 import Web3
from web3.contract import Contract

from vaultexec.dex.deployments import Deployment
from vaultexec.errors import ConfigurationError
from vaultexec.execution import VaultRouting
from vaultexec.model import TradingPairIdentifier
from vaultexec.testing.protocol import load_protocol_artifact
from vaultexec.testing.world import World
from vaultexec.vault.deploy import RouterKind


def _wrong(world: World, route: str) -> tuple[TradingPairIdentifier, str]:
    """A pair of `route` configured with another pool, and the pool the factory really has."""
    pairs = world_pairs(world)
    if route == "v2":
        return dataclasses.replace(pairs["v2"], pool_address=world.v2_pair("WETH", "WBTC")), pairs["v2"].pool_address
    if route == "v3":
        return (dataclasses.replace(pairs["v3"], pool_address=world.v3_pool("WETH", "WBTC", 500)),
                pairs["v3"].pool_address)
    if route == "v3-not-a-pool":
        return dataclasses.replace(pairs["v3"], pool_address="0x000000000000000000000000000000000000dEaD"), \
            pairs["v3"].pool_address
    # the intermediary hop of a two-hop route: WETH/USDC fee 3000 configured with the fee 500 pool
    middle = dataclasses.replace(pairs["v3_router02"], pool_address=world.v3_pool("USDC", "WETH", 500))
    return dataclasses.replace(pairs["v3_two_hop"], intermediary_pair=middle), pairs["v3_router02"].pool_address


@pytest.mark.parametrize("route", ["v2", "v3", "v3-not-a-pool", "v3-intermediary"])
@pytest.mark.parametrize("buy", [True, False], ids=["buy", "sell"])
def test_wrong_pool_address_is_refused(web3: Web3, world: World, vault: Contract, asset_manager: LocalAccount,
                                       route: str, buy: bool) -> None:
    pair, real = _wrong(world, route)
    configured = pair.pool_address if route != "v3-intermediary" else world.v3_pool("USDC", "WETH", 500)
    trade = make_trade(1, pair, Decimal(1000), buy=buy)
    before = trade.to_json()
    with pytest.raises(ConfigurationError) as info:
        VaultRouting(web3, vault.address, asset_manager.address, [pair]).plan_trades([trade])
    message = str(info.value)
    assert f"is configured with pool {configured}" in message and f"has {real}" in message, message
    assert "trade #1" in message and "fix the pair's pool_address" in message
    assert trade.to_json() == before


def test_pool_the_factory_does_not_have(web3: Web3, world: World, vault: Contract,
                                        asset_manager: LocalAccount) -> None:
    pair = dataclasses.replace(world_pairs(world)["v3"], fee=100)  # no WETH/USDC 0.01 % pool in the world
    with pytest.raises(ConfigurationError, match=r"has no such pool for WETH/USDC fee 100"):
        VaultRouting(web3, vault.address, asset_manager.address, [pair]).plan_trades(
            [make_trade(1, pair, Decimal(1000))])


def test_registered_factory_must_be_the_routers(web3: Web3, world: World, vault: Contract,
                                                asset_manager: LocalAccount) -> None:
    a = world.addresses
    wrong = Deployment(a.chain_id, "wrong", v2_factory=a.uniswap_v3_factory, v2_router=a.uniswap_v2_router)
    pair = world_pairs(world)["v2"]
    routing = VaultRouting(web3, vault.address, asset_manager.address, [pair], deployment=wrong)
    with pytest.raises(ConfigurationError, match=rf"pools of factory {a.uniswap_v2_factory}, but the registered "
                                                 rf"deployment says {a.uniswap_v3_factory}"):
        routing.plan_trades([make_trade(1, pair, Decimal(1000))])


def test_checking_pools_costs_no_extra_round_trip(web3: Web3, world: World, vault: Contract,
                                                  asset_manager: LocalAccount) -> None:
    pairs = world_pairs(world)
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()))
    for trade_id in (1, 2):  # first batch confirms the registered factories, the second reuses them
        trades = [make_trade(trade_id * 10 + n, pair, Decimal(1000)) for n, pair in enumerate(pairs.values())]
        plan = routing.plan_trades(trades)
        assert (plan.rpc_requests, plan.http_round_trips) == (4, 2)  # the loss check rides with the pre-flight


def test_unregistered_router_reads_its_factory_once(web3: Web3, world: World, vault: Contract,
                                                    asset_manager: LocalAccount, deployer: str) -> None:
    """A V2 router no deployment knows: its factory is read from the router, one round trip, once."""
    artifact = load_protocol_artifact("UniswapV2Router02")
    receipt = web3.eth.wait_for_transaction_receipt(
        web3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        .constructor(world.uniswap_v2_factory.address, world.weth.address).transact({"from": deployer}))
    router = receipt["contractAddress"]
    assert router is not None
    vault.functions.setRouter(router, int(RouterKind.UNISWAP_V2)).transact({"from": deployer})
    vault.functions.setPoolAllowed(router, world.usdc.address, world.weth.address, 0, True).transact(
        {"from": deployer})
    pair = dataclasses.replace(world_pairs(world)["v2"], exchange_address=router)
    routing = VaultRouting(web3, vault.address, asset_manager.address, [pair])

    first = routing.plan_trades([make_trade(1, pair, Decimal(1000))])
    second = routing.plan_trades([make_trade(2, pair, Decimal(1000))])
    assert (first.rpc_requests, first.http_round_trips) == (5, 3)  # + the router's factory
    assert (second.rpc_requests, second.http_round_trips) == (4, 2)
    send_plan(web3, asset_manager, second.plans[0], vault)

    wrong_pool = dataclasses.replace(pair, pool_address=world.v2_pair("WETH", "WBTC"))
    with pytest.raises(ConfigurationError, match=f"factory {world.uniswap_v2_factory.address} of router {router}"):
        VaultRouting(web3, vault.address, asset_manager.address, [wrong_pool]).plan_trades(
            [make_trade(3, wrong_pool, Decimal(1000))])
