"""Text that comes from the chain (revert strings, token symbols, node error messages), made safe to show.

A revert string is chosen by whoever wrote the contract: a newline in it forges a log line, an ANSI escape
repaints the terminal, a bidi override reorders what the reader sees. `escape_text` writes every control,
format (bidi) and line/paragraph separator character as a visible escape (`\\n`, `\\x1b`, `\\u202e`) and keeps
all other text as it is.
"""

from __future__ import annotations

import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: Categories shown escaped: control, format (bidi controls, zero-width), line and paragraph separators,
#: surrogates and unassigned code points.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Cn"})


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape_text(text: str) -> str:
    """`text` with every unsafe character (see module doc) written as an escape; safe text unchanged."""
    if text.isprintable():  # the usual case: nothing to escape (isprintable is False for every unsafe class)
        return text
    return "".join(_escape(c) if unicodedata.category(c) in _UNSAFE_CATEGORIES else c for c in text)
