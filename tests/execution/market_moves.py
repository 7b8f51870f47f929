"""Moving a world pool's price from the outside, as another trader would."""

from __future__ import annotations

from vaultexec.testing.world import World


def push_weth_price_up(world: World, usdc: int) -> None:
    """Someone buys WETH with `usdc` whole USDC on the V2 pool: its USDC/WETH price rises (~1 % per 50,000)."""
    trader = world.web3.eth.accounts[3]
    raw = usdc * 10**6
    world.fund("USDC", trader, raw)
    world.usdc.functions.approve(world.uniswap_v2_router.address, raw).transact({"from": trader})
    world.uniswap_v2_router.functions.swapExactTokensForTokens(
        raw, 1, [world.usdc.address, world.weth.address], trader, 2**63).transact({"from": trader})
