"""Properties of `execute` on the real world, over random amounts, approvals, bounds, routes and limits:
no allowance survives any execute (succeeded or reverted); a success delivers >= every min receive and
spends <= every max; the rolling limit's availability never exceeds its capacity."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from vaultkit import CallSpec, Trader, approve, router02_v2_swap, routers, v2_swap, v3_single

from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.world import World

USDC = 10**6
WETH_PER_USDC_RAW = 10**12 // 3000  # raw WETH per raw USDC at the world's price (1 WETH = 3000 USDC)

Route = Callable[[World, int, int, str], CallSpec]

ROUTES: dict[str, tuple[str, Route]] = {
    "v2": ("uniswap_v2_router", lambda w, amount, out, to: v2_swap(
        w.uniswap_v2_router, amount, out, [w.usdc.address, w.weth.address], to)),
    "v3-500": ("swap_router", lambda w, amount, out, to: v3_single(
        w.swap_router, w.usdc.address, w.weth.address, 500, to, amount, out)),
    "r02-3000": ("swap_router02", lambda w, amount, out, to: v3_single(
        w.swap_router02, w.usdc.address, w.weth.address, 3000, to, amount, out, router02=True)),
    "r02-v2": ("swap_router02", lambda w, amount, out, to: router02_v2_swap(
        w.swap_router02, amount, out, [w.usdc.address, w.weth.address], to)),
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(sorted(ROUTES)),
    amount_in=st.integers(min_value=1, max_value=200_000 * USDC),
    approve_permille=st.sampled_from([500, 1000, 1000, 1000, 1200]),
    max_spend_permille=st.integers(min_value=950, max_value=2000),
    min_receive_permille=st.integers(min_value=500, max_value=1050),
    router_checks_min=st.booleans(),
    capacity=st.one_of(st.just(0), st.integers(min_value=1, max_value=400_000 * USDC)),
)
def test_execute_properties(anvil: AnvilInstance, world: World, trader: Trader, deployer: str, route: str,
                            amount_in: int, approve_permille: int, max_spend_permille: int,
                            min_receive_permille: int, router_checks_min: bool, capacity: int) -> None:
    snapshot = anvil.rpc("evm_snapshot")
    try:
        usdc, weth, vault = world.usdc, world.weth, trader.vault
        if capacity:
            vault.functions.setSpendLimit(usdc.address, capacity, 3600).transact({"from": deployer})
        router_name, build = ROUTES[route]
        router = getattr(world, router_name).address
        approved = amount_in * approve_permille // 1000
        max_spend = max(1, amount_in * max_spend_permille // 1000)
        min_receive = max(1, amount_in * WETH_PER_USDC_RAW * min_receive_permille // 1000)
        calls = [approve(usdc, router, approved),
                 build(world, amount_in, min_receive if router_checks_min else 1, vault.address)]
        outcome = trader.execute(calls, [(usdc.address, max_spend)], [(weth.address, min_receive)])

        event("executed" if outcome.ok else f"reverted: {outcome.error.name if outcome.error else 'no data'}")
        assert set(trader.allowances(routers(world)).values()) == {0}
        if outcome.ok:
            spent, received = -outcome.balance_deltas["USDC"], outcome.balance_deltas["WETH"]
            assert 0 < spent <= max_spend and spent <= approved
            assert received >= min_receive
            assert outcome.executed is not None
            assert (outcome.executed["spent"], outcome.executed["received"]) == ([spent], [received])
        else:
            assert all(delta == 0 for delta in outcome.balance_deltas.values())
        available = vault.functions.availableSpend(usdc.address).call()
        if capacity:
            assert available <= capacity
            if outcome.ok:
                assert available <= capacity - (-outcome.balance_deltas["USDC"]) + capacity // 3600 + 1
        else:
            assert available == 2**256 - 1
    finally:
        anvil.rpc("evm_revert", [snapshot])
