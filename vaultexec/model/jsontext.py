"""JSON text of the model's codec: the tree writer, the exact-number parser and the nesting limits.

Part of the strict codec; callers import from `vaultexec.model.serialisation` (see its format notes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from json.encoder import c_make_encoder as _c_make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring_ascii
from typing import Any

from vaultexec.errors import SerialisationError

#: Deepest JSON nesting read or written. Real records nest about 15 levels; the limit keeps parsing and
#: writing far from the C stack, which a raised recursion limit (py_ecc sets 100000) would let overflow,
#: and (a few frames per level) well inside Python's default recursion limit of 1000, which is what runs
#: under web3 7 (nothing raises it there): the depth check must refuse before a RecursionError can.
MAX_JSON_DEPTH = 200
#: Free-form values sit at most this many levels inside the typed model (trade -> price_structure -> path
#: -> pair -> asset -> executor_extra -> ...), so a written free-form value never exceeds MAX_JSON_DEPTH.
FREE_DEPTH = MAX_JSON_DEPTH - 50
#: JSON strings and brackets, for measuring nesting without parsing.
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


class JsonNumber(str):
    """Text of an exact JSON number literal, emitted without quotes by `write_json_tree`."""


class JsonRaw(str):
    """JSON text of a whole value (a cached encoding, see `encoding.dump_json`), emitted as is by
    `write_json_tree`."""


def float_form_text(value: Decimal) -> str:
    """`value` as Python's float repr writes it ("1.2071146431284867e-07", "5.89e-05") when that repr has exactly
    `value`'s digits and exponent, else the exact Decimal text. trade-executor writes its float fields with
    `json.dumps` (the float's repr), so a number read from its JSON is written back as the same text."""
    if value.is_finite():
        text = repr(float(value))
        if "n" not in text and Decimal(text).as_tuple() == value.as_tuple():
            return text
    return exact_decimal_text(value)


def float_form_tree(tree: Any) -> Any:
    """Copy of a JSON tree whose non-integer numbers (Decimal, `JsonNumber`) are `float_form_text` numbers."""
    if isinstance(tree, JsonNumber):
        text = str.__str__(tree)
        if any(c in text for c in ".eE"):
            return JsonNumber(float_form_text(Decimal(text)))
        return tree
    if isinstance(tree, Decimal):
        return JsonNumber(float_form_text(tree))
    if isinstance(tree, dict):
        return {k: float_form_tree(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [float_form_tree(v) for v in tree]
    return tree
#: The C encoders of `write_json_tree`, by Decimal writer.
_C_ENCODERS: dict[Callable[[Decimal], str], Any] = {}


def exact_decimal_text(value: Decimal) -> str:
    """The exact digits of a finite Decimal; SerialisationError for NaN and infinities (not JSON)."""
    if not value.is_finite():
        raise SerialisationError(f"cannot serialise non-finite decimal {value}")
    return str(value)


def write_json_tree(tree: Any, decimal_text: Callable[[Decimal], str] = exact_decimal_text) -> str:
    """Compact-ish JSON text of a tree of dict/list/str/int/bool/None/Decimal (JsonNumber unquoted);
    `decimal_text` writes a Decimal (default: our exact string form). The hot path of every stored trade.

    Dict keys are plain strings (field names). Walked by the json module's C encoder where it exists (about
    twice as fast), with strings and Decimals written by the same rules as `write_json_tree_py`, the
    reference writer: the same text (tests/model/test_jsontext_writer.py).
    """
    if _c_make_encoder is None:
        return write_json_tree_py(tree, decimal_text)
    encoder = _C_ENCODERS.get(decimal_text)
    if encoder is None:
        encoder = _C_ENCODERS[decimal_text] = _c_encoder(decimal_text)
    return "".join(encoder(tree, 0))


def _json_string(value: str) -> str:
    kind = type(value)
    return str.__str__(value) if kind is JsonNumber or kind is JsonRaw else encode_basestring_ascii(value)


def _c_encoder(decimal_text: Callable[[Decimal], str]) -> Any:
    def number(value: object) -> object:
        if isinstance(value, Decimal):
            return JsonNumber(decimal_text(value))
        return json.loads(json.dumps(value, allow_nan=False))  # what the reference writer makes of it

    assert _c_make_encoder is not None
    return _c_make_encoder(None, number, _json_string, None, ": ", ", ", False, False, False)


def write_json_tree_py(tree: Any, decimal_text: Callable[[Decimal], str] = exact_decimal_text) -> str:
    """The reference writer of `write_json_tree`, in Python."""
    if isinstance(tree, JsonNumber | JsonRaw):
        return str.__str__(tree)
    if isinstance(tree, str):
        return encode_basestring_ascii(tree)
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{encode_basestring_ascii(k)}: {write_json_tree_py(v, decimal_text)}"
                               for k, v in tree.items()) + "}"
    if isinstance(tree, list):
        return "[" + ", ".join(write_json_tree_py(item, decimal_text) for item in tree) + "]"
    if isinstance(tree, Decimal):
        return decimal_text(tree)
    if tree is None or isinstance(tree, bool):
        return {None: "null", True: "true", False: "false"}[tree]
    if isinstance(tree, int):
        return int.__repr__(tree)
    return json.dumps(tree, allow_nan=False)


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
