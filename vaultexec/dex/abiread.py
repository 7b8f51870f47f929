"""Fast ABI decoding of the few layouts the pipeline reads once or more per trade.

eth-abi builds and runs a chain of decoder objects on every call (~25-60 µs for a word or two); the pipeline
decodes a dozen read results and a few event logs per trade. `decode_words` reads the same values directly
from the 32-byte words for static `uintN`, `intN`, `bool` and `address` and for the dynamic arrays `uint256[]`
and `address[]`, giving the values eth-abi gives (addresses lower-case, arrays as tuples). Anything it does
not read cleanly (another type, short data, non-zero padding, an odd array offset) goes to eth-abi itself, so
malformed data raises eth-abi's own `DecodingError`. Equality with eth-abi: tests/dex/test_abiread.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from eth_abi.abi import decode as eth_abi_decode

_WORD = 32
#: (data, offset of the word, length of the head) -> value; the head length bounds a dynamic part's offset.
_Reader = Callable[[bytes, int, int], Any]


class _UncleanError(Exception):
    """The fast reader met something it does not read itself: eth-abi decides."""


def decode_words(kinds: Sequence[str], data: bytes) -> tuple[Any, ...]:
    """`eth_abi.decode(kinds, data)`, faster for the layouts above; eth-abi's result and errors otherwise."""
    readers = _readers(tuple(kinds))
    head = _WORD * len(readers) if readers is not None else 0
    if readers is not None and len(data) >= head:
        try:
            return tuple(read(data, _WORD * n, head) for n, read in enumerate(readers))
        except _UncleanError:
            pass
    return tuple(eth_abi_decode(list(kinds), data))


@lru_cache(maxsize=256)
def _readers(kinds: tuple[str, ...]) -> tuple[_Reader, ...] | None:
    readers = [_reader(kind) for kind in kinds]
    return None if any(r is None for r in readers) else tuple(r for r in readers if r is not None)


def _reader(kind: str) -> _Reader | None:
    if kind == "bool":
        return _read_bool
    if kind == "address":
        return _read_address
    if kind == "uint256[]":
        return _array(_read_uint(256))
    if kind == "address[]":
        return _array(_read_address)
    for prefix, make in (("uint", _read_uint), ("int", _read_int)):
        if kind.startswith(prefix) and kind[len(prefix):].isdigit():
            bits = int(kind[len(prefix):])
            return make(bits) if 8 <= bits <= 256 and bits % 8 == 0 else None
    return None


def _word(data: bytes, at: int) -> bytes:
    word = data[at:at + _WORD]
    if len(word) != _WORD:
        raise _UncleanError
    return word


def _read_uint(bits: int) -> _Reader:
    limit = 1 << bits

    def read(data: bytes, at: int, head: int = 0) -> int:
        value = int.from_bytes(_word(data, at), "big")
        if value >= limit:
            raise _UncleanError
        return value

    return read


def _read_int(bits: int) -> _Reader:
    low, high = -(1 << (bits - 1)), 1 << (bits - 1)

    def read(data: bytes, at: int, head: int = 0) -> int:
        value = int.from_bytes(_word(data, at), "big", signed=True)
        if not low <= value < high:
            raise _UncleanError
        return value

    return read


def _read_bool(data: bytes, at: int, head: int = 0) -> bool:
    value = int.from_bytes(_word(data, at), "big")
    if value > 1:
        raise _UncleanError
    return value == 1


def _read_address(data: bytes, at: int, head: int = 0) -> str:
    word = _word(data, at)
    if any(word[:12]):
        raise _UncleanError
    return "0x" + word[12:].hex()


def _array(element: _Reader) -> _Reader:
    def read(data: bytes, at: int, head: int) -> tuple[Any, ...]:
        offset = int.from_bytes(_word(data, at), "big")
        if offset < head or offset % _WORD or offset + _WORD > len(data):
            raise _UncleanError
        count = int.from_bytes(_word(data, offset), "big")
        start = offset + _WORD
        if start + count * _WORD > len(data):
            raise _UncleanError
        return tuple(element(data, start + _WORD * n, 0) for n in range(count))

    return read
