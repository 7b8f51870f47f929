"""Leaf values of the model's codec: how each scalar type is checked on construction, written and read.

Part of the strict codec; callers import from `vaultexec.model.serialisation` (see its format notes).
`SCALARS` is the one table of these types; containers, enums and nested dataclasses are built around it
(`fields.shape_of`).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Any, NamedTuple, NoReturn

from vaultexec.errors import BadInputError, SerialisationError
from vaultexec.model.exact import check_decimal_range, to_decimal
from vaultexec.model.jsontext import JsonNumber, exact_decimal_text

_EPOCH = datetime.datetime(1970, 1, 1)
_MICROSECOND = datetime.timedelta(microseconds=1)
_MICRO_EXPONENT = Decimal("0.000001")
#: Exact for any in-range seconds value (at most 12 + 6 digits); half-even to the microsecond.
_MICRO_CONTEXT = Context(prec=40, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation])
#: Seconds since the epoch of datetime.min / datetime.max, and the seconds of timedelta.min / max.
_DATETIME_SECONDS = (Decimal(-62135596800), Decimal("253402300799.999999"))
_TIMEDELTA_SECONDS = (Decimal(-86399999913600), Decimal("86399999999999.999999"))
#: A decimal string as Python writes one (ASCII digits, optional exponent): "1_0", " 1" are refused.
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


# ---------------------------------------------------------------- refusals, one per direction


class WriteRefusedError(Exception):
    """A value the writer refuses; `path` (".field[2]") is filled in on the way out."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = ""


def describe(value: Any) -> str:
    """A value as named in a refusal: its type and a bounded repr."""
    if isinstance(value, Decimal) and not isinstance(value, bool):
        return f"number {value!s:.80}"
    return f"{type(value).__name__} {value!r:.80}"


def _mismatch(expected: str, value: Any) -> str:
    return f"expected {expected}, got {describe(value)}"


def bad(path: str, expected: str, value: Any) -> NoReturn:
    """Refuse a value on construction."""
    raise BadInputError(f"{path}: {_mismatch(expected, value)}")


def refuse(expected: str, value: Any) -> NoReturn:
    """Refuse a value on writing (the caller adds the path)."""
    raise WriteRefusedError(_mismatch(expected, value))


def fail(path: str, expected: str, value: Any) -> NoReturn:
    """Refuse a value on loading."""
    raise SerialisationError(f"{path}: {_mismatch(expected, value)}")


# ---------------------------------------------------------------- construction checks


def instance_check(tp: Any) -> Callable[[Any, str], Any]:
    """(value, path) -> value if it is a `tp` (an int field refuses bools), else BadInputError."""
    name = tp.__name__ if isinstance(tp, type) else str(tp)
    expected = {int: "an int", bool: "a bool", str: "a str"}.get(tp, f"a {name}")
    refuse_bool = tp is int

    def check(value: Any, path: str) -> Any:
        if not isinstance(value, tp) or (refuse_bool and isinstance(value, bool)):
            bad(path, expected, value)
        return value

    return check


def _check_naive(value: Any, path: str) -> Any:
    if not isinstance(value, datetime.datetime):
        bad(path, "a naive UTC datetime", value)
    if value.tzinfo is not None:
        raise BadInputError(f"{path}: {value} is timezone-aware; pass naive UTC")
    return value


# ---------------------------------------------------------------- writing


def decimal_text(value: Decimal) -> str:
    """A Decimal field: finite and in the range `to_decimal` accepts, as on construction."""
    if not isinstance(value, Decimal):
        refuse("a Decimal", value)
    try:
        check_decimal_range(value, "decimal")
    except BadInputError as e:
        raise WriteRefusedError(str(e)) from e
    return str(value)


def free_decimal_text(value: Decimal) -> str:
    """A Decimal in free-form data: any finite value (the loader reads any back)."""
    try:
        return exact_decimal_text(value)
    except SerialisationError as e:
        raise WriteRefusedError(str(e)) from None


def _seconds_text(delta: datetime.timedelta) -> str:
    """Exact decimal seconds of a timedelta, always with a fraction part ("12.0", "-0.5")."""
    micro = delta // _MICROSECOND
    sign = "-" if micro < 0 else ""
    seconds, fraction = divmod(abs(micro), 10**6)
    return f"{sign}{seconds}.{f'{fraction:06d}'.rstrip('0') or '0'}"


def encode_datetime(value: Any) -> JsonNumber:
    if not isinstance(value, datetime.datetime):
        refuse("a naive UTC datetime", value)
    if value.tzinfo is not None:
        raise WriteRefusedError(f"datetime {value} is timezone-aware; the model keeps naive UTC")
    return JsonNumber(_seconds_text(value - _EPOCH))


