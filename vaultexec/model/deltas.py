"""Asset deltas: the exact spend and the slippage-bounded minimum receive of a trade.

This module holds the single slippage formula of vaultexec. The DEX call's `amountOutMin` and the
vault's on-chain balance check both come from `calculate_min_receive`; nothing else may compute one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from vaultexec.errors import BadInputError
from vaultexec.model.exact import DecimalLike, exact_mul, exact_sub, to_decimal
from vaultexec.model.identifiers import AssetIdentifier
from vaultexec.model.serialisation import JsonModel


@dataclass(frozen=True)
class AssetDelta(JsonModel):
    """Expected balance change of one token in the vault, in raw units.

    Negative = the vault spends exactly this much; positive = the vault receives at least this much.
    """

    asset: AssetIdentifier
    raw_amount: int

    def validate(self) -> None:
        if self.raw_amount == 0:
            raise BadInputError(f"AssetDelta of {self.asset.token_symbol} is zero; a trade moves tokens")

    def is_spend(self) -> bool:
        return self.raw_amount < 0

    def is_receive(self) -> bool:
        return self.raw_amount > 0

    def get_decimal_amount(self) -> Decimal:
        """Signed human amount (exact)."""
        return self.asset.convert_to_decimal(self.raw_amount)

    def __str__(self) -> str:
        verb = "spend" if self.is_spend() else "receive at least"
        return f"{verb} {self.get_decimal_amount().copy_abs()} {self.asset.token_symbol} ({self.raw_amount} raw)"


def validate_slippage_tolerance(tolerance: object) -> Decimal:
    """The tolerance as a Decimal in [0, 1); 0.01 = 1 %. None, floats and out-of-range values refused."""
    if tolerance is None:
        raise BadInputError("slippage tolerance is missing; set slippage_tolerance (e.g. Decimal('0.005'))")
    value = to_decimal(tolerance, "slippage tolerance")
    if not Decimal(0) <= value < Decimal(1):
        raise BadInputError(f"slippage tolerance {value} outside [0, 1); 0.01 means 1 %")
    return value


def _positive_amount(amount: object, what: str, asset: AssetIdentifier) -> Decimal:
    value = to_decimal(amount, f"{what} of {asset.token_symbol}")
    if value <= 0:
        raise BadInputError(f"{what} of {asset.token_symbol} must be positive, got {value}")
    return value


def calculate_exact_spend(planned: DecimalLike, asset: AssetIdentifier) -> int:
    """Raw units the vault spends for `planned`: rounded down, so never more than planned."""
    value = _positive_amount(planned, "planned spend", asset)
    raw = asset.convert_to_raw_floor(value)
    if raw == 0:
        raise BadInputError(
            f"planned spend {value} {asset.token_symbol} is below one raw unit "
            f"({asset.decimals} decimals); nothing would be spent"
        )
    return raw


def calculate_min_receive(expected: DecimalLike, tolerance: DecimalLike, asset: AssetIdentifier) -> int:
    """Raw minimum the vault must receive: expected * (1 - tolerance), rounded up.

    Rounding up keeps the on-chain bound at least as tight as the promised tolerance; the result is
    never more than one raw unit above the exact bound. Computed exactly (no 28-digit context rounding).
    """
    value = _positive_amount(expected, "expected receive", asset)
    tol = validate_slippage_tolerance(tolerance)
    bound = exact_mul(value, exact_sub(Decimal(1), tol))
    return asset.convert_to_raw_ceil(bound)
