"""Writing the model: dataclasses and free-form values to JSON trees, refusing what would not load back.

Part of the strict codec; callers import from `vaultexec.model.serialisation` (see its format notes).
Encoders are built once per (class, mode) from the declared field types (`fields.shape_of`).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from vaultexec.errors import BadInputError, SerialisationError
from vaultexec.model.checks import CheckedModel
from vaultexec.model.fields import FieldSpec, Kind, field_specs, optional_arm, shape_of
from vaultexec.model.jsontext import FREE_DEPTH, JsonNumber, JsonRaw, write_json_tree
from vaultexec.model.scalars import (
    SCALARS,
    WriteRefusedError,
    decimal_text,
    describe,
    encode_bytes,
    encode_datetime,
    encode_int,
    encode_str,
    encode_timedelta,
    free_decimal_text,
    refuse,
)

T = TypeVar("T")
_Encoder = Callable[[Any], Any]


def encode_value(value: Any) -> Any:
    """A model dataclass (typed, see `serialisation`) or a free-form value as a JSON-ready tree."""
    return _writing(value, lambda: _encode_free(value))


def encode_dataclass(obj: Any, executor_numbers: bool = False) -> dict[str, Any]:
    """Every field of a model dataclass in declaration order, less `OMIT_EMPTY` fields that are empty.

    Timestamps and free-form Decimals are `JsonNumber`s; `executor_numbers` also writes `JSON_NUMBER`
    Decimal fields as `JsonNumber`s (trade-executor's form). SerialisationError for an unwritable object.
    """
    return _writing(obj, lambda: _encode_object(obj, executor_numbers))


def dump_json(obj: Any) -> str:
    """Serialise a model dataclass to JSON text (format: `serialisation`); SerialisationError if it would not load.

    Frozen model objects inside (pairs, assets, asset deltas) are written from `_TEXT_CACHE` when this process
    wrote the very same object before: the store writes each trade at every state change, and those parts
    never change."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _writing(obj, lambda: write_json_tree(_encode_object(obj, False, True)))
    return _writing(obj, lambda: write_json_tree(_encode_free(obj)))


def _writing(what: Any, action: Callable[[], T]) -> T:
    """Run an encoding step, turning refusals into `SerialisationError` naming the field path."""
    try:
        return action()
    except WriteRefusedError as e:
        name = type(what).__name__
        raise SerialisationError(f"{name}{e.path}: {e.reason}; not written (it would not load back)") from None
    except SerialisationError:
        raise
    except (ValueError, RecursionError) as e:  # an int beyond Python's digit limit, nesting too deep
        raise SerialisationError(f"{type(what).__name__}: cannot serialise: {e}") from e


# ---------------------------------------------------------------- free-form values


def _encode_free(value: Any, depth: int = 0) -> Any:
    """A free-form (`Any`) value as a JSON tree: Decimals become exact JSON numbers, floats are refused."""
    if value is None or (isinstance(value, bool | int | str) and not isinstance(value, enum.Enum)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return JsonNumber(free_decimal_text(value))
    if isinstance(value, datetime.datetime):
        return encode_datetime(value)
    if isinstance(value, datetime.timedelta):
        return encode_timedelta(value)
    if isinstance(value, bytes):
        return encode_bytes(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _encode_object(value, False)
    if isinstance(value, list | tuple | dict) and depth >= FREE_DEPTH:
        raise WriteRefusedError(f"free-form data nested deeper than {FREE_DEPTH} levels")
    if isinstance(value, list | tuple):
        return _encode_items(value, lambda item: _encode_free(item, depth + 1))
    if isinstance(value, dict):
        return _encode_mapping(value, _encode_free_key, lambda item: _encode_free(item, depth + 1))
    if isinstance(value, float):
        raise WriteRefusedError(f"float {value!r} in the model; floats are never stored, use Decimal")
    raise WriteRefusedError(f"cannot serialise {describe(value)}")


def _encode_free_key(key: Any) -> str:
    if isinstance(key, bool) or not isinstance(key, int | str):
        raise WriteRefusedError(f"dict key {key!r:.80}: only str and int keys are serialisable")
    return str(key)


def _encode_items(value: Any, item: _Encoder) -> list[Any]:
    out: list[Any] = []
    try:
        for v in value:
            out.append(item(v))
    except WriteRefusedError as e:
        e.path = f"[{len(out)}]{e.path}"
        raise
    return out


def _encode_mapping(value: dict[Any, Any], key: Callable[[Any], str], item: _Encoder) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in value.items():
        try:
            out[key(k)] = item(v)
        except WriteRefusedError as e:
            e.path = f"[{k!r:.40}]{e.path}"
            raise
    return out


# ---------------------------------------------------------------- typed fields


def _encoder(tp: Any, as_number: bool, executor_numbers: bool, text: bool) -> _Encoder:
    """A function value -> JSON tree for declared type `tp`, refusing values of any other type.

    `as_number`: Decimals are `JsonNumber`s (trade-executor's float fields, in `executor_numbers` mode).
    `text`: the tree is for `dump_json`, frozen model objects may be cached JSON text (`JsonRaw`).
    """
    shape = shape_of(tp)
    match shape.kind:
        case Kind.FREE:
            return _encode_free
        case Kind.OPTIONAL:
            inner = _encoder(shape.inner, as_number, executor_numbers, text)
            return lambda value: None if value is None else inner(value)
        case Kind.LIST:
            return _list_encoder(_encoder(shape.inner, as_number, executor_numbers, text))
        case Kind.DICT:
            key = encode_str if shape.key is str else _encode_int_key
            return _dict_encoder(key, _encoder(shape.inner, as_number, executor_numbers, text))
        case Kind.SCALAR:
            return _decimal_number if tp is Decimal and as_number else SCALARS[tp].encode
        case Kind.ENUM:
            return _enum_encoder(tp)
        case Kind.MODEL:
            if text and tp.__dataclass_params__.frozen:
                return _cached_text_encoder(tp)
            return _dataclass_encoder(tp, executor_numbers, text)


def _decimal_number(value: Any) -> JsonNumber:
    return JsonNumber(decimal_text(value))


def _encode_int_key(key: Any) -> str:
    return str(encode_int(key))


def _list_encoder(item: _Encoder) -> _Encoder:
    def encode(value: Any) -> list[Any]:
        if not isinstance(value, list | tuple):
            refuse("a list", value)
        return _encode_items(value, item)

    return encode


def _dict_encoder(key: Callable[[Any], str], item: _Encoder) -> _Encoder:
    def encode(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            refuse("a dict", value)
        return _encode_mapping(value, key, item)

    return encode


def _enum_encoder(tp: type[enum.Enum]) -> _Encoder:
    def encode(value: Any) -> Any:
        if not isinstance(value, tp):
            refuse(f"a {tp.__name__}", value)
        return value.value

    return encode


def _dataclass_encoder(tp: type, executor_numbers: bool, text: bool) -> _Encoder:
    def encode(value: Any) -> dict[str, Any]:
        if type(value) is not tp:
            refuse(f"a {tp.__name__}", value)
        return _encode_object(value, executor_numbers, text)

    return encode


#: id(frozen model object) -> (the object, its JSON text): what `dump_json` wrote for it. The entry holds the
#: object, so its id is not reused while cached; emptied when full.
_TEXT_CACHE: dict[int, tuple[Any, JsonRaw]] = {}
TEXT_CACHE_SIZE = 50_000
#: Frozen model class -> (fields that must be None for its text to be cached: free-form, lists, dicts,
#: mutable models, which could change in place; fields holding frozen models, checked the same way).
_FROZEN_LAYOUTS: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _cached_text_encoder(tp: type) -> _Encoder:
    """Encoder of a frozen model class for `dump_json`: the object's cached JSON text when this object was
    written before and holds nothing that can change in place (`_unchanging`), else its tree."""
    def encode(value: Any) -> Any:
        if type(value) is not tp:
            refuse(f"a {tp.__name__}", value)
        entry = _TEXT_CACHE.get(id(value))
        if entry is not None and entry[0] is value:
            return entry[1]
        tree = _encode_object(value, False, True)
        if not _unchanging(value):
            return tree
        raw = JsonRaw(write_json_tree(tree))
        if len(_TEXT_CACHE) >= TEXT_CACHE_SIZE:
            _TEXT_CACHE.clear()
        _TEXT_CACHE[id(value)] = (value, raw)
        return raw

    return encode


def _unchanging(obj: Any) -> bool:
    """A frozen model object whose fields hold only immutable values (scalars, enums, such objects)."""
    layout = _FROZEN_LAYOUTS.get(type(obj))
    if layout is None:
        layout = _FROZEN_LAYOUTS[type(obj)] = _frozen_layout(type(obj))
    volatile, nested = layout
    return (all(getattr(obj, name) is None for name in volatile)
            and all((value := getattr(obj, name)) is None or _unchanging(value) for name in nested))


def _frozen_layout(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    volatile: list[str] = []
    nested: list[str] = []
    for spec in field_specs(cls):
        tp = optional_arm(spec.tp) or spec.tp
        kind = shape_of(tp).kind
        if kind in (Kind.SCALAR, Kind.ENUM):
            continue
        frozen_model = kind is Kind.MODEL and bool(tp.__dataclass_params__.frozen)
        (nested if frozen_model else volatile).append(spec.name)
    return tuple(volatile), tuple(nested)


# ---------------------------------------------------------------- dataclasses


@dataclasses.dataclass(frozen=True)
class _Plan:
    #: (name, encoder of the non-None type, omit when empty, may be None) per field.
    fields: tuple[tuple[str, _Encoder, bool, bool], ...]
    #: The class's `validate`, for mutable classes that define one (frozen ones were checked when built).
    validate: Callable[[Any], None] | None


_PLANS: dict[tuple[type, bool, bool], _Plan] = {}


def _plan(cls: type, executor_numbers: bool, text: bool) -> _Plan:
    plan = _PLANS.get((cls, executor_numbers, text))
    if plan is None:
        fields = tuple(_plan_field(spec, executor_numbers, text) for spec in field_specs(cls))
        plan = _Plan(fields, _write_validation(cls))
        _PLANS[(cls, executor_numbers, text)] = plan
    return plan


def _write_validation(cls: type) -> Callable[[Any], None] | None:
    """The `validate` a write runs: a mutable model class's own, if it defines one."""
    frozen = cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    if frozen or not issubclass(cls, CheckedModel) or cls.validate is CheckedModel.validate:
        return None
    return cls.validate


def _plan_field(spec: FieldSpec, executor_numbers: bool, text: bool) -> tuple[str, _Encoder, bool, bool]:
    arm = optional_arm(spec.tp)
    encoder = _encoder(spec.tp if arm is None else arm, executor_numbers and spec.executor_number, executor_numbers,
                       text)
    return spec.name, encoder, spec.omit_empty, arm is not None


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, list | tuple | dict) and len(value) == 0)


def _encode_object(obj: Any, executor_numbers: bool, text: bool = False) -> dict[str, Any]:
    plan = _plan(type(obj), executor_numbers, text)
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
    except WriteRefusedError as e:
        e.path = f".{name}{e.path}"
        raise
    if plan.validate is not None:
        try:
            plan.validate(obj)
        except BadInputError as e:
            raise WriteRefusedError(f"{type(obj).__name__} fails its own validation: {e}") from e
    return tree
