"""Reading the model: JSON trees into model dataclasses, strictly (unknown, missing or mistyped fields refused).

Part of the strict codec; callers import from `vaultexec.model.serialisation` (see its format notes).
Decoders are built once per class from the declared field types (`fields.shape_of`).
"""

from __future__ import annotations

import dataclasses
import enum
import re
import typing
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from vaultexec.errors import BadInputError, SerialisationError
from vaultexec.model.fields import Kind, field_specs, shape_of, skip_none
from vaultexec.model.jsontext import FREE_DEPTH, JsonNumber, parse_json_text
from vaultexec.model.scalars import SCALARS, fail, to_exact_number

T = TypeVar("T")
_Decoder = Callable[[Any, str], Any]
_INT_KEY = re.compile(r"-?[0-9]+")


def load_json(cls: type[T], text: str | bytes) -> T:
    """Load JSON text into `cls`, strictly."""
    return load_dict(cls, parse_json_text(text))


def load_dict(cls: type[T], data: Any) -> T:
    """Load a JSON-ready dict (as from `parse_json_text`) into dataclass `cls`, strictly."""
    try:
        return typing.cast(T, _decode_dataclass(cls, data, cls.__name__))
    except RecursionError as e:
        raise SerialisationError(f"{cls.__name__}: data nested too deeply to load") from e


def _decoder(tp: Any) -> _Decoder:
    """A function (JSON value, path) -> model value of declared type `tp`, raising SerialisationError."""
    shape = shape_of(tp)
    match shape.kind:
        case Kind.FREE:
            return _decode_any
        case Kind.OPTIONAL:
            return skip_none(_decoder(shape.inner))
        case Kind.LIST:
            return _list_decoder(_decoder(shape.inner))
        case Kind.DICT:
            key = _decode_int_key if shape.key is int else _decode_str_key
            return _dict_decoder(key, _decoder(shape.inner))
        case Kind.SCALAR:
            return SCALARS[tp].decode
        case Kind.ENUM:
            return _enum_decoder(tp)
        case Kind.MODEL:
            return lambda value, path: _decode_dataclass(tp, value, path)


def _list_decoder(item: _Decoder) -> _Decoder:
    def decode(value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            fail(path, "a list", value)
        return [item(v, f"{path}[{i}]") for i, v in enumerate(value)]

    return decode


def _dict_decoder(key: Callable[[str, str], Any], item: _Decoder) -> _Decoder:
    def decode(value: Any, path: str) -> dict[Any, Any]:
        if not isinstance(value, dict):
            fail(path, "an object", value)
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
            fail(path, f"one of {allowed}", value)

    return decode


def _decode_any(value: Any, path: str, depth: int = 0) -> Any:
    """Free-form JSON (call arguments, details): checked to be JSON, numbers kept exact."""
    if isinstance(value, JsonNumber):
        return to_exact_number(value, path)
    if value is None or isinstance(value, bool | int | str | Decimal):
        return value
    if depth >= FREE_DEPTH:
        raise SerialisationError(f"{path}: free-form data nested deeper than {FREE_DEPTH} levels")
    if isinstance(value, list):
        return [_decode_any(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _decode_any(v, f"{path}[{k!r}]", depth + 1) for k, v in value.items()}
    fail(path, "JSON data (floats refused, load text with load_json)", value)


# ---------------------------------------------------------------- dataclasses


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
        decoders = tuple((spec.name, _decoder(spec.tp)) for spec in field_specs(cls) if spec.name in init)
        reader = _Reader(frozenset(init), required, decoders)
        _READERS[cls] = reader
    return reader


def _decode_dataclass(cls: type, data: Any, path: str) -> Any:
    if not isinstance(data, dict):
        fail(path, f"an object for {cls.__name__}", data)
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
