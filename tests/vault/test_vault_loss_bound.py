"""The oracle-priced loss bound on the real world (real Uniswap V2/V3 bytecode, Chainlink's MockV3Aggregator
feeds, a real V3 pool's TWAP): the sandwich of issue 12 is refused through every router kind and a
multi-hop; an honest trade is charged to the rolling budget; a same-block manipulation leaves the TWAP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from vaultkit import (
    CallSpec,
    Trader,
    approve,
    router02_v2_swap,
    v2_swap,
    v3_exact_input,
    v3_path,
    v3_single,
)
from web3.contract import Contract
from web3.logs import DISCARD

from vaultexec.testing.vaults import WORLD_LOSS_CAP_BPS
from vaultexec.testing.world import World

WETH = 10**18
#: The whole of the world vault's WETH, as in the issue's attack.
SOLD = 300 * WETH
#: The attacker's manipulation: dump this much WETH into the pool first.
WHALE_WETH = 20_000 * WETH


def _dump_weth(world: World, swap: Callable[[str], Any], router: str) -> None:
    """The attacker (front-run leg): sell `WHALE_WETH` into the pool through `router`, crashing WETH."""
    whale = world.deployer
    world.web3.provider.make_request("anvil_setBalance", [whale, hex(10 * WHALE_WETH)])  # type: ignore[arg-type]
    world.fund("WETH", whale, WHALE_WETH)
    world.weth.functions.approve(router, WHALE_WETH).transact({"from": whale})
    swap(whale).transact({"from": whale, "gas": 3_000_000})


def _sandwich_legs(world: World, kind: str, vault: str) -> tuple[str, Callable[[str], Any], CallSpec, str]:
    """(router, the attacker's dump, the vault's sale of `SOLD` WETH for at least 1 unit, received token)."""
    usdc, weth, usdt = world.usdc.address, world.weth.address, world.usdt.address
    v2, v3, r02 = world.uniswap_v2_router, world.swap_router, world.swap_router02
    if kind == "v2":
        return (v2.address, lambda who: v2.functions.swapExactTokensForTokens(WHALE_WETH, 1, [weth, usdc], who, 2**63),
                v2_swap(v2, SOLD, 1, [weth, usdc], vault), usdc)
    if kind == "router02_v2":
        return (r02.address, lambda who: r02.functions.swapExactTokensForTokens(WHALE_WETH, 1, [weth, usdc], who),
                router02_v2_swap(r02, SOLD, 1, [weth, usdc], vault), usdc)
    if kind == "v3":
        return (v3.address, lambda who: v3.functions.exactInputSingle((weth, usdc, 3000, who, 2**63, WHALE_WETH, 1, 0)),
                v3_single(v3, weth, usdc, 3000, vault, SOLD, 1), usdc)
    assert kind == "v3_multi_hop"
    path = v3_path([weth, usdc, usdt], [3000, 500])
    return (v3.address, lambda who: v3.functions.exactInputSingle((weth, usdc, 3000, who, 2**63, WHALE_WETH, 1, 0)),
            v3_exact_input(v3, path, vault, SOLD, 1), usdt)


@pytest.mark.parametrize("kind", ["v2", "router02_v2", "v3", "v3_multi_hop"])
def test_sandwich_is_refused_by_the_per_execute_cap(world: World, trader: Trader, kind: str) -> None:
    router, dump, sale, received = _sandwich_legs(world, kind, trader.vault.address)
    _dump_weth(world, dump, router)
    error = trader.refuse([approve(world.weth, router, SOLD), sale], [(world.weth.address, SOLD)], [(received, 1)])
    assert error.name == "LossCapExceeded", error
    loss, max_loss, value_spent = error.args
    assert value_spent == 900_000 * 10**18  # 300 WETH at the feed's $3000
    assert max_loss == value_spent * WORLD_LOSS_CAP_BPS // 10_000
    assert loss > value_spent // 2  # the sandwich would have taken most of it


def test_honest_trade_is_charged_to_the_rolling_budget(world: World, trader: Trader) -> None:
    vault, router = trader.vault, world.uniswap_v2_router
    budget = vault.functions.availableLossBudget().call()
    amount = 10 * WETH
    outcome = trader.execute([approve(world.weth, router.address, amount),
                              v2_swap(router, amount, 1, [world.weth.address, world.usdc.address], vault.address)],
                             [(world.weth.address, amount)], [(world.usdc.address, 1)])
    assert outcome.ok
    (charged,) = vault.events.LossCharged().process_receipt(outcome.receipt, errors=DISCARD)
    spent, received, loss = charged["args"]["valueSpent"], charged["args"]["valueReceived"], charged["args"]["loss"]
    assert spent == 30_000 * 10**18
    assert loss == spent - received and 0 < loss < spent * 60 // 10_000  # fee 0.3 % + a little impact
    # The budget was full: it is the capacity less this loss (refill is capped at the capacity).
    assert charged["args"]["budgetLeft"] == budget - loss


def test_twap_of_a_real_v3_pool_survives_a_same_block_manipulation(world: World, trader: Trader,
                                                                    vault: Contract) -> None:
    wbtc, weth = world.wbtc, world.weth
    assert vault.functions.priceSource(wbtc.address).call()[0] == 2  # WBTC is priced by the TWAP

    def wbtc_value() -> int:
        spent, _, _, _ = vault.functions.quoteLoss([wbtc.address], [10**8], [], []).call()
        return int(spent)

    before = wbtc_value()
    assert abs(before - 60_000 * 10**18) < 60_000 * 10**18 // 100  # ~ $60,000 through WETH's feed
    # The attacker dumps WBTC into the WETH/WBTC 0.3 % pool: its spot price collapses...
    whale, dumped = world.deployer, 1_000 * 10**8
    world.fund("WBTC", whale, dumped)
    wbtc.functions.approve(world.swap_router.address, dumped).transact({"from": whale})
    world.swap_router.functions.exactInputSingle(
        (wbtc.address, weth.address, 3000, whale, 2**63, dumped, 1, 0)).transact({"from": whale, "gas": 3_000_000})
    # ... but the 30-minute TWAP moved by about one second's worth of it.
    after = wbtc_value()
    assert before - after < before // 100
    # And the key's sale of WBTC into the crashed pool is refused by the cap.
    router, sold = world.swap_router.address, 2 * 10**8
    error = trader.refuse([approve(wbtc, router, sold),
                           v3_single(world.swap_router, wbtc.address, weth.address, 3000, vault.address, sold, 1)],
                          [(wbtc.address, sold)], [(weth.address, 1)])
    assert error.name == "LossCapExceeded", error
