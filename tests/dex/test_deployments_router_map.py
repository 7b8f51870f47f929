"""The registry gives model.compat its factory -> router table for trade-executor JSON."""

from __future__ import annotations

from vaultexec.dex.deployments import AVALANCHE, BSC, ETHEREUM, POLYGON, executor_router_map, get_deployment
from vaultexec.model import ExchangeKind


def test_router_map_covers_every_registered_factory() -> None:
    table = executor_router_map()
    uniswap = get_deployment(ETHEREUM)
    assert uniswap.v2_factory and uniswap.v3_factory
    v2 = table.find_by_factory(ETHEREUM, uniswap.v2_factory)
    v3 = table.find_by_factory(ETHEREUM, uniswap.v3_factory)
    assert (v2.router, v2.kind) == (uniswap.v2_router, ExchangeKind.uniswap_v2)
    assert (v3.router, v3.kind) == (uniswap.swap_router, ExchangeKind.uniswap_v3)
    sushi = get_deployment(ETHEREUM, "sushiswap")
    assert sushi.v2_factory and table.find_by_factory(ETHEREUM, sushi.v2_factory).router == sushi.v2_router


def test_trade_executor_state_file_exchanges_are_known() -> None:
    """The factories of trade-executor's real state files (Trader Joe, QuickSwap, PancakeSwap) resolve."""
    table = executor_router_map()
    joe = table.find_by_factory(AVALANCHE, "0x9ad6c38be94206ca50bb0d90783181662f0cfa10")
    assert joe.router == "0x60aE616a2155Ee3d9A68541Ba4544862310933d4" and joe.fee == 3000  # 0.3 %
    quick = table.find_by_factory(POLYGON, "0x5757371414417b8c6caad45baef941abc7d3ab32")
    assert (quick.router, quick.kind, quick.fee) == ("0xa5E0829CaCEd8fFDD4De3c43696c57F7D7A678ff",
                                                     ExchangeKind.uniswap_v2, 3000)
    pancake = table.find_by_factory(BSC, "0xca143ce32fe78f1f7019d7d551a6402fc5350c73")
    assert (pancake.router, pancake.fee) == ("0x10ED43C718714eb63d5aA57B78B54704E256024E", 2500)
    assert get_deployment(BSC, "pancakeswap").v2_init_code_hash == (
        "0x00fb7f630766e6a796048ea87d01acd3068e8ff67d078148a3fa3f4a84f69bd5")
    assert get_deployment(ETHEREUM, "sushiswap").v2_init_code_hash == (
        "0xe18a34eb0e04b04f7a0ac29a6e80748dca96319b42c54d679cb821dca90c6303")
