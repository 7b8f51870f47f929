"""JSON-RPC client: batches over one keep-alive HTTP connection, retries, fault classes, counters.

Every request that goes over the wire is counted (`RPCStats`), also when web3.py sends it through
`ClientProvider`, so benchmarks and tests can trust the figures.

Retry policy: transient faults (connection refused/reset/dropped, timeouts, HTTP 5xx, HTTP 429, JSON-RPC
rate-limit errors) are retried with exponential backoff; HTTP 429 and 503 honour `Retry-After` (seconds
or an HTTP date, capped by `RetryPolicy.max_retry_after`). Anything else fails at once as
`PermanentRPCError`, among them DNS failures (except "temporary failure") and TLS errors (except a
connection closed mid-stream). Sending the same request twice is safe for everything we send: reads are
idempotent and re-sending the same signed transaction cannot execute it twice.

Body size: nodes refuse big HTTP bodies (anvil answers "Invalid request" above about 2 MiB), so a batch
whose JSON would exceed `max_body_bytes` goes out as several HTTP bodies, transparently for the caller.
"""

from __future__ import annotations

import email.utils
import http.client
import itertools
import json
import logging
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

from web3 import Web3
from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

from vaultexec.chain.rpc_url import parse_rpc_url, redact_url
from vaultexec.errors import (
    NodeBusyError,
    NodeRejectedError,
    PermanentRPCError,
    RPCError,
    RPCReplyError,
    TransientHTTPError,
    TransientRPCError,
)

logger = logging.getLogger(__name__)

#: JSON-RPC error codes that mean "slow down / try later" rather than "your request is wrong".
#: Not -32603: anvil answers EVM failures (e.g. out of gas in eth_call) with it, retrying cannot help.
TRANSIENT_RPC_CODES = frozenset({-32005, 429})
#: Error codes of nodes that lack a method ("method not found", "invalid request").
MISSING_METHOD_CODES = (-32601, -32600)
TRANSIENT_RPC_MESSAGES = ("rate limit", "too many requests", "temporarily unavailable", "try again later")
#: Transport faults (`classify_network_error` tells the permanent DNS and TLS ones from the rest).
NETWORK_ERRORS: tuple[type[BaseException], ...] = (OSError, http.client.HTTPException)
#: DNS answers worth retrying ("temporary failure in name resolution"); any other is a wrong host name.
TRANSIENT_DNS_ERRNOS = frozenset({socket.EAI_AGAIN})
#: TLS faults that are a connection closed under us, not a misconfiguration: retried.
TRANSIENT_TLS_ERRORS: tuple[type[ssl.SSLError], ...] = (ssl.SSLEOFError, ssl.SSLZeroReturnError,
                                                        ssl.SSLSyscallError)
#: Largest HTTP body one batch is sent in (bytes); bigger batches are split. Anvil refuses ~2 MiB.
DEFAULT_MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often transient faults are retried (seconds)."""

    attempts: int = 6
    initial_backoff: float = 0.05
    max_backoff: float = 2.0
    max_retry_after: float = 30.0
    #: Give up once this much time has gone by since the first attempt, whatever `attempts` says.
    deadline: float = 60.0

    def backoff(self, attempt: int) -> float:
        """Delay before retry number `attempt` (1-based): doubling from `initial_backoff`, capped."""
        return float(min(self.max_backoff, self.initial_backoff * 2 ** (attempt - 1)))


@dataclass
class RPCStats:
    """Counters: JSON-RPC requests by method (each one sent, retries included) and HTTP round trips."""

    requests_by_method: Counter[str] = field(default_factory=Counter)
    http_round_trips: int = 0
    retries: int = 0
    #: Clients that share these counters (`RPCClient.sibling`) count from their own threads.
    _counting: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, methods: Sequence[str] = (), round_trips: int = 0, retries: int = 0) -> None:
        with self._counting:
            self.requests_by_method.update(methods)
            self.http_round_trips += round_trips
            self.retries += retries

    @property
    def total_requests(self) -> int:
        return sum(self.requests_by_method.values())

    def snapshot(self) -> RPCStats:
        return RPCStats(Counter(self.requests_by_method), self.http_round_trips, self.retries)

    def since(self, earlier: RPCStats) -> RPCStats:
        """The requests made after `earlier` (a `snapshot()`) was taken."""
        by_method = Counter(self.requests_by_method)
        by_method.subtract(earlier.requests_by_method)
        return RPCStats(+by_method, self.http_round_trips - earlier.http_round_trips,
                        self.retries - earlier.retries)

    def reset(self) -> None:
        self.requests_by_method.clear()
        self.http_round_trips = 0
        self.retries = 0


@dataclass(frozen=True)
class Reply:
    """The answer to one request of a batch: a result, or the node's error for that request."""

    method: str
    result: Any = None
    error: RPCReplyError | None = None

    def value(self) -> Any:
        """The result, or raise the node's error."""
        if self.error is not None:
            raise self.error
        return self.result


