"""Declared fields of model dataclasses, as the codec sees them: metadata markers, specs and type shapes.

Part of the strict codec; callers import from `vaultexec.model.serialisation` (see its format notes).
`shape_of` is the one type dispatch: construction checks, encoders and decoders each map its kinds to
their own builders.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from typing import Any

from vaultexec.model.scalars import SCALARS

#: Field metadata key marking Decimal fields trade-executor stores as JSON numbers (its float fields).
JSON_NUMBER_KEY = "vaultexec_json_number"
#: Field metadata key marking fields left out of the JSON while empty (None, [] or {}).
OMIT_EMPTY_KEY = "vaultexec_omit_empty"

#: `field(metadata=JSON_NUMBER)`: trade-executor writes this Decimal field as a JSON number (see `model.compat`).
JSON_NUMBER = {JSON_NUMBER_KEY: True}
#: `field(default=..., metadata=OMIT_EMPTY)`: not written while empty; the default must be that empty value.
OMIT_EMPTY = {OMIT_EMPTY_KEY: True}


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    name: str
    tp: Any
    omit_empty: bool
    executor_number: bool


_SPECS: dict[type, tuple[FieldSpec, ...]] = {}


def field_specs(cls: type) -> tuple[FieldSpec, ...]:
    """Declared fields of dataclass `cls` with their resolved types, cached."""
    specs = _SPECS.get(cls)
    if specs is None:
        hints = typing.get_type_hints(cls)
        specs = tuple(
            FieldSpec(f.name, hints[f.name], bool(f.metadata.get(OMIT_EMPTY_KEY)),
                      bool(f.metadata.get(JSON_NUMBER_KEY)))
            for f in dataclasses.fields(cls)
        )
        _SPECS[cls] = specs
    return specs


def optional_arm(tp: Any) -> Any | None:
    """X for `X | None`; None for any other type (a union of several types is unsupported)."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    arms = [arm for arm in typing.get_args(tp) if arm is not type(None)]
    if len(arms) != 1 or len(typing.get_args(tp)) != 2:
        raise TypeError(f"the model uses unsupported union {tp!r}; only X | None is supported")
    return arms[0]


class Kind(enum.Enum):
    """What a declared field type is."""

    FREE = "free"  # Any: free-form JSON data
    OPTIONAL = "optional"  # X | None
    LIST = "list"  # list[X] or Sequence[X]
    DICT = "dict"  # dict[K, V]
    SCALAR = "scalar"  # a type of `scalars.SCALARS`
    ENUM = "enum"
    MODEL = "model"  # a nested dataclass


@dataclasses.dataclass(frozen=True)
class Shape:
    """A declared field type taken apart; SCALAR, ENUM and MODEL need only the type itself."""

    kind: Kind
    #: X of `X | None`, `list[X]`; V of `dict[K, V]`.
    inner: Any = None
    #: K of `dict[K, V]`.
    key: Any = None


def shape_of(tp: Any) -> Shape:
    """Take a declared field type apart; TypeError for a type the codec cannot write and read back."""
    if tp is Any:
        return Shape(Kind.FREE)
    arm = optional_arm(tp)
    if arm is not None:
        return Shape(Kind.OPTIONAL, arm)
    origin = typing.get_origin(tp)
    if origin in (list, collections.abc.Sequence):
        return Shape(Kind.LIST, typing.get_args(tp)[0])
    if origin is dict:
        key_tp, value_tp = typing.get_args(tp)
        return Shape(Kind.DICT, value_tp, key_tp)
    if tp in SCALARS:
        return Shape(Kind.SCALAR)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return Shape(Kind.ENUM)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return Shape(Kind.MODEL)
    raise TypeError(f"the model uses unsupported type {tp!r}")


def skip_none(inner: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    """A (value, path) step for `X | None` from the step for X: None passes through."""
    return lambda value, path: None if value is None else inner(value, path)
