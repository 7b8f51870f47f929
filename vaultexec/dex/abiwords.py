"""Fast ABI encoding of the fixed layouts the pipeline encodes once or more per trade.

eth-abi parses type strings and validates every value through its codec registry on each call (~40 µs for
the vault's `execute`); the pipeline encodes the vault call, its approve and swap, and a dozen read
requests per trade. These helpers write the same words directly: 32-byte big-endian words, left-padded
addresses, head/tail offsets for dynamic parts (the ABI specification's layout). Every encoder built on
them is proven equal to eth-abi's output in tests/dex/test_abiwords.py.

A part of a tuple is `(dynamic, encoding)`: `static(...)` for words in place, `dynamic(...)` for a tail
reached through an offset.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from vaultexec.errors import BadInputError

MAX_UINT256 = 2**256 - 1
Part = tuple[bool, bytes]


def uint(value: int) -> bytes:
    """One uint word (any uintN: the caller keeps the value in its N bits)."""
    if not 0 <= value <= MAX_UINT256:
        raise BadInputError(f"{value} does not fit an ABI uint256 word")
    return value.to_bytes(32, "big")


def address(value: str) -> bytes:
    """One address word from a 0x-prefixed 20-byte hex address."""
    raw = bytes.fromhex(value[2:])
    if len(raw) != 20:
        raise BadInputError(f"{value} is not a 20-byte address")
    return b"\0" * 12 + raw


def bytes_tail(data: bytes) -> bytes:
    """A `bytes` value's tail: its length, then the data right-padded to whole words."""
    return uint(len(data)) + data + b"\0" * (-len(data) % 32)


def address_array_tail(values: Iterable[str]) -> bytes:
    """An `address[]` value's tail."""
    words = [address(v) for v in values]
    return uint(len(words)) + b"".join(words)


def static(*words: bytes) -> Part:
    return False, b"".join(words)


def dynamic(tail: bytes) -> Part:
    return True, tail


def tuple_of(*parts: Part) -> bytes:
    """A tuple (or an argument list): static parts in the head, dynamic ones as offsets to their tails."""
    offset = sum(32 if is_dynamic else len(encoding) for is_dynamic, encoding in parts)
    head, tail = [], []
    for is_dynamic, encoding in parts:
        if is_dynamic:
            head.append(uint(offset))
            tail.append(encoding)
            offset += len(encoding)
        else:
            head.append(encoding)
    return b"".join(head) + b"".join(tail)


def dynamic_array_tail(elements: Sequence[bytes]) -> bytes:
    """A `T[]` value's tail, T dynamic: its length, then the elements' encodings behind offsets."""
    return uint(len(elements)) + tuple_of(*(dynamic(e) for e in elements))


def uint_array_tail(values: Iterable[int]) -> bytes:
    """A `uint256[]` value's tail."""
    words = [uint(v) for v in values]
    return uint(len(words)) + b"".join(words)


def execute_arguments(calls: Sequence[tuple[str, bytes]], max_spend: Sequence[tuple[str, int]],
                      min_receive: Sequence[tuple[str, int]]) -> bytes:
    """The arguments of the vault's `execute((address,bytes)[],(address,uint256)[],(address,uint256)[])`."""
    return tuple_of(
        dynamic(dynamic_array_tail([tuple_of(static(address(t)), dynamic(bytes_tail(d))) for t, d in calls])),
        dynamic(uint(len(max_spend)) + b"".join(address(a) + uint(x) for a, x in max_spend)),
        dynamic(uint(len(min_receive)) + b"".join(address(a) + uint(x) for a, x in min_receive)),
    )
