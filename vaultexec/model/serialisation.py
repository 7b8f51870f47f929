"""Strict JSON codec for the model: exact decimals, naive-UTC timestamps, no silently wrong objects.

Format (compatible with what trade-executor's dataclasses-json writes):
- `Decimal` fields: a JSON string with the exact digits ("1.50", "-0"). The loader also takes a JSON
  number (records written before every Decimal was a string, trade-executor's float fields) and parses it
  exactly; no float is ever created.
- Free-form values (`Any`: call arguments, `details`, statistics, executor extras): Decimals are JSON
  number literals with their exact digits, the only way a reader can tell them from strings.
- `datetime`: naive UTC, written as a JSON number of seconds since the Unix epoch (as dataclasses-json
  does), exact to the microsecond. Aware datetimes are refused.
- `timedelta`: a JSON number of seconds. `bytes`: "0x"-prefixed hex. Enums: their value.
- `dict[int, ...]`: keys written as decimal strings (JSON keys are strings).
- Fields with `metadata=OMIT_EMPTY` are left out while None or an empty list/dict (so adding one keeps
  older output byte-identical) and get their default when absent; when present they load strictly.
- Fields with `metadata=JSON_NUMBER` are trade-executor's float fields: `model.compat` writes them as JSON
  numbers (`encode_dataclass(obj, executor_numbers=True)`); our own JSON writes them as strings like any Decimal.

Strict both ways: loading refuses an unknown field, a missing required field, a wrong type or a value the
model's own validation refuses (`SerialisationError` naming the class and field path); writing refuses an
object the loader would refuse (a field of the wrong type, a broken rule), so every stored record loads.
Model classes derive from `JsonModel`, whose `__post_init__` checks and coerces every field against its
declared type (`check_fields`) and then runs the class's `validate()`.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import enum
import json
import re
import types
import typing
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from json.encoder import encode_basestring_ascii
from typing import Any, NoReturn, TypeVar

from dataclasses_json import DataClassJsonMixin

from vaultexec.errors import BadInputError, SerialisationError
from vaultexec.model.exact import check_decimal_range, to_decimal

T = TypeVar("T")

#: Field metadata key marking Decimal fields trade-executor stores as JSON numbers (its float fields).
JSON_NUMBER_KEY = "vaultexec_json_number"
#: Field metadata key marking fields left out of the JSON while empty (None, [] or {}).
OMIT_EMPTY_KEY = "vaultexec_omit_empty"

#: `field(metadata=JSON_NUMBER)`: trade-executor writes this Decimal field as a JSON number (see `model.compat`).
JSON_NUMBER = {JSON_NUMBER_KEY: True}
#: `field(default=..., metadata=OMIT_EMPTY)`: not written while empty; the default must be that empty value.
OMIT_EMPTY = {OMIT_EMPTY_KEY: True}

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
_INT_KEY = re.compile(r"-?[0-9]+")

#: Deepest JSON nesting read or written. Real records nest about 15 levels; the limit keeps parsing and
#: writing far from the C stack, which a raised recursion limit (py_ecc sets 100000) would let overflow.
MAX_JSON_DEPTH = 500
#: Free-form values sit at most this many levels inside the typed model (trade -> price_structure -> path
#: -> pair -> asset -> executor_extra -> ...), so a written free-form value never exceeds MAX_JSON_DEPTH.
_FREE_DEPTH = MAX_JSON_DEPTH - 50
#: JSON strings and brackets, for measuring nesting without parsing.
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


class JsonNumber(str):
    """Text of an exact JSON number literal, emitted without quotes by `write_json_tree`."""


# ---------------------------------------------------------------- field specs


@dataclasses.dataclass(frozen=True)
class _FieldSpec:
    name: str
    tp: Any
    omit_empty: bool
    executor_number: bool


_SPECS: dict[type, tuple[_FieldSpec, ...]] = {}


def _specs(cls: type) -> tuple[_FieldSpec, ...]:
    """Declared fields of dataclass `cls` with their resolved types, cached."""
    specs = _SPECS.get(cls)
    if specs is None:
        hints = typing.get_type_hints(cls)
        specs = tuple(
            _FieldSpec(f.name, hints[f.name], bool(f.metadata.get(OMIT_EMPTY_KEY)),
                       bool(f.metadata.get(JSON_NUMBER_KEY)))
            for f in dataclasses.fields(cls)
        )
        _SPECS[cls] = specs
    return specs


def _optional_arm(tp: Any) -> Any | None:
    """X for `X | None`; None for any other type (a union of several types is unsupported)."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    arms = [arm for arm in typing.get_args(tp) if arm is not type(None)]
    if len(arms) != 1 or len(typing.get_args(tp)) != 2:
        raise TypeError(f"the model uses unsupported union {tp!r}; only X | None is supported")
    return arms[0]


