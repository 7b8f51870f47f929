"""The venue of a trade: the vault's router path (approve + router swap) or its direct path (the vault
swaps through the Uniswap V2 pairs / V3 pools itself, `executeDirect`); the direct path's calldata.

`auto` (the default) takes the direct path when the vault allows every pool of the route for it (read in
the batch's one read request: `directPool(pool, tokenIn, tokenOut)`, with the route's protocol and fee),
and the router path otherwise. `direct` insists (a pool not allowed is refused before anything is sent),
`router` never takes the direct path.

Same route, quote, bounds and settlement for both venues: only the vault call differs. The pools of a
direct route are the route's configured pools, which routing has already confirmed with their factory.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from vaultexec.dex.abiread import decode_words as decode
from vaultexec.dex.reads import CallResult
from vaultexec.errors import ConfigurationError, GuardRefusedError
from vaultexec.execution.plan import Route
from vaultexec.model.identifiers import ExchangeKind
from vaultexec.vault.direct import DirectRoute, encode_execute_direct_call
from vaultexec.vault.execute import AssetBound


class Venue(StrEnum):
    """How the vault reaches the pools."""

    #: the direct path where the vault allows it, the router path otherwise.
    AUTO = "auto"
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


#: Uniswap V2's swap fee in hundredths of a bip: what the router's quote (getAmountsOut) assumes.
UNISWAP_V2_FEE = 3000


def direct_allowed(results: Sequence[CallResult], route: Route) -> bool:
    """Whether the vault's `directPool` answers (one per hop) allow the route with its protocol and fee."""
    if route.protocol not in (ExchangeKind.uniswap_v2, ExchangeKind.uniswap_v3):
        return False
    wanted = 1 if route.protocol == ExchangeKind.uniswap_v2 else 2
    for n, result in enumerate(results):
        if not result.success or len(result.data) < 64:
            return False  # a vault without the direct path, or an unreadable answer
        protocol, fee = decode(["uint8", "uint24"], result.data[:64])
        expected_fee = UNISWAP_V2_FEE if wanted == 1 else route.fees[n]
        if protocol != wanted or fee != expected_fee:
            return False
    return True


def venue_for(requested: Venue, route: Route, allowed: bool, label: str, vault: str) -> Venue:
    """The venue a route takes; GuardRefusedError when `direct` is asked for a route the vault does not
    allow on its direct path."""
    if requested is Venue.ROUTER:
        return Venue.ROUTER
    if allowed:
        return Venue.DIRECT
    if requested is Venue.DIRECT:
        raise GuardRefusedError(
            f"{label}: vault {vault} does not allow the direct path through pool(s) {', '.join(route.pools)} "
            f"({route.protocol.value}, fees {list(route.fees)}); the owner must call "
            "setDirectPoolAllowed(factory, protocol, tokenA, tokenB, fee, true) for each, or use the router path")
    return Venue.ROUTER


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
