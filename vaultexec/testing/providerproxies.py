"""Loopback proxies that play the providers of a real network in front of one anvil: a lagging node (an old
head, no recent receipts or transactions) and a recorder of the raw transactions it is sent."""

from __future__ import annotations

import json
import threading
from typing import Any

from vaultexec.testing.faultproxy import FaultProxy

#: Calls whose block tag a lagging node answers at its own (old) head.
_AT_BLOCK = {"eth_getTransactionCount": 1, "eth_getBalance": 1, "eth_call": 1, "eth_getCode": 1}


class RecordingProxy(FaultProxy):
    """Forwards like `FaultProxy` and records the raw transactions it is sent (in arrival order)."""

    def __init__(self, upstream_url: str, **kwargs: Any) -> None:
        super().__init__(upstream_url, **kwargs)
        self.raw_transactions: list[str] = []
        self.bodies_with_sends = 0
        self._record_lock = threading.Lock()

    def _relay(self, body: bytes) -> tuple[int, bytes]:
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        requests = request if isinstance(request, list) else [request]
        raws = [r["params"][0] for r in requests
                if isinstance(r, dict) and r.get("method") == "eth_sendRawTransaction"]
        if raws:
            with self._record_lock:
                self.raw_transactions += raws
                self.bodies_with_sends += 1
        return super()._relay(body)


class LaggingProxy(RecordingProxy):
    """A node stuck at block `head`: it says so in eth_blockNumber, answers nonces and balances there, and
    knows no receipt or transaction of a later block (as a provider that stopped syncing does)."""

    def __init__(self, upstream_url: str, head: int, **kwargs: Any) -> None:
        super().__init__(upstream_url, **kwargs)
        self.head = head

    def _relay(self, body: bytes) -> tuple[int, bytes]:
        try:
            request = json.loads(body)
        except ValueError:
            return super()._relay(body)
        requests = request if isinstance(request, list) else [request]
        for r in requests:
            position = _AT_BLOCK.get(str(r.get("method"))) if isinstance(r, dict) else None
            if position is not None and len(r.get("params", [])) > position:
                r["params"][position] = hex(self.head)
        return super()._relay(json.dumps(request).encode())

    def rewrite_reply(self, request: dict[str, Any], reply: dict[str, Any]) -> None:
        method = request.get("method")
        result = reply.get("result")
        if method == "eth_blockNumber":
            reply["result"] = hex(self.head)
        elif method in ("eth_getTransactionReceipt", "eth_getTransactionByHash") and isinstance(result, dict):
            block = result.get("blockNumber")
            if block is not None and int(block, 16) > self.head:
                reply["result"] = None
