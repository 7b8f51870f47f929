"""The venue of a trade: the vault's router path (approve + router swap) or its direct path (the vault
swaps through the Uniswap V2 pairs / V3 pools itself, `executeDirect`); the direct path's calldata.

Same route, quote, bounds and settlement for both venues: only the vault call differs. The pools of a
direct route are the route's configured pools, which routing has already confirmed with their factory.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from vaultexec.errors import ConfigurationError
from vaultexec.execution.plan import Route
from vaultexec.model.identifiers import ExchangeKind
from vaultexec.vault.direct import DirectRoute, encode_execute_direct_call
from vaultexec.vault.execute import AssetBound


class Venue(StrEnum):
    """How the vault reaches the pools."""

    #: approve + router call (`execute`): any router the vault's guard speaks.
    ROUTER = "router"
    #: straight through the pools (`executeDirect`): Uniswap V2 pairs and V3 pools only, no approval.
    DIRECT = "direct"


def parse_venue(value: str | Venue) -> Venue:
    """`value` as a Venue; ConfigurationError naming the choices otherwise."""
    try:
        return Venue(value)
    except ValueError:
        choices = ", ".join(v.value for v in Venue)
        raise ConfigurationError(f"Unknown venue {value!r}: choose one of {choices}") from None


def venue_for(requested: Venue, route: Route) -> Venue:
    """The venue a route takes: the direct path speaks Uniswap V2 and V3 pools only."""
    if requested is Venue.DIRECT and route.protocol not in (ExchangeKind.uniswap_v2, ExchangeKind.uniswap_v3):
        return Venue.ROUTER
    return requested


def direct_calldata(route: Route, raw_in: int, min_out: int, deadline: int, max_spend: list[AssetBound],
                    min_receive: list[AssetBound]) -> tuple[DirectRoute, bytes]:
    """The trade's one direct route and the vault's `executeDirect` calldata (selector included)."""
    direct = DirectRoute(tuple(route.tokens), tuple(route.pools), raw_in, min_out, deadline)
    return direct, encode_execute_direct_call([direct], max_spend, min_receive)


def direct_transaction_args(direct: DirectRoute, max_spend: list[AssetBound],
                            min_receive: list[AssetBound]) -> list[Any]:
    """`executeDirect`'s arguments as JSON-friendly lists, for the trade's BlockchainTransaction."""
    return [
        [[list(direct.tokens), list(direct.pools), str(direct.amount_in), str(direct.amount_out_min),
          direct.deadline]],
        [[b.asset, str(b.amount)] for b in max_spend],
        [[b.asset, str(b.amount)] for b in min_receive],
    ]
