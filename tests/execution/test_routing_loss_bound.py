"""Routing checks the vault's oracle-priced loss bound before signing: a plan whose minimum receive could
lose more than the vault's per-trade cap (or its budget) is refused with the numbers; nothing is signed."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from eth_account.signers.local import LocalAccount
from test_routing_helpers import make_trade, world_pairs
from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.rpc import RPCClient, connect_web3
from vaultexec.errors import OracleLossRefusedError, SimulationRevertedError
from vaultexec.execution import VaultRouting
from vaultexec.model.identifiers import TradingPairIdentifier
from vaultexec.model.trade import TradeExecution
from vaultexec.testing.world import World

from test_sandwich_world import NoSimulateProxy  # isort: skip


def test_a_trade_the_vault_would_refuse_is_refused_before_signing(web3: Web3, world: World, vault: Contract,
                                                                  asset_manager: LocalAccount) -> None:
    pairs = world_pairs(world)
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()))
    # A 20 % slippage tolerance: the minimum receive is far below the 5 % the world vault may lose.
    trade = make_trade(1, pairs["v2"], Decimal(30_000), buy=False, tolerance=Decimal("0.2"))
    with pytest.raises(OracleLossRefusedError, match="per-trade cap of 500 bps") as info:
        routing.setup_trades([trade])
    assert Decimal(6_000) < info.value.loss < Decimal(6_300)  # 20 % of the ~$29,800 quoted, + fee and impact
    assert info.value.max_loss == Decimal(1_500)  # 5 % of $30,000
    assert not trade.is_started() and not trade.blockchain_transactions


def test_the_budget_left_is_shared_by_the_batch(web3: Web3, world: World, vault: Contract,
                                                asset_manager: LocalAccount, deployer: str) -> None:
    # A budget of $1,000 a day: two $30,000 sales at a 2 % tolerance may lose ~$750 each at their minimum.
    vault.functions.setLossBound(500, 1_000 * 10**18, 86_400).transact({"from": deployer})
    pairs = world_pairs(world)
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()))
    first = make_trade(1, pairs["v2"], Decimal(30_000), buy=False, tolerance=Decimal("0.02"))
    second = make_trade(2, pairs["v3"], Decimal(30_000), buy=False, tolerance=Decimal("0.02"))
    assert routing.plan_trades([first]).plans  # alone it fits
    with pytest.raises(OracleLossRefusedError, match="rolling loss budget") as info:
        routing.plan_trades([first, second])
    assert info.value.trade_id == 2


@pytest.mark.parametrize("node", ["eth_simulateV1", "eth_call", "no eth_simulateV1"])
def test_a_loss_refusal_drops_only_that_trade_from_the_batch(web3: Web3, world: World, vault: Contract,
                                                             asset_manager: LocalAccount, node: str) -> None:
    """In `plan_batch` (the executor's planning) the trade the loss bound refuses leaves the batch with that
    error; the others get exactly the plans of the batch without it. With eth_simulateV1 the loss check and
    the pre-flight go in one round trip; without (known, or learnt from the node's answer), one after the
    other."""
    pairs = world_pairs(world)
    with contextlib.ExitStack() as stack:
        if node == "no eth_simulateV1":
            proxy = stack.enter_context(NoSimulateProxy(web3.provider.endpoint_uri))  # type: ignore[attr-defined]
            web3 = connect_web3(RPCClient(proxy.url))
        routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()),
                               use_simulate=False if node == "eth_call" else None)
        check_loss_refusal_drops_only_that_trade(routing, pairs)
        assert routing.runner.use_simulate is (node == "eth_simulateV1")


def check_loss_refusal_drops_only_that_trade(routing: VaultRouting, pairs: dict[str, TradingPairIdentifier]) -> None:

    def fine() -> list[TradeExecution]:
        return [make_trade(2, pairs["v3"], Decimal(10_000), buy=False, tolerance=Decimal("0.01")),
                make_trade(3, pairs["v2"], Decimal(5_000), buy=True, tolerance=Decimal("0.01"))]

    greedy = make_trade(1, pairs["v2"], Decimal(30_000), buy=False, tolerance=Decimal("0.2"))
    with_refusal = routing.plan_batch([greedy, *fine()])
    without = routing.plan_batch(fine())
    assert set(with_refusal.refused) == {1} and not without.refused
    assert isinstance(with_refusal.refused[1], OracleLossRefusedError)
    assert [(p.trade_id, p.vault_calldata) for p in with_refusal.plan.plans] == \
        [(p.trade_id, p.vault_calldata) for p in without.plan.plans]
    assert not greedy.is_started() and not greedy.blockchain_transactions
    assert all(p.gas_limit for p in with_refusal.plan.plans)  # pre-flighted


def test_a_stale_feed_refuses_the_trade_before_signing(web3: Web3, world: World, vault: Contract,
                                                       asset_manager: LocalAccount, deployer: str) -> None:
    """The vault fails closed on a stale price; routing reads that in its loss check and signs nothing."""
    feed = vault.functions.priceSource(world.weth.address).call()[1]
    vault.functions.setPriceFeed(world.weth.address, feed, 1).transact({"from": deployer})  # 1 s heartbeat
    web3.provider.make_request("evm_increaseTime", [60])  # type: ignore[arg-type]
    web3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    pairs = world_pairs(world)
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()))
    trade = make_trade(1, pairs["v2"], Decimal(3_000), buy=False, tolerance=Decimal("0.01"))
    with pytest.raises(SimulationRevertedError, match=r"cannot price this trade.*PriceStale"):
        routing.setup_trades([trade])
    assert not trade.is_started() and not trade.blockchain_transactions