def encode_timedelta(value: Any) -> JsonNumber:
    if not isinstance(value, datetime.timedelta):
        refuse("a timedelta", value)
    return JsonNumber(_seconds_text(value))


def encode_bytes(value: Any) -> str:
    if not isinstance(value, bytes):
        refuse("bytes", value)
    return "0x" + value.hex()


def encode_int(value: Any) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        refuse("an integer", value)
    return int(value)


def _encode_bool(value: Any) -> bool:
    if type(value) is not bool:
        refuse("a boolean", value)
    return value


def encode_str(value: Any) -> str:
    if type(value) is str:
        return value
    if not isinstance(value, str):
        refuse("a string", value)
    return str.__str__(value)  # a plain str: a JsonNumber or enum member here is text


# ---------------------------------------------------------------- reading


def _decode_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        fail(path, "a boolean", value)
    return value


def _decode_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        fail(path, "an integer", value)
    return value


def _decode_str(value: Any, path: str) -> str:
    if not isinstance(value, str) or isinstance(value, JsonNumber):
        fail(path, "a string", value)
    return value


def _decode_bytes(value: Any, path: str) -> bytes:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    fail(path, "0x-prefixed hex", value)


def to_exact_number(value: Any, path: str) -> Decimal:
    """A JSON number (int, Decimal or `JsonNumber` literal) as an exact Decimal."""
    if isinstance(value, JsonNumber):
        text = str.__str__(value)
        if not _DECIMAL_TEXT.fullmatch(text):
            fail(path, "a JSON number", value)
        return Decimal(text)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        fail(path, "a JSON number", value)
    return Decimal(value)


def _decode_decimal(value: Any, path: str) -> Decimal:
    """A decimal string (our format) or a JSON number (older records, trade-executor floats), exactly."""
    if isinstance(value, str) and not isinstance(value, JsonNumber):
        if not _DECIMAL_TEXT.fullmatch(value):
            fail(path, 'a decimal string like "1.5"', value)
        result = Decimal(value)
    else:
        result = to_exact_number(value, path)
    if not result.is_finite():
        fail(path, "a finite decimal", value)
    return result


def _to_microseconds(value: Any, path: str, bounds: tuple[Decimal, Decimal], what: str) -> int:
    """JSON seconds to whole microseconds, half-even (trade-executor's float timestamps carry noise).

    The range is checked first: an out-of-range number is refused before any big arithmetic.
    """
    seconds = to_exact_number(value, path)
    low, high = bounds
    if not low <= seconds <= high:
        fail(path, f"{what} seconds within {low} .. {high}", value)
    try:
        return int(seconds.quantize(_MICRO_EXPONENT, context=_MICRO_CONTEXT).scaleb(6, context=_MICRO_CONTEXT))
    except ArithmeticError as e:
        raise SerialisationError(f"{path}: {value!s:.80} cannot be read as {what} seconds") from e


def _decode_datetime(value: Any, path: str) -> datetime.datetime:
    micro = _to_microseconds(value, path, _DATETIME_SECONDS, "epoch")
    try:
        return _EPOCH + datetime.timedelta(microseconds=micro)
    except OverflowError as e:
        raise SerialisationError(f"{path}: {value!s:.80} is out of range for a datetime") from e


def _decode_timedelta(value: Any, path: str) -> datetime.timedelta:
    micro = _to_microseconds(value, path, _TIMEDELTA_SECONDS, "timedelta")
    try:
        return datetime.timedelta(microseconds=micro)
    except OverflowError as e:
        raise SerialisationError(f"{path}: {value!s:.80} is out of range for a timedelta") from e


# ---------------------------------------------------------------- the table


class Scalar(NamedTuple):
    """One leaf type's three steps; each raises its direction's refusal (see above)."""

    check: Callable[[Any, str], Any]
    encode: Callable[[Any], Any]
    decode: Callable[[Any, str], Any]


SCALARS: dict[type, Scalar] = {
    Decimal: Scalar(to_decimal, decimal_text, _decode_decimal),
    int: Scalar(instance_check(int), encode_int, _decode_int),
    bool: Scalar(instance_check(bool), _encode_bool, _decode_bool),
    str: Scalar(instance_check(str), encode_str, _decode_str),
    datetime.datetime: Scalar(_check_naive, encode_datetime, _decode_datetime),
    datetime.timedelta: Scalar(instance_check(datetime.timedelta), encode_timedelta, _decode_timedelta),
    bytes: Scalar(instance_check(bytes), encode_bytes, _decode_bytes),
}
