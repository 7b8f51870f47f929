"""Pre-flight on the world: refusals with decoded reasons, state carried within a batch, request budget."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_account.signers.local import LocalAccount
from test_routing_helpers import make_trade, nonce, send_plan, world_pairs
from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.errors import InsufficientBalanceError, PreflightRefusedError, SimulationRevertedError
from vaultexec.execution import VaultRouting
from vaultexec.execution.preflight import refuse_failed, simulate_plans
from vaultexec.testing.plugin import ASSET_MANAGER_KEY
from vaultexec.testing.world import World


def test_min_out_not_met_is_refused_with_router_reason(web3: Web3, world: World, vault: Contract,
                                                       asset_manager: LocalAccount) -> None:
    """Two zero-tolerance buys on one pool: the second, simulated after the first, cannot get its quote."""
    pairs = world_pairs(world)
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()))
    first = make_trade(1, pairs["v2"], Decimal(50_000), tolerance=Decimal(0))
    second = make_trade(2, pairs["v2"], Decimal(50_000), tolerance=Decimal(0))
    start = nonce(web3, asset_manager)
    with pytest.raises(PreflightRefusedError) as info:
        routing.setup_trades([first, second])
    assert info.value.trade_ids == [2]
    assert isinstance(info.value, SimulationRevertedError)
    assert "CallFailed(index=1" in str(info.value) and "INSUFFICIENT_OUTPUT_AMOUNT" in str(info.value)
    assert info.value.reason is not None and "INSUFFICIENT_OUTPUT_AMOUNT" in info.value.reason
    assert "trade #2" in str(info.value) and "Nothing was signed or sent" in str(info.value)
    assert nonce(web3, asset_manager) == start
    assert first.is_planned() and second.is_planned()


def test_vault_custom_error_decoded(web3: Web3, world: World, vault: Contract, asset_manager: LocalAccount,
                                    deployer: str) -> None:
    """A plan whose vault became paused after planning: the vault's custom error comes back decoded."""
    pairs = world_pairs(world)
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()))
    trade = make_trade(1, pairs["v3"], Decimal(10_000))
    plan = routing.plan_trades([trade]).plans[0]
    # Now pause the vault and re-simulate the same calldata the way pre-flight does.
    vault.functions.pause().transact({"from": deployer})
    simulate_plans(routing.runner, vault.address, asset_manager.address, [plan])
    assert plan.simulation is not None and not plan.simulation.success
    assert plan.simulation.revert is not None and plan.simulation.revert.name == "VaultPaused"
    with pytest.raises(PreflightRefusedError, match="VaultPaused"):
        refuse_failed([plan], {1: trade.get_human_description()})


def test_sell_funds_later_buy(web3: Web3, world: World, vault: Contract, asset_manager: LocalAccount,
                              deployer: str) -> None:
    """The vault keeps 1,000 USDC; a 20,000 USDC buy is possible only after the batch's WETH sell."""
    usdc = world.usdc
    balance = usdc.functions.balanceOf(vault.address).call()
    vault.functions.withdraw(usdc.address, balance - 1000 * 10**6).transact({"from": deployer})
    pairs = world_pairs(world)
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()))
    buy = make_trade(1, pairs["v3"], Decimal(20_000))
    sell = make_trade(2, pairs["v2"], Decimal(30_000), buy=False)
    plan = routing.setup_trades([buy, sell])
    assert [p.trade_id for p in plan.plans] == [2, 1], "sells first"
    assert all(p.simulation is not None and p.simulation.success for p in plan.plans)
    for trade_plan in plan.plans:
        send_plan(web3, asset_manager, trade_plan, vault)
    # Alone, the buy is refused with the vault's balance in the message.
    with pytest.raises(InsufficientBalanceError, match="holds"):
        VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values())).setup_trades(
            [make_trade(3, pairs["v3"], Decimal(2_000_000))])


@pytest.mark.parametrize("use_simulate", [True, False], ids=["eth_simulateV1", "eth_call"])
def test_request_budget(web3: Web3, world: World, vault: Contract, asset_manager: LocalAccount, anvil: object,
                        use_simulate: bool) -> None:
    """Planning N trades costs a fixed number of requests with eth_simulateV1; the fallback grows with N."""
    client = RPCClient(web3.provider.endpoint_uri)  # type: ignore[attr-defined]
    pairs = world_pairs(world)
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()), client=client,
                           use_simulate=use_simulate)
    names = ["v2", "v2_three_way", "v3", "v3_router02", "v3_two_hop", "v3_two_hop_v1"]
    trades = [make_trade(n, pairs[names[n % len(names)]], Decimal(1000), buy=n % 2 == 0) for n in range(20)]
    plan = routing.setup_trades(trades)
    assert all(p.gas_limit for p in plan.plans)
    if use_simulate:
        assert (plan.rpc_requests, plan.http_round_trips) == (4, 2)  # the reads; the loss check with the pre-flight
    else:
        assert plan.http_round_trips == 3  # the reads, the loss check, the pre-flight
        assert plan.rpc_requests > 2 * len(trades)
    print(f"\n{'simulate' if use_simulate else 'eth_call'}: {len(trades)} trades, {plan.rpc_requests} requests, "
          f"{plan.http_round_trips} round trips")


def test_signed_with_wallet_and_sent(web3: Web3, world: World, vault: Contract,
                                     asset_manager: LocalAccount) -> None:
    client = RPCClient(web3.provider.endpoint_uri)  # type: ignore[attr-defined]
    wallet = HotWallet.from_key(ASSET_MANAGER_KEY, web3.eth.chain_id)
    pairs = world_pairs(world)
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()), client=client)
    trades = [make_trade(1, pairs["v3_two_hop"], Decimal(5000)), make_trade(2, pairs["v2"], Decimal(5000))]
    start = nonce(web3, asset_manager)
    routing.setup_trades(trades, wallet=wallet)
    txs = [t.blockchain_transactions[0] for t in trades]
    assert [tx.nonce for tx in txs] == [start, start + 1]
    for tx in txs:
        assert tx.signed_bytes is not None
        receipt = web3.eth.wait_for_transaction_receipt(web3.eth.send_raw_transaction(tx.signed_bytes))
        assert receipt["status"] == 1 and receipt["gasUsed"] <= (tx.gas_limit or 0)
