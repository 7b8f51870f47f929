"""Read-only calls at several past blocks in one HTTP round trip, one JSON-RPC request per block.

`eth_simulateV1` on a block runs all the calls made at that block in one request, where `eth_call` takes one
request per call. The calls run on the state after the block; anvil also gives them the block's own number
and time (exactly an `eth_call` at the block), geth those of the block after it (the same state, one block
later). The calls carry no state (views, or quoters that revert inside). A node without `eth_simulateV1`
gets the `eth_call`s, in the same single round trip, and is remembered.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vaultexec.chain.rpc import Reply, RPCClient, classify_reply_error, is_missing_method
from vaultexec.dex.reads import SIMULATE_METHOD
from vaultexec.errors import RPCReplyError

#: Clients whose node refused `eth_simulateV1` (they get eth_calls from then on).
_WITHOUT_SIMULATE: weakref.WeakKeyDictionary[RPCClient, bool] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class CallAt:
    """A call (`to`, calldata as 0x-hex) on the state after block `block` (a number)."""

    to: str
    data: str
    block: int


def calls_at_blocks(client: RPCClient, calls: Sequence[CallAt]) -> list[Reply]:
    """Replies shaped as `eth_call`'s (result: the return data as 0x-hex, or the node's error), in order."""
    if not calls:
        return []
    if client not in _WITHOUT_SIMULATE:
        replies = _simulated(client, calls)
        if replies is not None:
            return replies
        _WITHOUT_SIMULATE[client] = True
    return client.batch([("eth_call", [{"to": c.to, "data": c.data}, hex(c.block)]) for c in calls])


def _simulated(client: RPCClient, calls: Sequence[CallAt]) -> list[Reply] | None:
    """One eth_simulateV1 per block, all in one batch; None when the node has no such method."""
    by_block: dict[int, list[int]] = {}  # block -> positions of its calls in `calls`
    for position, call in enumerate(calls):
        by_block.setdefault(call.block, []).append(position)
    requests = [(SIMULATE_METHOD, [{"blockStateCalls": [{"calls": [{"to": calls[p].to, "data": calls[p].data}
                                                                   for p in positions]}],
                                    "validation": False}, hex(block)]) for block, positions in by_block.items()]
    ordered: list[Reply | None] = [None] * len(calls)
    for positions, answer in zip(by_block.values(), client.batch(requests), strict=True):
        if answer.error is not None and is_missing_method(answer.error):
            return None
        replies = _replies(answer, len(positions))
        for n, position in enumerate(positions):
            ordered[position] = replies[n] if isinstance(replies, list) else Reply("eth_call", error=replies)
    return [reply for reply in ordered if reply is not None]


def _replies(answer: Reply, count: int) -> list[Reply] | RPCReplyError:
    """The `count` calls' replies of one block's simulation, or the error every one of them gets."""
    if answer.error is not None:
        return answer.error
    try:
        simulated = answer.result[0]["calls"]
        if len(simulated) == count:
            return [_reply(call) for call in simulated]
    except (KeyError, IndexError, TypeError, ValueError):
        pass
    return classify_reply_error(SIMULATE_METHOD, {"code": -32603, "message": f"unreadable answer ({count} calls "
                                                  f"asked): {str(answer.result)[:200]}"})


def _reply(call: dict[str, Any]) -> Reply:
    if int(str(call.get("status", "0x0")), 16) == 1:
        return Reply("eth_call", result=call.get("returnData") or "0x")
    error = dict(call.get("error") or {})
    error.setdefault("code", 3)
    error.setdefault("message", "execution reverted")
    if "data" not in error and call.get("returnData") not in (None, "0x"):
        error["data"] = call["returnData"]
    return Reply("eth_call", error=classify_reply_error("eth_call", error))
