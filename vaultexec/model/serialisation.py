"""Strict JSON codec for the model: exact decimals, naive-UTC timestamps, no silently wrong objects.

Format (compatible with what trade-executor's dataclasses-json writes):
- `Decimal`: a JSON string ("1.50"), except fields with `metadata=JSON_NUMBER`, which trade-executor
  stores as floats: those are written as a JSON number literal carrying the Decimal's exact digits.
  Reading parses every JSON number as `Decimal`, so no float is ever created.
  Decimals inside lists and dicts (free-form call arguments, statistics) are JSON numbers too.
- `datetime`: naive UTC, written as a JSON number of seconds since the Unix epoch (as
  dataclasses-json does), exact to the microsecond. Aware datetimes are refused.
- `timedelta`: a JSON number of seconds. `bytes`: "0x"-prefixed hex. Enums: their value.
- `dict[int, ...]`: keys written as decimal strings (JSON keys are strings).
- Fields with `metadata=OMIT_EMPTY` are left out while None or an empty list/dict (so adding one keeps
  older output byte-identical) and get their default when absent; when present they load strictly.

Loading is strict: an unknown field, a missing required field, a wrong type or a value the model's own
validation refuses raises `SerialisationError` naming the class and field path.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import enum
import json
import types
import typing
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from json.encoder import encode_basestring_ascii
from typing import Any, TypeVar

from dataclasses_json import DataClassJsonMixin

from vaultexec.errors import BadInputError, SerialisationError

T = TypeVar("T")

#: Field metadata key marking Decimal fields written as JSON numbers (trade-executor's float fields).
JSON_NUMBER_KEY = "vaultexec_json_number"
_EPOCH = datetime.datetime(1970, 1, 1)
_MICROSECOND = datetime.timedelta(microseconds=1)


#: Field metadata key marking fields left out of the JSON while empty (None, [] or {}).
OMIT_EMPTY_KEY = "vaultexec_omit_empty"


#: `field(metadata=JSON_NUMBER)`: this Decimal field is written as a JSON number literal.
JSON_NUMBER = {JSON_NUMBER_KEY: True}
#: `field(default=..., metadata=OMIT_EMPTY)`: not written while empty; the default must be that empty value.
OMIT_EMPTY = {OMIT_EMPTY_KEY: True}


class JsonNumber(str):
    """Text of an exact JSON number literal, emitted without quotes by `dump_json`."""


# ---------------------------------------------------------------- encoding


def _decimal_text(value: Decimal) -> str:
    if not value.is_finite():
        raise SerialisationError(f"cannot serialise non-finite decimal {value}")
    return str(value)


def _seconds_text(delta: datetime.timedelta) -> str:
    """Exact decimal seconds of a timedelta, always with a fraction part ("12.0", "-0.5")."""
    micro = delta // _MICROSECOND
    sign = "-" if micro < 0 else ""
    seconds, fraction = divmod(abs(micro), 10**6)
    return f"{sign}{seconds}.{f'{fraction:06d}'.rstrip('0') or '0'}"


def encode_value(value: Any, as_number: bool = False) -> Any:
    """Turn a model value into a JSON-ready tree (Decimals as str, or `JsonNumber` if `as_number`)."""
    if value is None or (isinstance(value, bool | int | str) and not isinstance(value, enum.Enum)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        text = _decimal_text(value)
        return JsonNumber(text) if as_number else text
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            raise SerialisationError(f"datetime {value} is timezone-aware; the model keeps naive UTC")
        return JsonNumber(_seconds_text(value - _EPOCH))
    if isinstance(value, datetime.timedelta):
        return JsonNumber(_seconds_text(value))
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return encode_dataclass(value)
    if isinstance(value, list | tuple):
        return [encode_value(item, True) for item in value]
    if isinstance(value, dict):
        return {_encode_key(k): encode_value(v, True) for k, v in value.items()}
    if isinstance(value, float):
        raise SerialisationError(f"float {value!r} in the model; floats are never stored, use Decimal")
    raise SerialisationError(f"cannot serialise {type(value).__name__} {value!r}")


def _encode_key(key: Any) -> str:
    if isinstance(key, bool) or not isinstance(key, int | str):
        raise SerialisationError(f"dict key {key!r}: only str and int keys are serialisable")
    return str(key)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, list | tuple | dict) and len(value) == 0)


def encode_dataclass(obj: Any) -> dict[str, Any]:
    """Every field of a dataclass instance in declaration order, less `OMIT_EMPTY` fields that are empty."""
    tree: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if f.metadata.get(OMIT_EMPTY_KEY) and _is_empty(value):
            continue
        tree[f.name] = encode_value(value, bool(f.metadata.get(JSON_NUMBER_KEY)))
    return tree


def write_json_tree(tree: Any, decimal_text: Callable[[Decimal], str] = _decimal_text) -> str:
    """Compact-ish JSON text of a tree of dict/list/str/int/bool/None/Decimal (JsonNumber unquoted);
    `decimal_text` writes a Decimal (default: our exact string form). The hot path of every stored trade."""
    if isinstance(tree, JsonNumber):
        return str.__str__(tree)
    if isinstance(tree, str):
        return encode_basestring_ascii(tree)
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{encode_basestring_ascii(k)}: {write_json_tree(v, decimal_text)}"
                               for k, v in tree.items()) + "}"
    if isinstance(tree, list):
        return "[" + ", ".join(write_json_tree(item, decimal_text) for item in tree) + "]"
    if isinstance(tree, Decimal):
        return decimal_text(tree)
    if tree is None or isinstance(tree, bool):
        return {None: "null", True: "true", False: "false"}[tree]
    if isinstance(tree, int):
        return int.__repr__(tree)
    return json.dumps(tree, allow_nan=False)


def dump_json(obj: Any) -> str:
    """Serialise a model dataclass to JSON text (see the module docstring for the format)."""
    return write_json_tree(encode_value(obj))


# ---------------------------------------------------------------- decoding


def _refuse_constant(name: str) -> Any:
    raise SerialisationError(f"JSON constant {name} refused: amounts must be finite")


def parse_json_text(text: str | bytes) -> Any:
    """`json.loads` with every non-integer number as an exact `Decimal`; NaN/Infinity refused."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as e:
        raise SerialisationError(f"not valid JSON: {e}") from e


