"""Construction checks of model dataclasses: every field against its declared type, then the class's rules.

Part of the strict codec; callers import from `vaultexec.model.serialisation` (see its format notes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vaultexec.model.fields import Kind, field_specs, shape_of, skip_none
from vaultexec.model.scalars import SCALARS, bad, instance_check

_Check = Callable[[Any, str], Any]
_CHECKS: dict[type, tuple[tuple[str, str, _Check], ...]] = {}


class CheckedModel:
    """Base of model dataclasses: `__post_init__` runs `check_fields`, then the class's `validate()`."""

    def __post_init__(self) -> None:
        check_fields(self)
        self.validate()

    def validate(self) -> None:
        """Raise BadInputError when a value breaks a rule of the class beyond its field types.

        Runs on construction (and so on load) and, for mutable classes, before every write.
        """


def check_fields(obj: Any) -> None:
    """Check every field of a model dataclass against its declared type, in place; BadInputError naming it.

    Decimals are coerced from int and decimal strings (floats refused, see `to_decimal`), sequences become
    lists; everything else must already have its declared type (naive datetimes only). Free-form (`Any`)
    values are checked when written.
    """
    cls = type(obj)
    checks = _CHECKS.get(cls)
    if checks is None:
        checks = tuple((spec.name, f"{cls.__name__}.{spec.name}", _check(spec.tp)) for spec in field_specs(cls))
        _CHECKS[cls] = checks
    for name, path, check in checks:
        value = getattr(obj, name)
        checked = check(value, path)
        if checked is not value:
            object.__setattr__(obj, name, checked)


def _check(tp: Any) -> _Check:
    """A function (value, path) -> value of type `tp`, raising BadInputError (see `check_fields`)."""
    shape = shape_of(tp)
    match shape.kind:
        case Kind.FREE:
            return _unchecked
        case Kind.OPTIONAL:
            return skip_none(_check(shape.inner))
        case Kind.LIST:
            return _sequence_check(_check(shape.inner))
        case Kind.DICT:
            return _dict_check(shape.key, _check(shape.inner))
        case Kind.SCALAR:
            return SCALARS[tp].check
        case Kind.ENUM:
            return instance_check(tp)
        case Kind.MODEL:
            return _exact_type_check(tp)


def _unchecked(value: Any, path: str) -> Any:
    return value


def _exact_type_check(tp: type) -> _Check:
    """Nested model objects must be of the declared class itself (a subclass would not load back as one)."""

    def check(value: Any, path: str) -> Any:
        if type(value) is not tp:
            bad(path, f"a {tp.__name__}", value)
        return value

    return check


def _sequence_check(item: _Check) -> _Check:
    def check(value: Any, path: str) -> Any:
        if not isinstance(value, list | tuple):
            bad(path, "a list", value)
        items = [item(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, list) and all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return items

    return check


def _dict_check(key_tp: Any, item: _Check) -> _Check:
    key_check = instance_check(key_tp)

    def check(value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            bad(path, "a dict", value)
        changed = False
        out = {}
        for k, v in value.items():
            key_check(k, f"{path} key")
            out[k] = item(v, f"{path}[{k!r}]")
            changed = changed or out[k] is not v
        return out if changed else value

    return check
