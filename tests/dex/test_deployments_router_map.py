"""The registry gives model.compat its factory -> router table for trade-executor JSON."""

from __future__ import annotations

from vaultexec.dex.deployments import ETHEREUM, executor_router_map, get_deployment
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
