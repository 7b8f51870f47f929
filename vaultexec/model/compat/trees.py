"""JSON trees of executor records: exact copies, our exports, and the `ExecutorExtra` keeping what we do not model."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from vaultexec.errors import BadInputError, SerialisationError
from vaultexec.model.extra import EXECUTOR_EXTRA_FIELD, ExecutorExtra, ExecutorOverride, get_executor_extra
from vaultexec.model.serialisation import (
    MAX_JSON_DEPTH,
    JsonNumber,
    encode_dataclass,
    parse_json_text,
)

# ---------------------------------------------------------------- extras


def _set_extra(obj: object, extra: ExecutorExtra | None) -> None:
    object.__setattr__(obj, EXECUTOR_EXTRA_FIELD, extra)


def _same(a: Any, b: Any) -> bool:
    """Same JSON tree, literally: types must match and decimals keep their digits ("1.0" != "1")."""
    if type(a) is not type(b):
        return False
    if isinstance(a, Decimal):
        return str(a) == str(b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _remember(obj: object, original: dict[str, Any], ours: dict[str, Any]) -> None:
    """Attach what `ours` (our export of `obj`) misses or changes of the executor's `original` dict."""
    extra = ExecutorExtra(order=list(original))
    for key, value in original.items():
        if key not in ours:
            extra.unknown[key] = value
        elif not _same(ours[key], value):
            extra.overrides[key] = ExecutorOverride(as_loaded=ours[key], original=value)
    extra.absent = {key: value for key, value in ours.items() if key not in original}
    _set_extra(obj, extra)


def _restore(obj: object, ours: dict[str, Any]) -> dict[str, Any]:
    """Our export of `obj` with its remembered executor data put back (where our value is unchanged)."""
    extra = get_executor_extra(obj)
    if extra is None:
        return ours
    out = dict(ours)
    for key, as_loaded in extra.absent.items():
        if key in out and _same(out[key], as_loaded):
            del out[key]
    for key, override in extra.overrides.items():
        if key in out and _same(out[key], override.as_loaded):
            out[key] = override.original
    out.update(extra.unknown)
    ordered = {key: out[key] for key in extra.order if key in out}
    ordered.update((key, value) for key, value in out.items() if key not in ordered)
    return ordered


# ---------------------------------------------------------------- JSON trees


def _exact_tree(value: Any, path: str, depth: int = 0) -> Any:
    """Copy of a JSON-ready tree with floats as the Decimal of their repr; non-JSON values and nesting
    deeper than `MAX_JSON_DEPTH` refused."""
    if isinstance(value, float):
        result = Decimal(repr(value))
        if not result.is_finite():
            raise BadInputError(f"{path}: {value} is not a finite number")
        return result
    if isinstance(value, JsonNumber):
        return parse_json_text(str.__str__(value))
    if value is None or isinstance(value, bool | int | str | Decimal):
        return value
    if depth >= MAX_JSON_DEPTH:
        raise SerialisationError(f"{path}: nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, list | tuple):
        return [_exact_tree(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _exact_tree(v, f"{path}.{k}", depth + 1) for k, v in value.items()}
    raise BadInputError(f"{path}: {type(value).__name__} {value!r:.80} is not JSON data")


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadInputError(f"{path}: expected an object, got {type(value).__name__} {value!r:.80}")
    return value


def _our_tree(obj: Any) -> dict[str, Any]:
    """Our encoding of a model dataclass (less its extra) with the executor's float fields as numbers,
    as `parse_json_text` would read it back."""
    encoded = encode_dataclass(obj, executor_numbers=True)
    encoded.pop(EXECUTOR_EXTRA_FIELD, None)
    tree: dict[str, Any] = _exact_tree(encoded, type(obj).__name__)
    return tree
