"""The codec's modules: names kept importable from `serialisation`, one type dispatch, one scalar table."""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import importlib
from decimal import Decimal
from typing import Any

import pytest

from vaultexec.errors import BadInputError, SerialisationError
from vaultexec.model import TradeType, dump_json, load_json
from vaultexec.model.fields import Kind, shape_of
from vaultexec.model.identifiers import AssetIdentifier
from vaultexec.model.scalars import SCALARS, WriteRefusedError
from vaultexec.model.serialisation import JsonModel

#: Every name other modules, tests and scripts import from `serialisation`, with the module that defines it.
PUBLIC_NAMES = {
    "JSON_NUMBER": "fields", "JSON_NUMBER_KEY": "fields", "OMIT_EMPTY": "fields", "OMIT_EMPTY_KEY": "fields",
    "MAX_JSON_DEPTH": "jsontext", "JsonNumber": "jsontext", "parse_json_text": "jsontext",
    "write_json_tree": "jsontext", "check_fields": "checks", "dump_json": "encoding",
    "encode_dataclass": "encoding", "encode_value": "encoding", "load_dict": "decoding", "load_json": "decoding",
    "JsonModel": "serialisation",
}


@pytest.mark.parametrize(("name", "home"), PUBLIC_NAMES.items())
def test_public_names_stay_importable_from_serialisation(name: str, home: str) -> None:
    serialisation = importlib.import_module("vaultexec.model.serialisation")
    assert name in serialisation.__all__
    assert getattr(serialisation, name) is getattr(importlib.import_module(f"vaultexec.model.{home}"), name)


@pytest.mark.parametrize(
    ("tp", "kind", "inner", "key"),
    [
        (Any, Kind.FREE, None, None),
        (int | None, Kind.OPTIONAL, int, None),
        (list[str], Kind.LIST, str, None),
        (collections.abc.Sequence[Decimal | None], Kind.LIST, Decimal | None, None),
        (dict[int, str], Kind.DICT, str, int),
        (Decimal, Kind.SCALAR, None, None),
        (datetime.timedelta, Kind.SCALAR, None, None),
        (TradeType, Kind.ENUM, None, None),
        (AssetIdentifier, Kind.MODEL, None, None),
    ],
)
def test_shape_of_takes_declared_types_apart(tp: Any, kind: Kind, inner: Any, key: Any) -> None:
    shape = shape_of(tp)
    assert (shape.kind, shape.inner, shape.key) == (kind, inner, key)


@pytest.mark.parametrize("tp", [float, tuple[int, ...], set[str], int | str])
def test_shape_of_refuses_types_the_codec_cannot_read_back(tp: Any) -> None:
    with pytest.raises(TypeError, match="unsupported"):
        shape_of(tp)


@dataclasses.dataclass
class _FloatHolder(JsonModel):
    ratio: float


def test_model_class_with_an_unsupported_field_type_is_refused_when_first_built() -> None:
    """Construction checks share the encoder's dispatch: such a class fails at once, not at its first write."""
    with pytest.raises(TypeError, match="unsupported type <class 'float'>"):
        _FloatHolder(0.5)


SAMPLES: dict[type, tuple[Any, Any]] = {
    Decimal: (Decimal("-1.50"), 1.5),
    int: (7, True),
    bool: (False, 0),
    str: ("x", b"x"),
    datetime.datetime: (datetime.datetime(2024, 1, 2, 3, 4, 5, 6), "2024-01-02"),
    datetime.timedelta: (datetime.timedelta(seconds=-1, microseconds=5), "5"),
    bytes: (b"\x00\xff", "00ff"),
}


def test_every_scalar_type_has_a_sample() -> None:
    assert set(SAMPLES) == set(SCALARS)


@pytest.mark.parametrize("tp", SAMPLES)
def test_scalar_steps_agree_value_written_reads_back_and_wrong_types_are_refused(tp: type) -> None:
    good, wrong = SAMPLES[tp]
    scalar = SCALARS[tp]
    assert scalar.check(good, "f") == good
    decoded = scalar.decode(scalar.encode(good), "f")
    assert decoded == good and type(decoded) is type(good)
    assert str(decoded) == str(good)  # exact: "-1.50" keeps its digits
    with pytest.raises(BadInputError, match=r"^f: "):
        scalar.check(wrong, "f")
    with pytest.raises(WriteRefusedError):
        scalar.encode(wrong)
    with pytest.raises(SerialisationError, match=r"^f: expected"):
        scalar.decode(wrong, "f")


@dataclasses.dataclass
class _Counter(JsonModel):
    count: int

    def validate(self) -> None:
        if self.count < 0:
            raise BadInputError(f"count {self.count} is negative")


@dataclasses.dataclass(frozen=True)
class _FrozenCounter(JsonModel):
    count: int

    def validate(self) -> None:
        if self.count < 0:
            raise BadInputError(f"count {self.count} is negative")


def test_write_reruns_validate_of_mutable_classes_only() -> None:
    counter = _Counter(1)
    counter.count = -1
    with pytest.raises(SerialisationError, match=r"_Counter: _Counter fails its own validation: count -1"):
        dump_json(counter)
    frozen = _FrozenCounter(1)
    object.__setattr__(frozen, "count", -1)  # frozen classes were validated when built; no second run
    assert dump_json(frozen) == '{"count": -1}'
    with pytest.raises(SerialisationError, match="refused the stored values: count -1"):
        load_json(_FrozenCounter, dump_json(frozen))