def load_json(cls: type[T], text: str | bytes) -> T:
    """Load JSON text into `cls`, strictly."""
    return load_dict(cls, parse_json_text(text))


def load_dict(cls: type[T], data: Any) -> T:
    """Load a JSON-ready dict (as from `parse_json_text`) into dataclass `cls`, strictly."""
    return typing.cast(T, _decode(cls, data, cls.__name__, as_number=False))


def _fail(path: str, expected: str, value: Any) -> typing.NoReturn:
    raise SerialisationError(f"{path}: expected {expected}, got {type(value).__name__} {value!r:.80}")


def _decode(tp: Any, value: Any, path: str, as_number: bool) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return _decode_any(value, path)
    if origin is typing.Union or origin is types.UnionType:
        return _decode_union(tp, value, path, as_number)
    if origin is list or origin is collections.abc.Sequence:
        if not isinstance(value, list):
            _fail(path, "a list", value)
        (item_tp,) = typing.get_args(tp)
        return [_decode(item_tp, item, f"{path}[{i}]", as_number) for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            _fail(path, "an object", value)
        key_tp, value_tp = typing.get_args(tp)
        return {
            _decode_key(key_tp, k, path): _decode(value_tp, v, f"{path}[{k!r}]", as_number) for k, v in value.items()
        }
    if tp is type(None):
        if value is not None:
            _fail(path, "null", value)
        return None
    if isinstance(tp, type):
        return _decode_type(tp, value, path)
    raise SerialisationError(f"{path}: the model uses unsupported type {tp!r}")


def _decode_union(tp: Any, value: Any, path: str, as_number: bool) -> Any:
    arms = typing.get_args(tp)
    if value is None:
        if type(None) in arms:
            return None
        _fail(path, "a value", value)
    non_none = [arm for arm in arms if arm is not type(None)]
    if len(non_none) != 1:
        raise SerialisationError(f"{path}: ambiguous union {tp!r} in the model")
    return _decode(non_none[0], value, path, as_number)


def _decode_key(key_tp: Any, key: str, path: str) -> Any:
    if key_tp is str:
        return key
    if key_tp is int:
        if not key.lstrip("-").isdigit():
            raise SerialisationError(f"{path}: key {key!r} is not an integer")
        return int(key)
    raise SerialisationError(f"{path}: unsupported dict key type {key_tp!r}")


def _decode_any(value: Any, path: str) -> Any:
    """Free-form JSON (call arguments, details): checked to be JSON, numbers kept exact."""
    if isinstance(value, JsonNumber):
        return Decimal(str.__str__(value))
    if value is None or isinstance(value, bool | int | str | Decimal):
        return value
    if isinstance(value, list):
        return [_decode_any(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _decode_any(v, f"{path}[{k!r}]") for k, v in value.items()}
    _fail(path, "JSON data (floats refused, load text with load_json)", value)


def _to_exact_number(value: Any, path: str) -> Decimal:
    if isinstance(value, JsonNumber):
        return Decimal(str.__str__(value))
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        _fail(path, "a JSON number", value)
    return Decimal(value)


def _decode_type(tp: type, value: Any, path: str) -> Any:
    if dataclasses.is_dataclass(tp):
        return _decode_dataclass(tp, value, path)
    if issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in tp)
            _fail(path, f"one of {allowed}", value)
    if tp is bool:
        if not isinstance(value, bool):
            _fail(path, "a boolean", value)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(path, "an integer", value)
        return value
    if tp is str:
        if not isinstance(value, str):
            _fail(path, "a string", value)
        return value
    if tp is Decimal:
        if isinstance(value, str):
            try:
                result = Decimal(value)
            except ArithmeticError:
                _fail(path, "a decimal string", value)
        else:
            result = _to_exact_number(value, path)
        if not result.is_finite():
            _fail(path, "a finite decimal", value)
        return result
    if tp is datetime.datetime:
        micro = _to_microseconds(_to_exact_number(value, path))
        return _EPOCH + datetime.timedelta(microseconds=micro)
    if tp is datetime.timedelta:
        return datetime.timedelta(microseconds=_to_microseconds(_to_exact_number(value, path)))
    if tp is bytes:
        if not isinstance(value, str) or not value.startswith("0x"):
            _fail(path, "0x-prefixed hex", value)
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            _fail(path, "0x-prefixed hex", value)
    raise SerialisationError(f"{path}: the model uses unsupported type {tp.__name__}")


def _to_microseconds(seconds: Decimal) -> int:
    """Seconds to whole microseconds, half-even (trade-executor's float timestamps carry noise)."""
    return round(Fraction(seconds) * 10**6)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _decode_dataclass(cls: type, data: Any, path: str) -> Any:
    if not isinstance(data, dict):
        _fail(path, f"an object for {cls.__name__}", data)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise SerialisationError(f"{path}: unknown field(s) {', '.join(unknown)} for {cls.__name__}")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise SerialisationError(f"{path}: missing required field {name} of {cls.__name__}")
            continue
        as_number = bool(f.metadata.get(JSON_NUMBER_KEY))
        kwargs[name] = _decode(hints[name], data[name], f"{path}.{name}", as_number)
    try:
        return cls(**kwargs)
    except BadInputError as e:
        raise SerialisationError(f"{path}: {cls.__name__} refused the stored values: {e}") from e


# ---------------------------------------------------------------- dataclasses-json glue


class JsonModel(DataClassJsonMixin):
    """Base of persisted model classes: dataclasses-json's API, routed through the strict codec."""

    def to_json(self, **kw: Any) -> str:
        """JSON text in the model's format; dataclasses-json's keyword options are ignored."""
        return dump_json(self)

    def to_dict(self, encode_json: bool = False) -> dict[str, Any]:
        """JSON-ready dict; exact numbers (`json_number` fields, timestamps) are `JsonNumber` strings."""
        return encode_dataclass(self)

    @classmethod
    def from_json(cls: type[T], s: Any, **kw: Any) -> T:
        """Strict load (see `load_json`)."""
        return load_json(cls, s)

    @classmethod
    def from_dict(cls: type[T], kvs: Any, **kw: Any) -> T:
        """Strict load of a dict (see `load_dict`); JSON-ready trees from `to_dict` load back."""
        return load_dict(cls, kvs)


__all__ = [
    "JSON_NUMBER",
    "OMIT_EMPTY",
    "JsonModel",
    "JsonNumber",
    "dump_json",
    "encode_dataclass",
    "encode_value",
    "load_dict",
    "load_json",
    "parse_json_text",
]