def is_missing_method(exc: RPCReplyError) -> bool:
    """The node's answer says it has no such method (e.g. no `eth_simulateV1`, no `eth_getBlockReceipts`)."""
    text = exc.rpc_message.lower()
    return exc.code in MISSING_METHOD_CODES or "not found" in text or "not supported" in text or (
        "unknown" in text and "method" in text)


def classify_reply_error(method: str, error: dict[str, Any]) -> RPCReplyError:
    """Turn a JSON-RPC error object into our exception (transient for rate limits, else permanent)."""
    code = int(error.get("code", 0))
    message = str(error.get("message", ""))
    data = error.get("data")
    transient = code in TRANSIENT_RPC_CODES or any(m in message.lower() for m in TRANSIENT_RPC_MESSAGES)
    cls: type[RPCReplyError] = NodeBusyError if transient else NodeRejectedError
    return cls(f"{method} failed on the node: {message} (code {code})", method, code, message, data)


def body_excerpt(data: bytes, limit: int = 200) -> str:
    """The start of an HTTP body as one line of text (its repr when it is not UTF-8), or "(empty body)"."""
    text = " ".join(data[:limit].decode("utf-8", errors="replace").split())
    if not text:
        return "(empty body)"
    return repr(text) + ("..." if len(data) > limit else "")


