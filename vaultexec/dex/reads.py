"""Many contract calls in one JSON-RPC request: `eth_simulateV1` where the node has it, else a batch of eth_call.

`eth_simulateV1` runs the calls in order in simulated blocks on top of `block`, carrying state from one
call to the next (so a sell that funds a later buy simulates honestly), and reports gasUsed per call.
Calls are spread over blocks of `CALLS_PER_BLOCK` so that they never exhaust one block's gas limit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vaultexec.chain.rpc import RPCClient
from vaultexec.errors import NodeRejectedError

logger = logging.getLogger(__name__)

SIMULATE_METHOD = "eth_simulateV1"
CALLS_PER_BLOCK = 40
#: Error codes/messages of nodes that lack eth_simulateV1.
_MISSING_METHOD_CODES = (-32601, -32600)


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
    """Runs call lists on one node; remembers whether it has eth_simulateV1 (asked once, on first use)."""

    def __init__(self, client: RPCClient, use_simulate: bool | None = None) -> None:
        self.client = client
        #: None: not known yet (try eth_simulateV1, fall back if the node refuses the method).
        self.use_simulate = use_simulate

    def run(self, calls: Sequence[ContractCall], block: str = "latest",
            extra: Sequence[tuple[str, Sequence[Any]]] = ()) -> tuple[list[CallResult], list[Any]]:
        """Run `calls` (state carried over with eth_simulateV1) and the `extra` requests in one HTTP round trip.

        Returns (call results in order, results of `extra` in order).
        """
        if self.use_simulate is not False:
            try:
                return self._simulate(calls, block, extra)
            except NodeRejectedError as exc:
                if self.use_simulate is True or not _is_missing_method(exc):
                    raise
                logger.info("node has no %s (%s); falling back to batched eth_call", SIMULATE_METHOD, exc)
                self.use_simulate = False
        return self._eth_calls(calls, block, extra)

    def _simulate(self, calls: Sequence[ContractCall], block: str,
                  extra: Sequence[tuple[str, Sequence[Any]]]) -> tuple[list[CallResult], list[Any]]:
        blocks = [{"calls": [c.to_json() for c in calls[i:i + CALLS_PER_BLOCK]]}
                  for i in range(0, len(calls), CALLS_PER_BLOCK)]
        requests: list[tuple[str, Sequence[Any]]] = list(extra)
        if blocks:
            requests.append((SIMULATE_METHOD, [{"blockStateCalls": blocks, "validation": False}, block]))
        replies = self.client.batch(requests)
        extra_results = [r.value() for r in replies[:len(extra)]]
        if not blocks:
            return [], extra_results
        simulated = replies[-1].value()
        self.use_simulate = True
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
        return results, extra_results

    def _eth_calls(self, calls: Sequence[ContractCall], block: str,
                   extra: Sequence[tuple[str, Sequence[Any]]]) -> tuple[list[CallResult], list[Any]]:
        requests: list[tuple[str, Sequence[Any]]] = [*extra, *(("eth_call", [c.to_json(), block]) for c in calls)]
        replies = self.client.batch(requests)
        extra_results = [r.value() for r in replies[:len(extra)]]
        results = []
        for reply in replies[len(extra):]:
            if reply.error is None:
                results.append(CallResult(True, _hex_bytes(reply.result)))
            else:
                data = reply.error.data if isinstance(reply.error.data, str) else None
                results.append(CallResult(False, _hex_bytes(data), error_message=reply.error.rpc_message))
        return results, extra_results


def _is_missing_method(exc: NodeRejectedError) -> bool:
    text = exc.rpc_message.lower()
    return exc.code in _MISSING_METHOD_CODES or "not found" in text or "not supported" in text or (
        "unknown" in text and "method" in text)
