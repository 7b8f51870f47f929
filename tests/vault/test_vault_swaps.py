"""Swaps through the vault on the real Uniswap V2/V3 world: every router ABI the guard accepts, the
`Executed` amounts against the balance changes, and no allowance left behind."""

from __future__ import annotations

import pytest
from vaultkit import Outcome, Trader, approve, router02_v2_swap, routers, v2_swap, v3_exact_input, v3_path, v3_single

from vaultexec.testing.world import World

USDC = 10**6
WETH = 10**18


def _assert_settled(outcome: Outcome, world: World, trader: Trader, spent: dict[str, int],
                    min_received: dict[str, int]) -> None:
    """Success, `Executed` == balance changes, bounds held, every allowance back to zero."""
    assert outcome.ok, outcome.error
    event = outcome.executed
    assert event is not None
    assert event["manager"] == trader.manager.address
    symbol_of = {token.address: symbol for symbol, token in world.tokens.items()}
    event_spent = {symbol_of[a]: amount for a, amount in zip(event["spendAssets"], event["spent"], strict=True)}
    event_received = {symbol_of[a]: amount
                      for a, amount in zip(event["receiveAssets"], event["received"], strict=True)}
    assert event_spent == {symbol: -outcome.balance_deltas[symbol] for symbol in spent}
    assert event_received == {symbol: outcome.balance_deltas[symbol] for symbol in min_received}
    for symbol, most in spent.items():
        assert 0 < event_spent[symbol] <= most
    for symbol, least in min_received.items():
        assert event_received[symbol] >= least
    untouched = set(world.tokens) - set(spent) - set(min_received)
    assert all(outcome.balance_deltas[symbol] == 0 for symbol in untouched)
    assert set(trader.allowances(routers(world)).values()) == {0}


def test_v2_single_hop(world: World, trader: Trader) -> None:
    router, usdc, weth = world.uniswap_v2_router, world.usdc, world.weth
    amount = 30_000 * USDC
    outcome = trader.execute(
        [approve(usdc, router.address, amount), v2_swap(router, amount, 9 * WETH, [usdc.address, weth.address],
                                                         trader.vault.address)],
        [(usdc.address, amount)], [(weth.address, 9 * WETH)])
    _assert_settled(outcome, world, trader, {"USDC": amount}, {"WETH": 9 * WETH})
    assert outcome.balance_deltas["USDC"] == -amount  # the router pulls exactly amountIn


def test_v2_multi_hop_through_weth(world: World, trader: Trader) -> None:
    router, usdc = world.uniswap_v2_router, world.usdc
    amount = 60_000 * USDC
    path = [usdc.address, world.weth.address, world.wbtc.address]
    outcome = trader.execute(
        [approve(usdc, router.address, amount), v2_swap(router, amount, 95 * 10**6, path, trader.vault.address)],
        [(usdc.address, amount)], [(world.wbtc.address, 95 * 10**6)])
    _assert_settled(outcome, world, trader, {"USDC": amount}, {"WBTC": 95 * 10**6})
    assert outcome.balance_deltas["WETH"] == 0  # the intermediate token passes through the pairs only


@pytest.mark.parametrize("on_router02", [False, True], ids=["SwapRouter", "SwapRouter02"])
def test_v3_exact_input_single(world: World, trader: Trader, on_router02: bool) -> None:
    router = world.swap_router02 if on_router02 else world.swap_router
    weth, usdc = world.weth, world.usdc
    amount = 5 * WETH
    outcome = trader.execute(
        [approve(weth, router.address, amount),
         v3_single(router, weth.address, usdc.address, 500, trader.vault.address, amount, 14_000 * USDC,
                   router02=on_router02)],
        [(weth.address, amount)], [(usdc.address, 14_000 * USDC)])
    _assert_settled(outcome, world, trader, {"WETH": amount}, {"USDC": 14_000 * USDC})