class RPCClient:
    """Thread-safe JSON-RPC over one keep-alive HTTP/1.1 connection (reopened after a fault)."""

    def __init__(self, url: str, timeout: float = 30.0, retry: RetryPolicy | None = None,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self._scheme, self._host, self._port, self._path = parse_rpc_url(url)
        self.url = url
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.max_body_bytes = max_body_bytes
        self.stats = RPCStats()
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"RPCClient({redact_url(self.url)!r})"

    # -- public API ---------------------------------------------------------------------------

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One request; returns its result or raises `RPCReplyError` / `TransientRPCError`."""
        return self.batch([(method, params)])[0].value()

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Reply]:
        """Send all `calls` in one HTTP round trip (several when the body would pass `max_body_bytes`);
        replies in the order of `calls`.

        A node error for one request is returned in its `Reply` (the others still count); a transient
        error for any request retries the whole HTTP body it was in (every request is safe to repeat).
        """
        if not calls:
            return []
        if len(calls) == 1:
            method, params = calls[0]
            request = self._request(method, params)
            single: list[Reply] = self._with_retries([method], partial(self._send, _encode(request),
                                                                       [(request["id"], method)]))
            return single
        replies: list[Reply] = []
        for body, slots in self._bodies(calls):
            replies += self._with_retries([m for _, m in slots], partial(self._send, body, slots))
        return replies

    def raw(self, body: bytes, methods: list[str]) -> Any:
        """Send an already-encoded JSON-RPC body (request or batch of `methods`), return decoded JSON.

        Used by `ClientProvider`, which encodes web3.py's requests itself; node errors are left in the
        answer for web3.py to raise, transport faults are retried and classified here.
        """
        return self._with_retries(methods, lambda: self._post(body))

    def close(self) -> None:
        with self._lock:
            self._drop_connection()

    def sibling(self) -> RPCClient:
        """A client of the same node on a connection of its own, counting in the same `stats`: for requests
        another thread makes while this client's connection is busy (the executor's sends, see
        `execution.executor`)."""
        twin = RPCClient(self.url, self.timeout, self.retry, self.max_body_bytes)
        twin.stats = self.stats
        return twin

    # -- internals ------------------------------------------------------------------------------

    def _request(self, method: str, params: Sequence[Any]) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}

    def _bodies(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[tuple[bytes, list[tuple[int, str]]]]:
        """JSON array bodies of at most `max_body_bytes` each (a single bigger request goes alone)."""
        bodies: list[tuple[bytes, list[tuple[int, str]]]] = []
        parts: list[bytes] = []
        slots: list[tuple[int, str]] = []
        size = 2  # the brackets
        for method, params in calls:
            request = self._request(method, params)
            part = _encode(request)
            if parts and size + len(part) + 1 > self.max_body_bytes:
                bodies.append((b"[" + b",".join(parts) + b"]", slots))
                parts, slots, size = [], [], 2
            parts.append(part)
            slots.append((request["id"], method))
            size += len(part) + 1
        bodies.append((b"[" + b",".join(parts) + b"]", slots))
        if len(bodies) > 1:
            logger.debug("batch of %d requests split into %d HTTP bodies", len(calls), len(bodies))
        return bodies

    def _send(self, body: bytes, slots: list[tuple[int, str]]) -> list[Reply]:
        """POST one body (a request or a batch of `slots` = (id, method)); replies in slot order."""
        ids = [i for i, _ in slots]
        answer = self._post(body)
        answers = [answer] if isinstance(answer, dict) else answer
        if not isinstance(answers, list):
            raise PermanentRPCError(f"Node answered a JSON-RPC request with a {type(answer).__name__}")
        by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
        if len(by_id) != len(ids) and len(answers) == 1 and "error" in answers[0]:
            # A whole-batch error (e.g. "batch too large"): every request gets it.
            by_id = {i: answers[0] for i in ids}
        replies = []
        for i, method in slots:
            item = by_id.get(i)
            if item is None:
                raise PermanentRPCError(f"Node's batch answer has no reply for request {i} ({method}); "
                                        f"got {len(answers)} replies for {len(ids)} requests")
            if "error" in item and item["error"] is not None:
                error = classify_reply_error(method, item["error"])
                if isinstance(error, TransientRPCError):
                    raise error
                replies.append(Reply(method, error=error))
            else:
                replies.append(Reply(method, result=item.get("result")))
        return replies

    def _with_retries(self, methods: list[str], send: Any) -> Any:
        started = time.monotonic()
        for attempt in itertools.count(1):
            self.stats.count(methods)
            try:
                return send()
            except TransientRPCError as exc:
                retry_after = exc.retry_after if isinstance(exc, TransientHTTPError) else None
                delay = retry_after if retry_after is not None else self.retry.backoff(attempt)
                delay = min(delay, self.retry.max_retry_after)
                elapsed = time.monotonic() - started
                if attempt >= self.retry.attempts or elapsed + delay > self.retry.deadline:
                    raise TransientRPCError(
                        f"{_describe(methods)} to {redact_url(self.url)} still failing after {attempt} attempts "
                        f"over {elapsed:.1f}s: {exc}. Check that the node is up and reachable, then retry."
                    ) from exc
                self.stats.count(retries=1)
                logger.warning("RPC %s attempt %d failed (%s); retrying in %.3fs",
                               _describe(methods), attempt, exc, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _post(self, body: bytes) -> Any:
        with self._lock:
            self.stats.count(round_trips=1)
            try:
                conn = self._connection()
                conn.request("POST", self._path, body, {"Content-Type": "application/json",
                                                        "Connection": "keep-alive"})
                response = conn.getresponse()
                data = response.read()
            except NETWORK_ERRORS as exc:
                self._drop_connection()
                raise classify_network_error(exc, self.url) from exc
            if response.will_close:
                self._drop_connection()
        status = response.status
        if status == 429 or status >= 500:
            raise TransientHTTPError(f"HTTP {status} {response.reason} from {redact_url(self.url)}", status,
                                     parse_retry_after(response.getheader("Retry-After")))
        if status >= 400:
            raise PermanentRPCError(f"HTTP {status} {response.reason} from {redact_url(self.url)}: "
                                    f"{body_excerpt(data)}; check the RPC URL (its path, its API key).")
        try:
            return json.loads(data)
        except ValueError as exc:
            raise PermanentRPCError(f"Node at {redact_url(self.url)} answered HTTP {status} with non-JSON: "
                                    f"{body_excerpt(data)}; check that the RPC URL is a JSON-RPC endpoint.") from exc

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self.timeout)
            self._conn.connect()
            self._conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def classify_network_error(exc: BaseException, url: str) -> RPCError:
    """Our error for a transport fault: DNS and TLS failures are permanent (a wrong host name or scheme,
    an untrusted certificate: retrying cannot help), other network faults transient."""
    where = redact_url(url)
    if isinstance(exc, socket.gaierror) and exc.errno not in TRANSIENT_DNS_ERRNOS:
        return PermanentRPCError(f"Cannot resolve the host of {where}: {exc.strerror or exc}. "
                                 "Check the host name in the RPC URL.")
    if isinstance(exc, ssl.SSLError) and not isinstance(exc, TRANSIENT_TLS_ERRORS):
        return PermanentRPCError(f"TLS with {where} failed: {exc}. Check the URL's scheme (https:// to a "
                                 "plain-HTTP node fails like this) and that the node's certificate is trusted.")
    return TransientRPCError(f"network fault talking to {where}: {type(exc).__name__}: {exc}")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _encode(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _describe(methods: list[str]) -> str:
    return methods[0] if len(methods) == 1 else f"batch of {len(methods)} ({', '.join(sorted(set(methods)))})"


class ClientProvider(JSONBaseProvider):
    """web3.py provider that sends everything through an `RPCClient`, so all traffic is counted."""

    def __init__(self, client: RPCClient) -> None:
        super().__init__()
        self.client = client

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        return cast(RPCResponse, self.client.raw(self.encode_rpc_request(method, params), [method]))

    def make_batch_request(self, requests: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse] | RPCResponse:
        answer = self.client.raw(self.encode_batch_rpc_request(requests), [m for m, _ in requests])
        if isinstance(answer, list):
            return cast(list[RPCResponse], sorted(answer, key=lambda a: a.get("id", 0)))
        return cast(RPCResponse, answer)

    def is_connected(self, show_traceback: bool = False) -> bool:
        try:
            self.client.call("web3_clientVersion")
            return True
        except (TransientRPCError, PermanentRPCError):
            if show_traceback:
                raise
            return False


def connect_web3(client: RPCClient, middleware: Sequence[Any] = ()) -> Web3:
    """A Web3 on `client` with no default middleware (no hidden eth_chainId requests)."""
    return Web3(ClientProvider(client), middleware=list(middleware))
