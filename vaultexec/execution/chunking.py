"""Batches of any size: split into chunks the node accepts and a block holds, each planned on the last's effects.

A chunk is at most what one block's gas holds (`TRADE_GAS_BOUND` per trade) and what keeps its largest
request, the pre-flight `eth_simulateV1` of its vault calls (or the read request before it), inside one
HTTP body the node accepts (`TRADE_BODY_BYTES` per trade, `RPCClient.max_body_bytes`). The executor runs
the chunks one after the other: chunk k+1 is planned once chunk k has landed, so its quotes, running
balances and pre-flight start from chunk k's real effects (a buy of chunk k+1 is funded by a sell of
chunk k because that sell happened). A batch larger than a block is thereby spread over blocks on purpose,
one chunk per block, and every per-batch cost (reads, fees, nonce, polls, log queries) is paid per chunk,
never per trade per poll.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

#: Gas one vault trade may need, for sizing chunks before anything is planned: a two-hop V3 swap through
#: the vault with its checks uses ~250k; the pre-flight's gas limits (+20 %) stay below this.
TRADE_GAS_BOUND = 300_000
#: Bytes one trade adds to its chunk's largest request: its `execute` call in eth_simulateV1 (about
#: 1.2 kB of JSON for a two-hop route) or its reads (about 1.5 kB); twice that for margin.
TRADE_BODY_BYTES = 3_000
#: Chunk size when the node does not say its block gas limit.
FALLBACK_CHUNK = 100

T = TypeVar("T")


def chunk_size(max_body_bytes: int, block_gas_limit: int | None) -> int:
    """Trades per chunk: what one HTTP body carries and one block's gas holds (at least 1)."""
    by_body = max(1, max_body_bytes // TRADE_BODY_BYTES)
    by_gas = max(1, block_gas_limit // TRADE_GAS_BOUND) if block_gas_limit else FALLBACK_CHUNK
    return min(by_body, by_gas)


def block_gas_limit(latest: Any) -> int | None:
    """The gas limit of a block (as eth_getBlockByNumber returns it), None if it does not say."""
    if isinstance(latest, dict) and isinstance(latest.get("gasLimit"), str):
        return int(latest["gasLimit"], 16)
    return None


def split(items: Sequence[T], size: int) -> list[list[T]]:
    """`items` in order, in consecutive chunks of `size` (the last may be smaller)."""
    return [list(items[start:start + size]) for start in range(0, len(items), max(1, size))]