def _is_sequence(tp: Any) -> bool:
    return typing.get_origin(tp) in (list, collections.abc.Sequence)


def _type_name(tp: Any) -> str:
    return tp.__name__ if isinstance(tp, type) else str(tp)


def _describe(value: Any) -> str:
    if isinstance(value, Decimal) and not isinstance(value, bool):
        return f"number {value!s:.80}"
    return f"{type(value).__name__} {value!r:.80}"


# ---------------------------------------------------------------- construction checks

_Coercer = Callable[[Any, str], Any]
_COERCERS: dict[type, tuple[tuple[str, str, _Coercer], ...]] = {}


def check_fields(obj: Any) -> None:
    """Check every field of a model dataclass against its declared type, in place; BadInputError naming it.

    Decimals are coerced from int and decimal strings (floats refused, see `to_decimal`), sequences become
    lists; everything else must already have its declared type (naive datetimes only). Free-form (`Any`)
    values are checked when written.
    """
    cls = type(obj)
    coercers = _COERCERS.get(cls)
    if coercers is None:
        coercers = tuple((spec.name, f"{cls.__name__}.{spec.name}", _coercer(spec.tp)) for spec in _specs(cls))
        _COERCERS[cls] = coercers
    for name, path, coerce in coercers:
        value = getattr(obj, name)
        checked = coerce(value, path)
        if checked is not value:
            object.__setattr__(obj, name, checked)


def _bad(path: str, expected: str, value: Any) -> NoReturn:
    raise BadInputError(f"{path}: expected {expected}, got {_describe(value)}")


def _coercer(tp: Any) -> _Coercer:
    """A function (value, path) -> value of type `tp`, raising BadInputError (see `check_fields`)."""
    if tp is Any:
        return lambda value, path: value
    arm = _optional_arm(tp)
    if arm is not None:
        inner = _coercer(arm)
        return lambda value, path: None if value is None else inner(value, path)
    if _is_sequence(tp):
        return _sequence_coercer(_coercer(typing.get_args(tp)[0]))
    if typing.get_origin(tp) is dict:
        key_tp, value_tp = typing.get_args(tp)
        return _dict_coercer(key_tp, _coercer(value_tp))
    if tp is Decimal:
        return to_decimal
    if tp is datetime.datetime:
        return _check_naive
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _exact_type_coercer(tp)
    return _instance_coercer(tp)


def _instance_coercer(tp: type) -> _Coercer:
    expected = {int: "an int", bool: "a bool", str: "a str"}.get(tp, f"a {_type_name(tp)}")
    refuse_bool = tp is int

    def coerce(value: Any, path: str) -> Any:
        if not isinstance(value, tp) or (refuse_bool and isinstance(value, bool)):
            _bad(path, expected, value)
        return value

    return coerce


def _exact_type_coercer(tp: type) -> _Coercer:
    """Nested model objects must be of the declared class itself (a subclass would not load back as one)."""

    def coerce(value: Any, path: str) -> Any:
        if type(value) is not tp:
            _bad(path, f"a {tp.__name__}", value)
        return value

    return coerce


def _check_naive(value: Any, path: str) -> Any:
    if not isinstance(value, datetime.datetime):
        _bad(path, "a naive UTC datetime", value)
    if value.tzinfo is not None:
        raise BadInputError(f"{path}: {value} is timezone-aware; pass naive UTC")
    return value


