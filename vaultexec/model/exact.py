"""Exact decimal helpers: strict coercion to `Decimal` and multiplication that never rounds.

Python's default decimal context keeps 28 significant digits; money arithmetic here must not lose a
digit silently, so products are computed in a context sized to hold the exact result.
"""

from __future__ import annotations

from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext

from vaultexec.errors import BadInputError

#: What a caller may pass where a decimal amount is expected (no float: it is already rounded).
DecimalLike = Decimal | int | str


def to_decimal(value: object, name: str) -> Decimal:
    """Coerce `value` to a finite `Decimal`; floats, bools, NaN and infinities are refused."""
    if isinstance(value, bool | float):
        raise BadInputError(
            f"{name}: {type(value).__name__} {value!r} refused; pass a Decimal, int or decimal string "
            f"(a float has already lost its exact value)"
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation as e:
            raise BadInputError(f"{name}: {value!r} is not a decimal number") from e
    else:
        raise BadInputError(f"{name}: expected a Decimal, got {type(value).__name__} {value!r}")
    if not result.is_finite():
        raise BadInputError(f"{name}: {result} is not a finite number")
    return result


def exact_context(*operands: Decimal) -> Context:
    """A decimal context large enough for any sum or product of `operands` to be exact (Inexact traps)."""
    digits = sum(len(op.as_tuple().digits) + abs(int(op.as_tuple().exponent)) for op in operands)
    return Context(prec=max(28, digits + 2), traps=[Inexact, InvalidOperation])


def exact_mul(a: Decimal, b: Decimal) -> Decimal:
    """`a * b` without rounding."""
    with localcontext(exact_context(a, b)):
        return a * b


def exact_sub(a: Decimal, b: Decimal) -> Decimal:
    """`a - b` without rounding."""
    with localcontext(exact_context(a, b)):
        return a - b
