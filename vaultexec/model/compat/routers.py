"""Factory -> router table (`RouterMap`) and the executor's fee fractions <-> our fee tiers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from vaultexec.errors import BadInputError
from vaultexec.model.identifiers import (
    FEE_DENOMINATOR,
    ExchangeKind,
    checksum_address,
)

# ---------------------------------------------------------------- router map


@dataclass(frozen=True)
class ExchangeRouter:
    """One DEX deployment: the factory trade-executor names and the router vaultexec swaps through."""

    chain_id: int
    factory: str
    router: str
    kind: ExchangeKind
    #: The exchange's one swap fee (V2 style, hundredths of a bip: 3000 = 0.3%), when it has one; it fills
    #: a legacy record's missing pair fee (written back as it was, null).
    fee: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "factory", checksum_address(self.factory, f"chain {self.chain_id} factory"))
        object.__setattr__(self, "router", checksum_address(self.router, f"chain {self.chain_id} router"))
        if not isinstance(self.kind, ExchangeKind):
            raise BadInputError(f"router {self.router}: kind {self.kind!r} is not an ExchangeKind")


@dataclass(frozen=True)
class RouterMap:
    """Factory -> router table, one entry per (chain id, factory)."""

    routers: tuple[ExchangeRouter, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "routers", tuple(self.routers))
        seen: set[tuple[int, str]] = set()
        for entry in self.routers:
            key = (entry.chain_id, entry.factory)
            if key in seen:
                raise BadInputError(f"factory {entry.factory} on chain {entry.chain_id} is listed twice")
            seen.add(key)

    def find_by_factory(self, chain_id: int, factory: object) -> ExchangeRouter:
        """The router of `factory`; BadInputError naming the factory when it is not in the map."""
        address = checksum_address(factory, f"chain {chain_id} exchange (factory) address")
        for entry in self.routers:
            if entry.chain_id == chain_id and entry.factory == address:
                return entry
        known = ", ".join(f"{e.factory} ({e.kind.value})" for e in self.routers if e.chain_id == chain_id)
        raise BadInputError(
            f"unknown exchange factory {address} on chain {chain_id}: add it to the RouterMap "
            f"(known on this chain: {known or 'none'})"
        )

    def find_by_router(self, chain_id: int, router: str) -> ExchangeRouter | None:
        for entry in self.routers:
            if entry.chain_id == chain_id and entry.router == router:
                return entry
        return None


# ---------------------------------------------------------------- fees


def fee_fraction_to_tier(fee: object, what: str = "fee") -> int:
    """Executor fee fraction (0.0005) -> Uniswap tier in hundredths of a bip (500), exactly.

    A float is read by its repr (the literal the executor wrote). Refuses a fee that is not a whole
    number of hundredths of a bip, or outside [0, 1).
    """
    if isinstance(fee, float):
        value = Decimal(repr(fee))
    elif isinstance(fee, Decimal) or (isinstance(fee, int) and not isinstance(fee, bool)):
        value = Decimal(fee)
    else:
        raise BadInputError(f"{what}: expected a fee fraction like 0.003, got {type(fee).__name__} {fee!r}")
    if not value.is_finite():
        raise BadInputError(f"{what}: fee {value} is not a finite number")
    tier = value * FEE_DENOMINATOR
    if tier != tier.to_integral_value():
        raise BadInputError(
            f"{what}: fee {value} is not a whole number of hundredths of a bip "
            f"({tier} / {FEE_DENOMINATOR}); Uniswap fee tiers are like 0.0005, 0.003, 0.01"
        )
    if not 0 <= tier < FEE_DENOMINATOR:
        raise BadInputError(f"{what}: fee {value} outside [0, 1)")
    return int(tier)


def fee_tier_to_fraction(tier: int) -> Decimal:
    """Uniswap tier (500) -> executor fee fraction (0.0005), shortest exact digits ("0.0" for zero)."""
    fraction = (Decimal(tier) / FEE_DENOMINATOR).normalize()
    return Decimal("0.0") if fraction == 0 else fraction