def _sequence_coercer(item: _Coercer) -> _Coercer:
    def coerce(value: Any, path: str) -> Any:
        if not isinstance(value, list | tuple):
            _bad(path, "a list", value)
        items = [item(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, list) and all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return items

    return coerce


def _dict_coercer(key_tp: Any, item: _Coercer) -> _Coercer:
    key_check = _instance_coercer(key_tp)

    def coerce(value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            _bad(path, "a dict", value)
        changed = False
        out = {}
        for k, v in value.items():
            key_check(k, f"{path} key")
            out[k] = item(v, f"{path}[{k!r}]")
            changed = changed or out[k] is not v
        return out if changed else value

    return coerce


# ---------------------------------------------------------------- encoding


class _WriteRefusedError(Exception):
    """A value the writer refuses; `path` (".field[2]") is filled in on the way out."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = ""


def _refuse(expected: str, value: Any) -> NoReturn:
    raise _WriteRefusedError(f"expected {expected}, got {_describe(value)}")


def _decimal_text(value: Decimal) -> str:
    """A Decimal field: finite and in the range `to_decimal` accepts, as on construction."""
    if not isinstance(value, Decimal):
        _refuse("a Decimal", value)
    try:
        check_decimal_range(value, "decimal")
    except BadInputError as e:
        raise _WriteRefusedError(str(e)) from e
    return str(value)


def _free_decimal_text(value: Decimal) -> str:
    """A Decimal in free-form data: any finite value (the loader reads any back)."""
    if not value.is_finite():
        raise _WriteRefusedError(f"cannot serialise non-finite decimal {value}")
    return str(value)


def _seconds_text(delta: datetime.timedelta) -> str:
    """Exact decimal seconds of a timedelta, always with a fraction part ("12.0", "-0.5")."""
    micro = delta // _MICROSECOND
    sign = "-" if micro < 0 else ""
    seconds, fraction = divmod(abs(micro), 10**6)
    return f"{sign}{seconds}.{f'{fraction:06d}'.rstrip('0') or '0'}"


def _encode_datetime(value: Any) -> JsonNumber:
    if not isinstance(value, datetime.datetime):
        _refuse("a naive UTC datetime", value)
    if value.tzinfo is not None:
        raise _WriteRefusedError(f"datetime {value} is timezone-aware; the model keeps naive UTC")
    return JsonNumber(_seconds_text(value - _EPOCH))


def _encode_timedelta(value: Any) -> JsonNumber:
    if not isinstance(value, datetime.timedelta):
        _refuse("a timedelta", value)
    return JsonNumber(_seconds_text(value))


def _encode_bytes(value: Any) -> str:
    if not isinstance(value, bytes):
        _refuse("bytes", value)
    return "0x" + value.hex()


def _encode_int(value: Any) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        _refuse("an integer", value)
    return int(value)


def _encode_bool(value: Any) -> bool:
    if type(value) is not bool:
        _refuse("a boolean", value)
    return value


def _encode_str(value: Any) -> str:
    if type(value) is str:
        return value
    if not isinstance(value, str):
        _refuse("a string", value)
    return str.__str__(value)  # a plain str: a JsonNumber or enum member here is text


def _encode_free(value: Any, depth: int = 0) -> Any:
    """A free-form (`Any`) value as a JSON tree: Decimals become exact JSON numbers, floats are refused."""
    if value is None or (isinstance(value, bool | int | str) and not isinstance(value, enum.Enum)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return JsonNumber(_free_decimal_text(value))
    if isinstance(value, datetime.datetime):
        return _encode_datetime(value)
    if isinstance(value, datetime.timedelta):
        return _encode_timedelta(value)
    if isinstance(value, bytes):
        return _encode_bytes(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _encode_object(value, False)
    if isinstance(value, list | tuple | dict) and depth >= _FREE_DEPTH:
        raise _WriteRefusedError(f"free-form data nested deeper than {_FREE_DEPTH} levels")
    if isinstance(value, list | tuple):
        return _encode_items(value, lambda item: _encode_free(item, depth + 1))
    if isinstance(value, dict):
        return _encode_mapping(value, _encode_free_key, lambda item: _encode_free(item, depth + 1))
    if isinstance(value, float):
        raise _WriteRefusedError(f"float {value!r} in the model; floats are never stored, use Decimal")
    raise _WriteRefusedError(f"cannot serialise {_describe(value)}")


def _encode_free_key(key: Any) -> str:
    if isinstance(key, bool) or not isinstance(key, int | str):
        raise _WriteRefusedError(f"dict key {key!r:.80}: only str and int keys are serialisable")
    return str(key)


def _encode_items(value: Any, item: Callable[[Any], Any]) -> list[Any]:
    out: list[Any] = []
    try:
        for v in value:
            out.append(item(v))
    except _WriteRefusedError as e:
        e.path = f"[{len(out)}]{e.path}"
        raise
    return out


def _encode_mapping(value: dict[Any, Any], key: Callable[[Any], str], item: Callable[[Any], Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in value.items():
        try:
            out[key(k)] = item(v)
        except _WriteRefusedError as e:
            e.path = f"[{k!r:.40}]{e.path}"
            raise
    return out


_Encoder = Callable[[Any], Any]


def _encoder(tp: Any, as_number: bool, executor_numbers: bool) -> _Encoder:
    """A function value -> JSON tree for declared type `tp`, refusing values of any other type.

    `as_number`: Decimals are `JsonNumber`s (trade-executor's float fields, in `executor_numbers` mode).
    """
    if tp is Any:
        return _encode_free
    arm = _optional_arm(tp)
    if arm is not None:
        inner = _encoder(arm, as_number, executor_numbers)
        return lambda value: None if value is None else inner(value)
    if _is_sequence(tp):
        item = _encoder(typing.get_args(tp)[0], as_number, executor_numbers)

        def encode_list(value: Any) -> list[Any]:
            if not isinstance(value, list | tuple):
                _refuse("a list", value)
            return _encode_items(value, item)

        return encode_list
    if typing.get_origin(tp) is dict:
        key_tp, value_tp = typing.get_args(tp)
        key = _encode_str if key_tp is str else lambda k: str(_encode_int(k))
        item = _encoder(value_tp, as_number, executor_numbers)

        def encode_dict(value: Any) -> dict[str, Any]:
            if not isinstance(value, dict):
                _refuse("a dict", value)
            return _encode_mapping(value, key, item)

        return encode_dict
    if tp is Decimal:
        return (lambda value: JsonNumber(_decimal_text(value))) if as_number else _decimal_text
    simple: dict[Any, _Encoder] = {
        int: _encode_int,
        bool: _encode_bool,
        str: _encode_str,
        datetime.datetime: _encode_datetime,
        datetime.timedelta: _encode_timedelta,
        bytes: _encode_bytes,
    }
    if tp in simple:
        return simple[tp]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_encoder(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_encoder(tp, executor_numbers)
    raise TypeError(f"the model uses unsupported type {tp!r}")


def _enum_encoder(tp: type[enum.Enum]) -> _Encoder:
    def encode(value: Any) -> Any:
        if not isinstance(value, tp):
            _refuse(f"a {tp.__name__}", value)
        return value.value

    return encode


def _dataclass_encoder(tp: type, executor_numbers: bool) -> _Encoder:
    def encode(value: Any) -> dict[str, Any]:
        if type(value) is not tp:
            _refuse(f"a {tp.__name__}", value)
        return _encode_object(value, executor_numbers)

    return encode


@dataclasses.dataclass(frozen=True)
class _Plan:
    #: (name, encoder of the non-None type, omit when empty, may be None) per field.
    fields: tuple[tuple[str, _Encoder, bool, bool], ...]
    #: The class's `validate`, for mutable classes that define one (frozen ones were checked when built).
    validate: Callable[[Any], None] | None


_PLANS: dict[tuple[type, bool], _Plan] = {}


def _plan(cls: type, executor_numbers: bool) -> _Plan:
    plan = _PLANS.get((cls, executor_numbers))
    if plan is None:
        fields = tuple(_plan_field(spec, executor_numbers) for spec in _specs(cls))
        frozen = cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        validate = cls.validate if issubclass(cls, JsonModel) and not frozen else JsonModel.validate
        plan = _Plan(fields, None if validate is JsonModel.validate else validate)
        _PLANS[(cls, executor_numbers)] = plan
    return plan


def _plan_field(spec: _FieldSpec, executor_numbers: bool) -> tuple[str, _Encoder, bool, bool]:
    arm = _optional_arm(spec.tp)
    encoder = _encoder(spec.tp if arm is None else arm, executor_numbers and spec.executor_number, executor_numbers)
    return spec.name, encoder, spec.omit_empty, arm is not None


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, list | tuple | dict) and len(value) == 0)


def _encode_object(obj: Any, executor_numbers: bool) -> dict[str, Any]:
    plan = _plan(type(obj), executor_numbers)
    tree: dict[str, Any] = {}
    name = ""
    try:
        for name, encode, omit_empty, nullable in plan.fields:
            value = getattr(obj, name)
            if value is None and nullable:
                if not omit_empty:
                    tree[name] = None
            elif not (omit_empty and _is_empty(value)):
                tree[name] = encode(value)
    except _WriteRefusedError as e:
        e.path = f".{name}{e.path}"
        raise
    if plan.validate is not None:
        try:
            plan.validate(obj)
        except BadInputError as e:
            raise _WriteRefusedError(f"{type(obj).__name__} fails its own validation: {e}") from e
    return tree


def _writing(what: Any, action: Callable[[], T]) -> T:
    """Run an encoding step, turning refusals into `SerialisationError` naming the field path."""
    try:
        return action()
    except _WriteRefusedError as e:
        name = type(what).__name__
        raise SerialisationError(f"{name}{e.path}: {e.reason}; not written (it would not load back)") from None
    except SerialisationError:
        raise
    except (ValueError, RecursionError) as e:  # an int beyond Python's digit limit, nesting too deep
        raise SerialisationError(f"{type(what).__name__}: cannot serialise: {e}") from e


def encode_value(value: Any) -> Any:
    """A model dataclass (typed, see the module doc) or a free-form value as a JSON-ready tree."""
    return _writing(value, lambda: _encode_free(value))


def encode_dataclass(obj: Any, executor_numbers: bool = False) -> dict[str, Any]:
    """Every field of a model dataclass in declaration order, less `OMIT_EMPTY` fields that are empty.

    Timestamps and free-form Decimals are `JsonNumber`s; `executor_numbers` also writes `JSON_NUMBER`
    Decimal fields as `JsonNumber`s (trade-executor's form). SerialisationError for an unwritable object.
    """
    return _writing(obj, lambda: _encode_object(obj, executor_numbers))


def _tree_decimal_text(value: Decimal) -> str:
    try:
        return _free_decimal_text(value)
    except _WriteRefusedError as e:
        raise SerialisationError(e.reason) from None


def write_json_tree(tree: Any, decimal_text: Callable[[Decimal], str] = _tree_decimal_text) -> str:
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
    """Serialise a model dataclass to JSON text (see the module doc); SerialisationError if it would not load."""
    return _writing(obj, lambda: write_json_tree(_encode_free(obj)))


# ---------------------------------------------------------------- decoding


def _refuse_constant(name: str) -> Any:
    raise SerialisationError(f"JSON constant {name} refused: amounts must be finite")


def _parse_int(text: str) -> int | Decimal:
    """JSON integers as int, except "-0", which only an exact negative zero Decimal writes."""
    return Decimal(text) if text == "-0" else int(text)


def parse_json_text(text: str | bytes) -> Any:
    """`json.loads` with every non-integer number as an exact `Decimal`; NaN/Infinity and nesting deeper
    than `MAX_JSON_DEPTH` refused."""
    try:
        if isinstance(text, bytes | bytearray):
            text = bytes(text).decode(json.detect_encoding(text), "surrogatepass")
        _check_json_depth(text)
        return json.loads(text, parse_float=Decimal, parse_int=_parse_int, parse_constant=_refuse_constant)
    except SerialisationError:
        raise
    except (ValueError, RecursionError) as e:  # invalid JSON or encoding, an int beyond the digit limit
        raise SerialisationError(f"not valid JSON: {e}") from e


def _check_json_depth(text: str) -> None:
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise SerialisationError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels refused")
        elif bracket in ("]", "}"):
            depth -= 1


def load_json(cls: type[T], text: str | bytes) -> T:
    """Load JSON text into `cls`, strictly."""
    return load_dict(cls, parse_json_text(text))


def load_dict(cls: type[T], data: Any) -> T:
    """Load a JSON-ready dict (as from `parse_json_text`) into dataclass `cls`, strictly."""
    try:
        return typing.cast(T, _decode_dataclass(cls, data, cls.__name__))
    except RecursionError as e:
        raise SerialisationError(f"{cls.__name__}: data nested too deeply to load") from e


def _fail(path: str, expected: str, value: Any) -> NoReturn:
    raise SerialisationError(f"{path}: expected {expected}, got {_describe(value)}")


_Decoder = Callable[[Any, str], Any]


def _decoder(tp: Any) -> _Decoder:
    """A function (JSON value, path) -> model value of declared type `tp`, raising SerialisationError."""
    if tp is Any:
        return _decode_any
    arm = _optional_arm(tp)
    if arm is not None:
        inner = _decoder(arm)
        return lambda value, path: None if value is None else inner(value, path)
    if _is_sequence(tp):
        return _list_decoder(_decoder(typing.get_args(tp)[0]))
    if typing.get_origin(tp) is dict:
        key_tp, value_tp = typing.get_args(tp)
        return _dict_decoder(_decode_int_key if key_tp is int else _decode_str_key, _decoder(value_tp))
    simple: dict[Any, _Decoder] = {
        Decimal: _decode_decimal,
        int: _decode_int,
        bool: _decode_bool,
        str: _decode_str,
        datetime.datetime: _decode_datetime,
        datetime.timedelta: _decode_timedelta,
        bytes: _decode_bytes,
    }
    if tp in simple:
        return simple[tp]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_decoder(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return lambda value, path: _decode_dataclass(tp, value, path)
    raise TypeError(f"the model uses unsupported type {tp!r}")


def _list_decoder(item: _Decoder) -> _Decoder:
    def decode(value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            _fail(path, "a list", value)
        return [item(v, f"{path}[{i}]") for i, v in enumerate(value)]

    return decode


def _dict_decoder(key: Callable[[str, str], Any], item: _Decoder) -> _Decoder:
    def decode(value: Any, path: str) -> dict[Any, Any]:
        if not isinstance(value, dict):
            _fail(path, "an object", value)
        return {key(k, path): item(v, f"{path}[{k!r}]") for k, v in value.items()}

    return decode


def _decode_str_key(key: str, path: str) -> str:
    return key


def _decode_int_key(key: str, path: str) -> int:
    if not _INT_KEY.fullmatch(key):
        raise SerialisationError(f"{path}: key {key!r:.80} is not an integer")
    return int(key)


def _enum_decoder(tp: type[enum.Enum]) -> _Decoder:
    allowed = ", ".join(repr(m.value) for m in tp)

    def decode(value: Any, path: str) -> Any:
        try:
            return tp(value)
        except ValueError:
            _fail(path, f"one of {allowed}", value)

    return decode


def _decode_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        _fail(path, "a boolean", value)
    return value


def _decode_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(path, "an integer", value)
    return value


def _decode_str(value: Any, path: str) -> str:
    if not isinstance(value, str) or isinstance(value, JsonNumber):
        _fail(path, "a string", value)
    return value


def _decode_bytes(value: Any, path: str) -> bytes:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    _fail(path, "0x-prefixed hex", value)


def _decode_any(value: Any, path: str, depth: int = 0) -> Any:
    """Free-form JSON (call arguments, details): checked to be JSON, numbers kept exact."""
    if isinstance(value, JsonNumber):
        return _to_exact_number(value, path)
    if value is None or isinstance(value, bool | int | str | Decimal):
        return value
    if depth >= _FREE_DEPTH:
        raise SerialisationError(f"{path}: free-form data nested deeper than {_FREE_DEPTH} levels")
    if isinstance(value, list):
        return [_decode_any(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _decode_any(v, f"{path}[{k!r}]", depth + 1) for k, v in value.items()}
    _fail(path, "JSON data (floats refused, load text with load_json)", value)


def _to_exact_number(value: Any, path: str) -> Decimal:
    if isinstance(value, JsonNumber):
        text = str.__str__(value)
        if not _DECIMAL_TEXT.fullmatch(text):
            _fail(path, "a JSON number", value)
        return Decimal(text)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        _fail(path, "a JSON number", value)
    return Decimal(value)


def _decode_decimal(value: Any, path: str) -> Decimal:
    """A decimal string (our format) or a JSON number (older records, trade-executor floats), exactly."""
    if isinstance(value, str) and not isinstance(value, JsonNumber):
        if not _DECIMAL_TEXT.fullmatch(value):
            _fail(path, 'a decimal string like "1.5"', value)
        result = Decimal(value)
    else:
        result = _to_exact_number(value, path)
    if not result.is_finite():
        _fail(path, "a finite decimal", value)
    return result


def _to_microseconds(value: Any, path: str, bounds: tuple[Decimal, Decimal], what: str) -> int:
    """JSON seconds to whole microseconds, half-even (trade-executor's float timestamps carry noise).

    The range is checked first: an out-of-range number is refused before any big arithmetic.
    """
    seconds = _to_exact_number(value, path)
    low, high = bounds
    if not low <= seconds <= high:
        _fail(path, f"{what} seconds within {low} .. {high}", value)
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


@dataclasses.dataclass(frozen=True)
class _Reader:
    names: frozenset[str]
    required: frozenset[str]
    fields: tuple[tuple[str, _Decoder], ...]


_READERS: dict[type, _Reader] = {}


def _reader(cls: type) -> _Reader:
    reader = _READERS.get(cls)
    if reader is None:
        init = {f.name: f for f in dataclasses.fields(cls) if f.init}
        required = frozenset(
            name for name, f in init.items()
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        )
        decoders = tuple((spec.name, _decoder(spec.tp)) for spec in _specs(cls) if spec.name in init)
        reader = _Reader(frozenset(init), required, decoders)
        _READERS[cls] = reader
    return reader


def _decode_dataclass(cls: type, data: Any, path: str) -> Any:
    if not isinstance(data, dict):
        _fail(path, f"an object for {cls.__name__}", data)
    reader = _reader(cls)
    if not reader.names.issuperset(data):
        unknown = sorted(str(key) for key in set(data) - reader.names)
        raise SerialisationError(f"{path}: unknown field(s) {', '.join(unknown)} for {cls.__name__}")
    if not reader.required.issubset(data):
        missing = sorted(reader.required - set(data))
        raise SerialisationError(f"{path}: missing required field {', '.join(missing)} of {cls.__name__}")
    kwargs = {name: decode(data[name], f"{path}.{name}") for name, decode in reader.fields if name in data}
    try:
        return cls(**kwargs)
    except BadInputError as e:
        raise SerialisationError(f"{path}: {cls.__name__} refused the stored values: {e}") from e


# ---------------------------------------------------------------- dataclasses-json glue


class JsonModel(DataClassJsonMixin):
    """Base of persisted model classes: checked on construction, dataclasses-json's API through the strict codec."""

    def __post_init__(self) -> None:
        check_fields(self)
        self.validate()

    def validate(self) -> None:
        """Raise BadInputError when a value breaks a rule of the class beyond its field types.

        Runs on construction (and so on load) and, for mutable classes, before every write.
        """

    def to_json(self, **kw: Any) -> str:
        """JSON text in the model's format; dataclasses-json's keyword options are ignored."""
        return dump_json(self)

    def to_dict(self, encode_json: bool = False) -> dict[str, Any]:
        """JSON-ready dict; exact numbers (timestamps, free-form Decimals) are `JsonNumber` strings."""
        return encode_dataclass(self)

    @classmethod
    def from_json(cls: type[T], s: Any, **kw: Any) -> T:
        """Strict load (see `load_json`)."""
        return load_json(cls, s)

    @classmethod
    def from_dict(cls: type[T], kvs: Any, **kw: Any) -> T:
        """Strict load of a dict (see `load_dict`); JSON-ready trees from `to_dict` load back."""
        return load_dict(cls, kvs)

    @classmethod
    def schema(cls, *args: Any, **kw: Any) -> NoReturn:
        """Not available: dataclasses-json's marshmallow schema is not strict and does not read our format."""
        raise SerialisationError(
            f"{cls.__name__}.schema() (dataclasses-json's marshmallow schema) is not supported: it loads "
            f"without our strict checks and cannot read this format. Use {cls.__name__}.from_json() / "
            f"from_dict() to load and to_json() / to_dict() to write."
        )


__all__ = [
    "JSON_NUMBER",
    "MAX_JSON_DEPTH",
    "OMIT_EMPTY",
    "JsonModel",
    "JsonNumber",
    "check_fields",
    "dump_json",
    "encode_dataclass",
    "encode_value",
    "load_dict",
    "load_json",
    "parse_json_text",
]
