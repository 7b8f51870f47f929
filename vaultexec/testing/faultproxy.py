"""An HTTP proxy in front of a node that injects faults on demand (for retry and resilience tests).

Loopback only, thread-based, bounded (at most `max_connections` concurrent connections, bodies up to
`max_body` bytes), and `stop()` returns once the listener and every connection are closed.
Queued faults are applied one per incoming HTTP request, in order; with none queued it forwards.
Subclasses may change what the node answers per JSON-RPC call by overriding `rewrite_reply`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fault:
    """One fault: `kind` is "status" (answer `status` with optional Retry-After), "drop" (close the
    connection without answering), "lose_answer" (forward to the node, then close without answering:
    the request took effect but the client cannot know) or "delay" (wait `seconds`, then forward)."""

    kind: str
    status: int = 0
    retry_after: str | None = None
    seconds: float = 0.0

    @classmethod
    def http_error(cls, status: int = 500) -> Fault:
        return cls("status", status=status)

    @classmethod
    def rate_limited(cls, retry_after: str | None = "1") -> Fault:
        return cls("status", status=429, retry_after=retry_after)

    @classmethod
    def drop(cls) -> Fault:
        return cls("drop")

    @classmethod
    def lose_answer(cls) -> Fault:
        return cls("lose_answer")

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        return cls("delay", seconds=seconds)


class _Server(ThreadingHTTPServer):
    """Tracks its open connections (to close them on stop) and refuses any beyond `max_connections`."""

    daemon_threads = True
    proxy: FaultProxy

    def __init__(self, max_connections: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.max_connections = max_connections
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            if len(self.open_connections) >= self.max_connections:
                self.shutdown_request(request)
                return
            self.open_connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def close_all_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.open_connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """Applies the next queued fault to each POST, else forwards it upstream."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("faultproxy: " + format, *args)

    def do_POST(self) -> None:
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        if length > proxy.max_body:
            self._answer(413, b"body too large")
            return
        body = self.rfile.read(length)
        fault = proxy._next_fault()
        proxy._record(fault)
        if fault is not None and fault.kind == "drop":
            self._drop()
            return
        if fault is not None and fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            self._answer(fault.status, b'{"error":"injected fault"}', headers)
            return
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
        try:
            status, data = proxy._relay(body)
        except OSError as exc:
            logger.debug("faultproxy: upstream failed: %s", exc)
            self._answer(502, b"upstream unreachable")
            return
        if fault is not None and fault.kind == "lose_answer":
            self._drop()
            return
        self._answer(status, data)

    def _drop(self) -> None:
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _answer(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


class FaultProxy:
    """Forwards JSON-RPC POSTs to `upstream_url`, applying queued `Fault`s first. Use as a context manager."""

    def __init__(self, upstream_url: str, max_connections: int = 16, max_body: int = 8 * 1024 * 1024,
                 upstream_timeout: float = 30.0) -> None:
        parts = urlsplit(upstream_url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"FaultProxy only fronts loopback nodes, not {parts.hostname!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.upstream_timeout = upstream_timeout
        self.max_body = max_body
        self.requests_seen = 0
        self.faults_applied: list[Fault] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._server = _Server(max_connections)
        self._server.proxy = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def inject(self, *faults: Fault, times: int = 1) -> None:
        """Queue `faults` (each repeated `times` times) for the next incoming requests."""
        with self._lock:
            for fault in faults:
                self._faults.extend([fault] * times)

    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"faultproxy-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening, close every open connection and the listener; idempotent."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.close_all_connections()
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- used by the handler ---------------------------------------------------------------------

    def _next_fault(self) -> Fault | None:
        with self._lock:
            self.requests_seen += 1
            return self._faults.popleft() if self._faults else None

    def _record(self, fault: Fault | None) -> None:
        if fault is not None:
            with self._lock:
                self.faults_applied.append(fault)
            logger.info("faultproxy: injecting %s", fault)

    def rewrite_reply(self, request: dict[str, Any], reply: dict[str, Any]) -> None:
        """Hook: change, in place, the node's reply to one JSON-RPC `request` (default: leave it)."""

    def _relay(self, body: bytes) -> tuple[int, bytes]:
        """Forward `body`; when a subclass rewrites replies, pair each reply with its request by id."""
        status, data = self._forward(body)
        if type(self).rewrite_reply is FaultProxy.rewrite_reply:
            return status, data
        try:
            request, answer = json.loads(body), json.loads(data)
        except ValueError:
            return status, data
        requests = request if isinstance(request, list) else [request]
        answers = answer if isinstance(answer, list) else [answer]
        by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
        for sent in requests:
            reply = by_id.get(sent.get("id")) if isinstance(sent, dict) else None
            if reply is not None:
                self.rewrite_reply(sent, reply)
        return status, json.dumps(answer).encode()

    def _forward(self, body: bytes) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port,
                                          timeout=self.upstream_timeout)
        try:
            conn.request("POST", "/", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


class BackendWithoutTheTx(FaultProxy):
    """A load-balanced provider whose answering backend lacks our transaction: every send is refused for
    insufficient funds and no hash is known, while the chain behind it is the real one (it may still mine
    what an earlier backend accepted)."""

    def rewrite_reply(self, request: dict[str, Any], reply: dict[str, Any]) -> None:
        if request.get("method") == "eth_sendRawTransaction":
            reply.pop("result", None)
            reply["error"] = {"code": -32000, "message": "insufficient funds for gas * price + value"}
        elif request.get("method") == "eth_getTransactionByHash":
            reply["result"] = None
