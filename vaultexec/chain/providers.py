"""Several JSON-RPC providers for one chain: read failover with lag awareness, private send endpoints.

`ProviderSet` is an `RPCClient` to the rest of the code (the tracker, the wallet, web3.py through
`ClientProvider` take it unchanged); behind it:

- Read providers, ranked by health (a provider that failed is asked last for `cooldown` seconds) and
  latency (moving average). A transient fault, or a transport fault of one provider, moves to the next
  one at once; when every provider failed, the round is retried with the set's `RetryPolicy`.
- Lag awareness: every read batch carries an `eth_blockNumber` in the same HTTP body, so each answer's
  block is known. The heads of all read providers are probed (concurrently) before a read when the last
  probe is older than `probe_interval` (0: before every read). A provider whose head is more than
  `max_lag_blocks` behind the best head seen is not asked, and an answer whose own head is that far behind
  is thrown away (counted in `lag_rejections`) and asked again elsewhere: a lagging node's "no receipt",
  "nonce not used" or "unknown transaction" never reaches the tracker.
- Private send endpoints (`send_urls`): every `eth_sendRawTransaction` -- first sends, re-sends and fee
  bump replacements alike -- goes only there, in one batch where the endpoint accepts batches (one at a
  time after it refused one). Public read providers get a raw transaction only when no send endpoint is
  configured, or when every send endpoint failed and `allow_public_send` is set.

Every URL appears in messages and logs redacted (`redact_url`).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from vaultexec.chain.rpc import DEFAULT_MAX_BODY_BYTES, Reply, RetryPolicy, RPCClient, RPCStats
from vaultexec.chain.rpc_url import redact_url
from vaultexec.errors import ConfigurationError, PermanentRPCError, RPCError, TransientRPCError

logger = logging.getLogger(__name__)

#: Methods that hand a signed transaction to the network: they go to the send endpoints only.
SEND_METHODS = frozenset({"eth_sendRawTransaction"})
#: Weight of the newest sample in a provider's latency moving average.
LATENCY_WEIGHT = 0.3


@dataclass(frozen=True)
class ProviderConfig:
    """How a `ProviderSet` picks and trusts providers (blocks, seconds)."""

    #: A read provider more than this many blocks behind the best head seen is not asked or believed.
    max_lag_blocks: int = 2
    #: Probe every read provider's head when the last probe is older than this (0: before every read).
    probe_interval: float = 0.0
    #: A provider that failed is ranked last for this long.
    cooldown: float = 10.0
    #: When every private send endpoint failed, send through the public read providers.
    allow_public_send: bool = False
    #: Send a batch of raw transactions in one HTTP body (an endpoint that refuses a batch gets them one
    #: at a time from then on).
    bulk_send: bool = True


@dataclass
class ProviderCounters:
    """What one provider did for us."""

    answers: int = 0
    failures: int = 0
    #: Answers thrown away, or turns skipped, because the provider was behind by more than the limit.
    lag_rejections: int = 0
    raw_transactions: int = 0
    head: int | None = None
    latency: float | None = None
    last_failure: float | None = None
    last_error: str = ""


@dataclass
class Provider:
    """One endpoint: its own client (no retries of its own: the set fails over instead) and counters."""

    client: RPCClient
    role: str
    counters: ProviderCounters = field(default_factory=ProviderCounters)
    bulk: bool = True

    @property
    def name(self) -> str:
        return redact_url(self.client.url)

    def answered(self, seconds: float, head: int | None = None) -> None:
        c = self.counters
        c.answers += 1
        c.latency = seconds if c.latency is None else (1 - LATENCY_WEIGHT) * c.latency + LATENCY_WEIGHT * seconds
        if head is not None:
            c.head = head

    def failed(self, exc: BaseException) -> None:
        self.counters.failures += 1
        self.counters.last_failure = time.monotonic()
        self.counters.last_error = str(exc)
        logger.warning("%s provider %s failed: %s; trying the next one", self.role, self.name, exc)


class ProviderSet(RPCClient):
    """Read providers with failover and lag awareness, optional private send endpoints (module doc)."""

    def __init__(self, read_urls: Sequence[str], send_urls: Sequence[str] = (),
                 config: ProviderConfig | None = None, timeout: float = 30.0, retry: RetryPolicy | None = None,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        if not read_urls:
            raise ConfigurationError("No read RPC URL: give at least one (e.g. http://127.0.0.1:8545).")
        super().__init__(read_urls[0], timeout, retry, max_body_bytes)
        self.config = config or ProviderConfig()
        once = RetryPolicy(attempts=1)
        self.readers = [Provider(RPCClient(u, timeout, once, max_body_bytes), "read") for u in read_urls]
        self.senders = [Provider(RPCClient(u, timeout, once, max_body_bytes), "send", bulk=self.config.bulk_send)
                        for u in send_urls]
        self._last_probe = -math.inf
        self._probe_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self.readers)), thread_name_prefix="rpc-probe")

    def __repr__(self) -> str:
        return (f"ProviderSet(read={[p.name for p in self.readers]!r}, "
                f"send={[p.name for p in self.senders]!r})")

    # -- the RPCClient surface ----------------------------------------------------------------------

    @property
    def stats(self) -> RPCStats:
        """Requests of every provider added up (a fresh object: take `snapshot()`s from it)."""
        total = RPCStats()
        for provider in self.readers + self.senders:
            s = provider.client.stats
            total.requests_by_method.update(s.requests_by_method)
            total.http_round_trips += s.http_round_trips
            total.retries += s.retries
        return total

    @stats.setter
    def stats(self, value: RPCStats) -> None:  # RPCClient.__init__ sets it; the set's figures are its providers'
        pass

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Reply]:
        if not calls:
            return []
        sends = [i for i, (method, _) in enumerate(calls) if method in SEND_METHODS]
        if not sends:
            return self._read(calls)
        reads = [i for i in range(len(calls)) if i not in set(sends)]
        replies: dict[int, Reply] = dict(zip(sends, self._send_transactions([calls[i] for i in sends]), strict=True))
        if reads:
            replies.update(zip(reads, self._read([calls[i] for i in reads]), strict=True))
        return [replies[i] for i in range(len(calls))]

    def raw(self, body: bytes, methods: list[str]) -> Any:
        """web3.py's encoded requests: to a send endpoint when they send a transaction, else to the best
        read provider (its head is not in this body: it relies on the probes alone)."""
        if self.senders and SEND_METHODS.intersection(methods):
            return self._failover(self._send_targets(), lambda p: p.client.raw(body, methods), "send")
        self._probe_if_stale()
        return self._failover(lambda: self._ranked(self.readers), lambda p: p.client.raw(body, methods), "read")

    def sibling(self) -> RPCClient:
        """The set itself: its sends must keep going to its send endpoints (each provider's client is one
        connection, shared by the threads that use it)."""
        return self

    def close(self) -> None:
        for provider in self.readers + self.senders:
            provider.client.close()
        self._pool.shutdown(wait=False)

    def check_chain_ids(self, expected: int | None = None) -> int:
        """The chain id every provider that answers agrees on (`expected` when given); ConfigurationError
        naming (redacted) each provider on another chain. One that does not answer is only logged."""
        ids: dict[str, int] = {}
        for provider in self.readers + self.senders:
            try:
                ids[f"{provider.role} {provider.name}"] = int(provider.client.call("eth_chainId"), 16)
            except (RPCError, ValueError, TypeError) as exc:
                logger.warning("%s provider %s did not tell its chain id: %s", provider.role, provider.name, exc)
        if not ids:
            raise TransientRPCError("No provider answered eth_chainId: "
                                    f"{', '.join(p.name for p in self.readers + self.senders)}.")
        chain = expected if expected is not None else max(set(ids.values()), key=list(ids.values()).count)
        wrong = {name: got for name, got in ids.items() if got != chain}
        if wrong:
            raise ConfigurationError(
                f"Providers on another chain than {chain}: "
                + ", ".join(f"{name} is on chain {got}" for name, got in wrong.items())
                + ". Remove or fix those URLs (nothing was sent).")
        return chain

    @property
    def best_head(self) -> int:
        """The highest head the read providers last reported (each provider's latest answer counts, so a chain
        rewound on purpose, e.g. a dev chain's evm_revert, is followed once the providers are probed again)."""
        return max((p.counters.head for p in self.readers if p.counters.head is not None), default=0)

    def counters(self) -> dict[str, ProviderCounters]:
        """Counters by redacted URL (role-prefixed)."""
        return {f"{p.role} {p.name}": p.counters for p in self.readers + self.senders}

    # -- reads ----------------------------------------------------------------------------------------

    def _read(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Reply]:
        self._probe_if_stale()

        def ask(provider: Provider) -> list[Reply] | None:
            started = time.monotonic()
            replies = provider.client.batch([("eth_blockNumber", []), *calls])
            head = int(replies[0].value(), 16)
            provider.answered(time.monotonic() - started, head)
            if self._behind(provider):
                provider.counters.lag_rejections += 1
                logger.warning("read provider %s answered from block %d, %d behind the best head %d: "
                               "answer not used", provider.name, head, self.best_head - head, self.best_head)
                return None
            return replies[1:]

        result: list[Reply] = self._failover(lambda: self._ranked(self.readers), ask, "read")
        return result

    def _behind(self, provider: Provider) -> bool:
        head = provider.counters.head
        return head is not None and self.best_head - head > self.config.max_lag_blocks

    def _probe_if_stale(self) -> None:
        with self._probe_lock:
            if time.monotonic() - self._last_probe < self.config.probe_interval:
                return
            self._last_probe = time.monotonic()
        list(self._pool.map(self._probe, self.readers))

    def _probe(self, provider: Provider) -> None:
        started = time.monotonic()
        try:
            head = int(provider.client.call("eth_blockNumber"), 16)
        except (RPCError, ValueError, TypeError) as exc:
            provider.failed(exc)
            return
        provider.answered(time.monotonic() - started, head)

    def _ranked(self, providers: list[Provider]) -> list[Provider]:
        """Healthy first, then by latency; providers behind by more than the limit left out."""
        now = time.monotonic()
        eligible = []
        for provider in providers:
            if self._behind(provider):
                provider.counters.lag_rejections += 1
                continue
            eligible.append(provider)

        def rank(provider: Provider) -> tuple[bool, float]:
            failed = provider.counters.last_failure
            cooling = failed is not None and now - failed < self.config.cooldown
            return cooling, provider.counters.latency if provider.counters.latency is not None else 0.0
        return sorted(eligible, key=rank)

    # -- sends ----------------------------------------------------------------------------------------

    def _send_transactions(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Reply]:
        def ask(provider: Provider) -> list[Reply]:
            started = time.monotonic()
            if provider.bulk and len(calls) > 1:
                try:
                    replies = provider.client.batch(calls)
                except PermanentRPCError as exc:
                    provider.bulk = False
                    logger.warning("send endpoint %s refused a batch (%s): sending one at a time", provider.name,
                                   exc)
                    replies = [provider.client.batch([call])[0] for call in calls]
            else:
                replies = [provider.client.batch([call])[0] for call in calls]
            provider.answered(time.monotonic() - started)
            provider.counters.raw_transactions += len(calls)
            return replies

        result: list[Reply] = self._failover(self._send_targets(), ask, "send")
        return result

    def _send_targets(self) -> Any:
        def targets() -> list[Provider]:
            if not self.senders:
                self._probe_if_stale()
                return self._ranked(self.readers)
            ranked = self._ranked(self.senders)
            if self.config.allow_public_send:
                ranked += self._ranked(self.readers)
            return ranked
        return targets

    # -- failover -------------------------------------------------------------------------------------

    def _failover(self, targets: Any, ask: Any, role: str) -> Any:
        """`ask` each provider of `targets()` in turn until one answers (None: not believed, next one);
        rounds retried with the set's RetryPolicy while every provider fails."""
        started = time.monotonic()
        last: BaseException | None = None
        for attempt in range(1, self.retry.attempts + 1):
            tried = []
            for provider in targets():
                tried.append(provider.name)
                try:
                    answer = ask(provider)
                except (RPCError, ValueError, TypeError) as exc:  # transport, or a head that is not a number
                    provider.failed(exc)
                    last = exc
                    continue
                if answer is not None:
                    return answer
            elapsed = time.monotonic() - started
            delay = self.retry.backoff(attempt)
            if attempt >= self.retry.attempts or elapsed + delay > self.retry.deadline:
                break
            logger.warning("no %s provider answered (tried %s; last fault: %s); retrying in %.2fs", role,
                           ", ".join(tried) or "none within the lag limit", last, delay)
            time.sleep(delay)
            self._last_probe = -math.inf  # heads may have moved: probe again
        roles = "send endpoint" if role == "send" and self.senders else "read provider"
        raise TransientRPCError(
            f"None of the {roles}s answered after {self.retry.attempts} rounds over "
            f"{time.monotonic() - started:.1f}s (lag limit {self.config.max_lag_blocks} blocks, best head "
            f"{self.best_head}); last fault: {last}. Check the providers "
            f"({', '.join(p.name for p in self.readers + self.senders)}) and retry.")


def split_urls(text: str | None) -> list[str]:
    """URLs from a comma-separated list (the CLI's and the environment's form); blanks dropped."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def open_client(read_urls: Sequence[str], send_urls: Sequence[str] = (), config: ProviderConfig | None = None,
                timeout: float = 30.0, retry: RetryPolicy | None = None) -> RPCClient:
    """A plain `RPCClient` for one read URL and no send endpoint; else a `ProviderSet`."""
    if len(read_urls) == 1 and not send_urls:
        return RPCClient(read_urls[0], timeout, retry)
    return ProviderSet(read_urls, send_urls, config, timeout, retry)
