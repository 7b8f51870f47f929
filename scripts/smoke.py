"""Smoke run of the local world: deploy it on a fresh anvil, swap once on Uniswap V2 and once on V3.

Run with `make demo` (until the full `vaultexec demo` lands) or `.venv/bin/python scripts/smoke.py`.
"""

from __future__ import annotations

import time
from decimal import Decimal

from web3 import Web3

from vaultexec.testing.anvil import launch_anvil
from vaultexec.testing.plugin import CODE_SIZE_LIMIT, make_web3
from vaultexec.testing.world import World, deploy_world


def _swap_v2(world: World, trader: str, usdc_in: int) -> int:
    router = world.uniswap_v2_router
    world.usdc.functions.approve(router.address, usdc_in).transact({"from": trader})
    before = world.weth.functions.balanceOf(trader).call()
    router.functions.swapExactTokensForTokens(
        usdc_in, 1, [world.usdc.address, world.weth.address], trader, 2**63).transact({"from": trader})
    return int(world.weth.functions.balanceOf(trader).call() - before)


def _swap_v3(world: World, trader: str, usdc_in: int, fee: int) -> int:
    router = world.swap_router
    world.usdc.functions.approve(router.address, usdc_in).transact({"from": trader})
    before = world.weth.functions.balanceOf(trader).call()
    router.functions.exactInputSingle(
        (world.usdc.address, world.weth.address, fee, trader, 2**63, usdc_in, 1, 0)).transact({"from": trader})
    return int(world.weth.functions.balanceOf(trader).call() - before)


def main() -> None:
    with launch_anvil(code_size_limit=CODE_SIZE_LIMIT) as node:
        web3: Web3 = make_web3(node.url)
        started = time.monotonic()
        world = deploy_world(web3, progress=lambda message: print(f"  {message}"))
        print(f"world deployed on {node.url} in {time.monotonic() - started:.2f}s")
        trader = web3.eth.accounts[1]
        usdc_in = 1_000 * 10**6
        world.fund("USDC", trader, 2 * usdc_in)
        v2_out = _swap_v2(world, trader, usdc_in)
        v3_out = _swap_v3(world, trader, usdc_in, 500)
        for venue, out in (("Uniswap V2", v2_out), ("Uniswap V3 0.05%", v3_out)):
            weth = Decimal(out) / Decimal(10**18)
            print(f"{venue:18} 1000 USDC -> {weth:.6f} WETH  (price {Decimal(1000) / weth:.2f} USDC/WETH)")


if __name__ == "__main__":
    main()
