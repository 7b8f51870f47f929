"""Routing with `venue="direct"`: the same trades as the router path, sent as `executeDirect` through the
world's pools, settled exact to the raw unit from the vault's `Executed` event and the pools' logs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.revert import fetch_revert
from vaultexec.errors import ConfigurationError, GuardRefusedError
from vaultexec.execution.executor import VaultExecutionModel
from vaultexec.execution.routing import VaultRouting
from vaultexec.execution.routing_direct import Venue, parse_venue
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeStatus
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.world import World
from vaultexec.vault.direct import DirectProtocol, encode_execute_direct_call, execute_direct_signature

from exec_pipeline import make_executor, make_trade, pair, register_world, world_pairs  # isort: skip
from test_executor import balances, raw_changes  # isort: skip
from test_vault_reverts_world import send  # isort: skip

#: (protocol, symbol a, symbol b, fee) of every world pool the trades below use.
POOLS = ((DirectProtocol.UNISWAP_V2, "WETH", "USDC", 3000), (DirectProtocol.UNISWAP_V3, "WETH", "USDC", 500),
         (DirectProtocol.UNISWAP_V3, "WETH", "USDC", 3000), (DirectProtocol.UNISWAP_V3, "WBTC", "WETH", 3000))


@pytest.fixture()
def direct_executor(web3: Web3, world: World, vault: Contract, asset_manager: LocalAccount,
                    tmp_path: Path) -> VaultExecutionModel:
    for protocol, a, b, fee in POOLS:
        factory = world.uniswap_v2_factory if protocol is DirectProtocol.UNISWAP_V2 else world.uniswap_v3_factory
        vault.functions.setDirectPoolAllowed(factory.address, protocol, world.token(a).address,
                                             world.token(b).address, fee, True).transact({"from": world.deployer})
    register_world(world.addresses)
    executor = make_executor(web3.provider.endpoint_uri, vault.address, world.chain_id,  # type: ignore[attr-defined]
                             world_pairs(world.addresses), SQLiteStore(tmp_path / "store.db", vault.address),
                             RunState())
    return executor  # the default venue (auto) takes the direct path: the vault allows every pool


def routing_of(executor: VaultExecutionModel) -> VaultRouting:
    routing = executor.planner.routing  # type: ignore[attr-defined]
    assert isinstance(routing, VaultRouting)
    return routing


def test_direct_batch_settles_to_exact_balance_changes(web3: Web3, world: World, vault: Contract,
                                                       direct_executor: VaultExecutionModel) -> None:
    a = world.addresses
    trades = [
        make_trade(1, pair(a, "WETH", "USDC"), "1000"),                   # V2 buy
        make_trade(2, pair(a, "WETH", "USDC", 500), "2000"),              # V3 buy
        make_trade(3, pair(a, "WETH", "USDC", 3000), "1500", buy=False),  # V3 sell
        make_trade(4, pair(a, "WETH", "USDC"), "900", buy=False),         # V2 sell
        make_trade(5, pair(a, "WBTC", "WETH", 3000), "2"),                # V3 buy of WBTC with WETH
    ]
    before = balances(world, vault)
    settled = direct_executor.execute_trades(trades)
    after = balances(world, vault)
    assert [t.get_status() for t in settled] == [TradeStatus.success] * 5
    expected = {s: after[s] - before[s] for s in after}
    assert raw_changes(settled) == {s: v for s, v in expected.items() if v != 0}
    for trade in settled:
        tx = trade.blockchain_transactions[-1]
        assert tx.function_selector == "executeDirect"
        assert tx.tx_hash is not None
        assert bytes(web3.eth.get_transaction(HexStr(tx.tx_hash))["input"])[:4] == execute_direct_signature()[0]
        assert trade.lp_fees_paid is not None and trade.lp_fees_paid > 0


def test_router_on_request_and_direct_refused_where_not_allowed(web3: Web3, world: World, vault: Contract,
                                                               direct_executor: VaultExecutionModel) -> None:
    routing = routing_of(direct_executor)
    assert routing.venue is Venue.AUTO
    routing.venue = Venue.ROUTER
    plan = routing.plan_trades([make_trade(1, pair(world.addresses, "WETH", "USDC", 500), "100")]).plans[0]
    assert plan.direct_route is None and len(plan.calls) == 2  # approve + router swap
    # USDT/USDC 0.05% is not allowed on the direct path: `direct` refuses it with what to do, `auto` routes.
    usdt_trade = make_trade(2, pair(world.addresses, "USDT", "USDC", 500), "100")
    routing.venue = Venue.DIRECT
    nonce = web3.eth.get_transaction_count(routing.asset_manager)
    with pytest.raises(GuardRefusedError, match="setDirectPoolAllowed"):
        routing.plan_trades([usdt_trade])
    routing.venue = Venue.AUTO
    assert routing.plan_trades([usdt_trade]).plans[0].direct_route is None
    assert web3.eth.get_transaction_count(routing.asset_manager) == nonce


def test_unknown_venue_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="auto, router, direct"):
        parse_venue("pools")


def test_a_reverted_direct_trade_is_decoded(world: World, direct_executor: VaultExecutionModel) -> None:
    """Revert decoding works the same on the direct path: the route's own minimum, with its numbers."""
    plan = routing_of(direct_executor).plan_trades(
        [make_trade(1, pair(world.addresses, "WETH", "USDC", 500), "1000")]).plans[0]
    assert plan.direct_route is not None
    too_much = plan.direct_route.amount_out_min * 1000
    route = replace(plan.direct_route, amount_out_min=too_much)
    tx = send(direct_executor, encode_execute_direct_call([route], plan.max_spend, plan.min_receive), 400_000)
    decoded = fetch_revert(direct_executor.client, str(tx.tx_hash))
    assert decoded.kind == "custom" and decoded.name == "RouteOutputTooLow", decoded
    assert decoded.args["amountOutMin"] == too_much and 0 < decoded.args["amountOut"] < too_much
    assert tx.revert_reason == str(decoded)