@pytest.mark.parametrize("on_router02", [False, True], ids=["SwapRouter", "SwapRouter02"])
def test_v3_exact_input_multi_hop(world: World, trader: Trader, on_router02: bool) -> None:
    router = world.swap_router02 if on_router02 else world.swap_router
    usdc, weth, wbtc = world.usdc, world.weth, world.wbtc
    amount = 120_000 * USDC
    path = v3_path([usdc.address, weth.address, wbtc.address], [500, 3000])
    outcome = trader.execute(
        [approve(usdc, router.address, amount),
         v3_exact_input(router, path, trader.vault.address, amount, 19 * 10**7 // 10, router02=on_router02)],
        [(usdc.address, amount)], [(wbtc.address, 19 * 10**7 // 10)])
    _assert_settled(outcome, world, trader, {"USDC": amount}, {"WBTC": 19 * 10**7 // 10})


def test_router02_v2_swap(world: World, trader: Trader) -> None:
    router02, dai, usdc = world.swap_router02, world.dai, world.usdc
    amount = 10_000 * 10**18
    outcome = trader.execute(
        [approve(dai, router02.address, amount),
         router02_v2_swap(router02, amount, 9_900 * USDC, [dai.address, usdc.address], trader.vault.address)],
        [(dai.address, amount)], [(usdc.address, 9_900 * USDC)])
    _assert_settled(outcome, world, trader, {"DAI": amount}, {"USDC": 9_900 * USDC})


def test_two_swaps_in_one_execute(world: World, trader: Trader) -> None:
    """Split a trade over V2 and V3: both approvals reset, one `Executed` with the summed amounts."""
    usdc, weth = world.usdc, world.weth
    v2, v3 = world.uniswap_v2_router, world.swap_router
    half = 15_000 * USDC
    outcome = trader.execute(
        [approve(usdc, v2.address, half), v2_swap(v2, half, 1, [usdc.address, weth.address], trader.vault.address),
         approve(usdc, v3.address, half),
         v3_single(v3, usdc.address, weth.address, 3000, trader.vault.address, half, 1)],
        [(usdc.address, 2 * half)], [(weth.address, 9 * WETH)])
    _assert_settled(outcome, world, trader, {"USDC": 2 * half}, {"WETH": 9 * WETH})


def test_tether_like_approval_is_reset_when_not_fully_used(world: World, trader: Trader) -> None:
    """USDT's approve returns nothing and refuses non-zero -> non-zero: the vault resets what the router
    left, so the next execute can approve again."""
    usdt, usdc, router = world.usdt, world.usdc, world.uniswap_v2_router
    for amount in (20_000 * USDC, 30_000 * USDC):
        outcome = trader.execute(
            [approve(usdt, router.address, amount + 1_000 * USDC),  # more than the swap pulls
             v2_swap(router, amount, amount * 98 // 100, [usdt.address, usdc.address], trader.vault.address)],
            [(usdt.address, amount + 1_000 * USDC)], [(usdc.address, amount * 98 // 100)])
        _assert_settled(outcome, world, trader, {"USDT": amount + 1_000 * USDC}, {"USDC": amount * 98 // 100})
        assert outcome.balance_deltas["USDT"] == -amount


def test_receive_below_the_declared_minimum_is_refused(world: World, trader: Trader) -> None:
    """The router accepts any output (amountOutMin 1); the vault's own balance check refuses it."""
    router, usdc, weth = world.uniswap_v2_router, world.usdc, world.weth
    amount = 3_000 * USDC
    error = trader.refuse([approve(usdc, router.address, amount),
                           v2_swap(router, amount, 1, [usdc.address, weth.address], trader.vault.address)],
                          [(usdc.address, amount)], [(weth.address, 2 * WETH)])
    assert error.name == "ReceiveTooLow"
    asset, received, least = error.args
    assert (asset, least) == (weth.address, 2 * WETH) and 0 < received < WETH
