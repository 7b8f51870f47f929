"""A ready executor on the test world: the markets it trades and its parts (behind the plugin's fixtures)."""

from __future__ import annotations

import logging

from vaultexec.dex.deployments import register_world
from vaultexec.errors import VaultExecError
from vaultexec.execution.markets import MarketRequest, MarketResolver
from vaultexec.model.identifiers import TradingPairIdentifier
from vaultexec.testing.world import World

logger = logging.getLogger(__name__)

#: The markets `vault_executor` trades: V2 and V3 WETH/USDC, a stablecoin pair, a three-way route.
WORLD_MARKETS: tuple[MarketRequest, ...] = (
    MarketRequest("WETH", "USDC", "v2"),
    MarketRequest("WETH", "USDC", "v3", 500),
    MarketRequest("WETH", "USDC", "v3", 3000),
    MarketRequest("DAI", "USDC", "v2"),
    MarketRequest("WBTC", "USDC", "v3", 3000, via="WETH", via_fee=500),
)


def world_resolver(world: World) -> MarketResolver:
    """Resolves pairs ("WETH", "USDC", venue, fee) on the world's tokens and its Uniswap deployment."""
    register_world(world.addresses)
    return MarketResolver(world.web3, world.chain_id, world.addresses.tokens)


def world_pairs(resolver: MarketResolver) -> list[TradingPairIdentifier]:
    """The `WORLD_MARKETS` that exist on this chain (a real-chain fork may lack some: those are left out)."""
    pairs = []
    for request in WORLD_MARKETS:
        try:
            pairs.append(resolver.pair(request))
        except VaultExecError as exc:
            logger.info("market %s/%s %s left out: %s", request.base, request.quote, request.venue, exc)
    return pairs
