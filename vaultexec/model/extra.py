"""What a trade-executor object held that our fields do not express, carried so it can be written back.

`model.compat` fills it when loading executor JSON; every model class that compat loads (asset, pair,
transaction, pricing, trade) has an optional `executor_extra` field declared
`field(default=None, compare=False, repr=False, metadata=OMIT_EMPTY)`: written to our JSON only when set,
and ignored by equality and hashing (an asset with extras is the same dict key).
Values are JSON trees as `serialisation.parse_json_text` gives them (non-integer numbers as `Decimal`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vaultexec.model.serialisation import OMIT_EMPTY, JsonModel

#: Name of the field holding an `ExecutorExtra` on model classes.
EXECUTOR_EXTRA_FIELD = "executor_extra"


@dataclass
class ExecutorOverride(JsonModel):
    """An executor value our mapping does not reproduce, and our value it stands in for."""

    #: Both are JSON trees (free-form: their decimals are written as JSON numbers, as the executor had them).
    #: Our field's value (executor form) when loaded; `original` is written back only while it still holds.
    as_loaded: Any
    #: The executor's value, verbatim.
    original: Any


@dataclass
class ExecutorExtra(JsonModel):
    """Executor-only data of one object: unknown fields, overridden values, key order."""

    #: The executor dict's key order.
    order: list[str] = field(default_factory=list)
    #: Executor fields we do not model, verbatim.
    unknown: dict[str, Any] = field(default_factory=dict, metadata=OMIT_EMPTY)
    #: Key -> override, for mappings that do not reproduce the executor's value.
    overrides: dict[str, ExecutorOverride] = field(default_factory=dict, metadata=OMIT_EMPTY)
    #: Keys we write that the executor dict lacked (older executor versions) -> our value as loaded.
    absent: dict[str, Any] = field(default_factory=dict, metadata=OMIT_EMPTY)


def get_executor_extra(obj: object) -> ExecutorExtra | None:
    """The executor-only data of a model object loaded by `compat.trade_from_executor_dict`, else None."""
    extra = getattr(obj, EXECUTOR_EXTRA_FIELD, None)
    return extra if isinstance(extra, ExecutorExtra) else None


__all__ = ["EXECUTOR_EXTRA_FIELD", "ExecutorExtra", "ExecutorOverride", "get_executor_extra"]
