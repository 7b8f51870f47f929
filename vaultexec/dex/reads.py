"""Many contract calls in one JSON-RPC request: `eth_simulateV1` where the node has it, else a batch of eth_call.

`eth_simulateV1` runs the calls in order in simulated blocks on top of `block`, carrying state from one
call to the next (so a sell that funds a later buy simulates honestly), and reports gasUsed per call.
Calls are spread over blocks of `CALLS_PER_BLOCK` so that they never exhaust one block's gas limit.

Given a `BlockHeader` instead of a tag, the calls run in the blocks *after* it (number + 1, + 2, ...,
each one second later), as a transaction sent now will: a Uniswap V2 pair writes its price accumulators
and a V3 pool its oracle observation only in a block whose timestamp moved since its last swap, so a
simulation in the latest block itself (what nodes do by default; anvil even keeps its timestamp) misses
that gas when the pool was swapped in that block's second. The eth_call fallback passes the same block
overrides (4th parameter of eth_call / eth_estimateGas); a node that refuses that parameter gets the
calls again without it, once, and is remembered (its gas figures then miss next-block effects).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vaultexec.chain.rpc import Reply, RPCClient, is_missing_method
from vaultexec.errors import NodeRejectedError

logger = logging.getLogger(__name__)

SIMULATE_METHOD = "eth_simulateV1"
CALLS_PER_BLOCK = 40
#: Most blocks one eth_simulateV1 request may hold (geth's limit); more calls share blocks.
MAX_SIMULATED_BLOCKS = 256
#: JSON-RPC "invalid params": how a node without block overrides in eth_call answers the 4th parameter.
_INVALID_PARAMS = -32602


@dataclass(frozen=True)
class BlockHeader:
    """Number and timestamp of a mined block; calls run "after" it run in the blocks that follow it."""

    number: int
    timestamp: int

    @classmethod
    def from_json(cls, block: Mapping[str, Any]) -> BlockHeader:
        """From an `eth_getBlockByNumber` result (hex quantities)."""
        return cls(int(block["number"], 16), int(block["timestamp"], 16))

    @property
    def tag(self) -> str:
        return hex(self.number)

    def overrides(self, later: int = 1) -> dict[str, str]:
        """blockOverrides of the `later`-th block after this one: `later` more in number and in seconds."""
        return {"number": hex(self.number + later), "time": hex(self.timestamp + later)}


@dataclass(frozen=True)
class ContractCall:
    """One call: target, calldata, optional sender (default zero address)."""

    to: str
    data: bytes
    sender: str | None = None

    def to_json(self) -> dict[str, Any]:
        call: dict[str, Any] = {"to": self.to, "data": "0x" + self.data.hex()}
        if self.sender is not None:
            call["from"] = self.sender
        return call


@dataclass(frozen=True)
class CallResult:
    """Outcome of one call: return data on success, revert data otherwise; gas_used when the node said."""

    success: bool
    data: bytes
    gas_used: int | None = None
    error_message: str | None = None


def _hex_bytes(value: object) -> bytes:
    if not isinstance(value, str) or not value:
        return b""
    return bytes.fromhex(value.removeprefix("0x"))


class CallRunner:
    """Runs call lists on one node; remembers whether it has eth_simulateV1 and whether its eth_call takes
    block overrides (each asked once, on first use)."""

    def __init__(self, client: RPCClient, use_simulate: bool | None = None) -> None:
        self.client = client
        #: None: not known yet (try eth_simulateV1, fall back if the node refuses the method).
        self.use_simulate = use_simulate
        #: None: not known yet (send them, resend without if the node refuses the parameter).
        self.block_overrides: bool | None = None

    def run(self, calls: Sequence[ContractCall], block: str | BlockHeader = "latest",
            extra: Sequence[tuple[str, Sequence[Any]]] = (),
            calls_per_block: int = CALLS_PER_BLOCK) -> tuple[list[CallResult], list[Any]]:
        """Run `calls` (state carried over with eth_simulateV1) and the `extra` requests in one HTTP round trip.

        `block`: a tag to run on, or a `BlockHeader` to run in the blocks after (see the module doc).
        `calls_per_block`: how many calls share a simulated block (at most `MAX_SIMULATED_BLOCKS` blocks).
        Returns (call results in order, results of `extra` in order).
        """
        if self.use_simulate is not False:
            try:
                return self._simulate(calls, block, extra, calls_per_block)
            except NodeRejectedError as exc:
                if self.use_simulate is True or not is_missing_method(exc):
                    raise
                logger.info("node has no %s (%s); falling back to batched eth_call", SIMULATE_METHOD, exc)
                self.use_simulate = False
        return self._eth_calls(calls, block, extra)

    def batch_calls(self, requests: Sequence[tuple[str, ContractCall]], block: str | BlockHeader,
                    extra: Sequence[tuple[str, Sequence[Any]]] = ()) -> list[Reply]:
        """One HTTP batch: `extra`, then each (method, call) with method eth_call or eth_estimateGas, each in
        `block` or, for a `BlockHeader`, in the block after it. Replies in order, errors left in them."""
        with_overrides = isinstance(block, BlockHeader) and self.block_overrides is not False
        replies = self.client.batch([*extra, *_call_requests(requests, block, with_overrides)])
        if not with_overrides:
            return replies
        if self.block_overrides is None and any(_refuses_overrides(r) for r in replies[len(extra):]):
            logger.warning("node refuses block overrides in eth_call (%s): calls run in the block itself, and "
                           "gas figures miss what the next block's timestamp adds (pool oracle writes)",
                           next(r.error for r in replies[len(extra):] if _refuses_overrides(r)))
            self.block_overrides = False
            return self.batch_calls(requests, block, extra)
        self.block_overrides = True
        return replies

    def simulate_together(self, first: CallSet, second: CallSet) -> tuple[list[CallResult], list[CallResult]] | None:
        """Two call lists, each simulated on its own (state carried within each, not between them), in one
        HTTP round trip: a node may run them side by side. None when the node has no eth_simulateV1 (known
        or learnt now): run them one by one then (`run`, or the caller's own fallback)."""
        if self.use_simulate is False:
            return None
        requests = [_simulate_request(*first), _simulate_request(*second)]
        try:
            replies = [r.value() for r in self.client.batch([r for r in requests if r is not None])]
        except NodeRejectedError as exc:
            if self.use_simulate is True or not is_missing_method(exc):
                raise
            logger.info("node has no %s (%s); falling back to batched eth_call", SIMULATE_METHOD, exc)
            self.use_simulate = False
            return None
        self.use_simulate = True
        answers = iter(replies)
        first_results = _simulated_results(next(answers)) if requests[0] is not None else []
        second_results = _simulated_results(next(answers)) if requests[1] is not None else []
        return first_results, second_results

    def _simulate(self, calls: Sequence[ContractCall], block: str | BlockHeader,
                  extra: Sequence[tuple[str, Sequence[Any]]], calls_per_block: int
                  ) -> tuple[list[CallResult], list[Any]]:
        request = _simulate_request(calls, block, calls_per_block)
        replies = self.client.batch([*extra, *([request] if request is not None else [])])
        extra_results = [r.value() for r in replies[:len(extra)]]
        if request is None:
            return [], extra_results
        simulated = replies[-1].value()
        self.use_simulate = True
        return _simulated_results(simulated), extra_results

    def _eth_calls(self, calls: Sequence[ContractCall], block: str | BlockHeader,
                   extra: Sequence[tuple[str, Sequence[Any]]]) -> tuple[list[CallResult], list[Any]]:
        replies = self.batch_calls([("eth_call", c) for c in calls], block, extra)
        extra_results = [r.value() for r in replies[:len(extra)]]
        results = []
        for reply in replies[len(extra):]:
            if reply.error is None:
                results.append(CallResult(True, _hex_bytes(reply.result)))
            else:
                data = reply.error.data if isinstance(reply.error.data, str) else None
                results.append(CallResult(False, _hex_bytes(data), error_message=reply.error.rpc_message))
        return results, extra_results


def _call_requests(requests: Sequence[tuple[str, ContractCall]], block: str | BlockHeader,
                   with_overrides: bool) -> list[tuple[str, Sequence[Any]]]:
    """JSON-RPC requests of (method, call): [call, block] or [call, block, {}, blockOverrides of the next]."""
    if not isinstance(block, BlockHeader):
        return [(method, [call.to_json(), block]) for method, call in requests]
    if not with_overrides:
        return [(method, [call.to_json(), block.tag]) for method, call in requests]
    return [(method, [call.to_json(), block.tag, {}, block.overrides()]) for method, call in requests]


#: Calls to simulate: the calls, the block to run on (tag) or after (`BlockHeader`), calls per simulated block.
CallSet = tuple[Sequence[ContractCall], str | BlockHeader, int]


def _simulate_request(calls: Sequence[ContractCall], block: str | BlockHeader,
                      calls_per_block: int) -> tuple[str, list[Any]] | None:
    """The eth_simulateV1 request running `calls` in order (None for no calls)."""
    if not calls:
        return None
    per_block = max(calls_per_block, -(-len(calls) // MAX_SIMULATED_BLOCKS))
    blocks: list[dict[str, Any]] = []
    for start in range(0, len(calls), per_block):
        sim_block: dict[str, Any] = {"calls": [c.to_json() for c in calls[start:start + per_block]]}
        if isinstance(block, BlockHeader):
            sim_block["blockOverrides"] = block.overrides(len(blocks) + 1)
        blocks.append(sim_block)
    base = block.tag if isinstance(block, BlockHeader) else block
    return SIMULATE_METHOD, [{"blockStateCalls": blocks, "validation": False}, base]


def _simulated_results(simulated: Any) -> list[CallResult]:
    results = []
    for sim_block in simulated:
        for call in sim_block["calls"]:
            error = call.get("error") or {}
            results.append(CallResult(
                success=int(call["status"], 16) == 1,
                data=_hex_bytes(call.get("returnData")) or _hex_bytes(error.get("data")),
                gas_used=int(call["gasUsed"], 16),
                error_message=error.get("message"),
            ))
    return results


def _refuses_overrides(reply: Reply) -> bool:
    return reply.error is not None and (reply.error.code == _INVALID_PARAMS
                                        or "too many arguments" in reply.error.rpc_message.lower())

