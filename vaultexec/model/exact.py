"""Exact decimal helpers: strict coercion to `Decimal` and arithmetic that never rounds.

Python's default decimal context keeps 28 significant digits; money arithmetic here must not lose a
digit silently, so results are computed in a context sized to hold the exact result.
"""

from __future__ import annotations

from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, Inexact, InvalidOperation, localcontext

from vaultexec.errors import BadInputError

#: What a caller may pass where a decimal amount is expected (no float: it is already rounded).
DecimalLike = Decimal | int | str

#: Largest decimal exponent accepted (|adjusted exponent|): no amount, price or fee comes near
#: 10**1000, and turning a value like 1E+999999999 into raw units or microseconds would build an integer
#: with a billion digits.
MAX_DECIMAL_EXPONENT = 1000


def check_decimal_range(value: Decimal, name: str) -> Decimal:
    """`value` if it is finite and zero or of magnitude 1E-1000 .. 1E+1000 (`MAX_DECIMAL_EXPONENT`)."""
    if not value.is_finite():
        raise BadInputError(f"{name}: {value} is not a finite number")
    if value and not -MAX_DECIMAL_EXPONENT <= value.adjusted() <= MAX_DECIMAL_EXPONENT:
        raise BadInputError(
            f"{name}: {value!s:.40} is outside the supported range (magnitudes 1E-{MAX_DECIMAL_EXPONENT} "
            f"to 1E+{MAX_DECIMAL_EXPONENT})"
        )
    return value


def to_decimal(value: object, name: str) -> Decimal:
    """Coerce `value` to a finite `Decimal` in the supported range; floats, bools, NaN and infinities are refused."""
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
            raise BadInputError(f"{name}: {value!r:.80} is not a decimal number") from e
    else:
        raise BadInputError(f"{name}: expected a Decimal, got {type(value).__name__} {value!r:.80}")
    return check_decimal_range(result, name)


def exact_context(*operands: Decimal) -> Context:
    """A decimal context large enough for any sum or product of `operands` to be exact (Inexact traps).

    The exponent limits are the widest decimal allows, so no result over- or underflows.
    """
    digits = sum(len(op.as_tuple().digits) + abs(int(op.as_tuple().exponent)) for op in operands)
    return Context(prec=max(28, digits + 2), Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact, InvalidOperation])


def exact_mul(a: Decimal, b: Decimal) -> Decimal:
    """`a * b` without rounding."""
    try:
        with localcontext(exact_context(a, b)):
            return a * b
    except ArithmeticError as e:
        raise BadInputError(f"{a} * {b} cannot be computed exactly: {type(e).__name__}") from e


def exact_sub(a: Decimal, b: Decimal) -> Decimal:
    """`a - b` without rounding."""
    try:
        with localcontext(exact_context(a, b)):
            return a - b
    except ArithmeticError as e:
        raise BadInputError(f"{a} - {b} cannot be computed exactly: {type(e).__name__}") from e
