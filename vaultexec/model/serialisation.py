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

Modules of the codec (every public name is importable from here): `fields` (metadata markers, declared field
types and their shapes), `scalars` (each leaf type's check, writer and reader), `checks` (construction
checks), `encoding` (model -> JSON tree), `decoding` (JSON tree -> model), `jsontext` (JSON text writer and
exact parser). This module adds `JsonModel`, dataclasses-json's API on top of them.
"""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

from dataclasses_json import DataClassJsonMixin

from vaultexec.errors import SerialisationError
from vaultexec.model.checks import CheckedModel, check_fields
from vaultexec.model.decoding import load_dict, load_json
from vaultexec.model.encoding import dump_json, encode_dataclass, encode_value
from vaultexec.model.fields import JSON_NUMBER, JSON_NUMBER_KEY, OMIT_EMPTY, OMIT_EMPTY_KEY
from vaultexec.model.jsontext import MAX_JSON_DEPTH, JsonNumber, parse_json_text, write_json_tree

T = TypeVar("T")


class JsonModel(CheckedModel, DataClassJsonMixin):
    """Base of persisted model classes: checked on construction (`CheckedModel`), dataclasses-json's API
    through the strict codec."""

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
    "JSON_NUMBER_KEY",
    "MAX_JSON_DEPTH",
    "OMIT_EMPTY",
    "OMIT_EMPTY_KEY",
    "CheckedModel",
    "JsonModel",
    "JsonNumber",
    "check_fields",
    "dump_json",
    "encode_dataclass",
    "encode_value",
    "load_dict",
    "load_json",
    "parse_json_text",
    "write_json_tree",
]
