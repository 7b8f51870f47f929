"""Exclusive leases: one executor at a time per (chain, vault) and per (chain, hot wallet).

Two executors on one hot wallet sign the same nonces; given the same trades under different ids they sign
byte-identical transactions, and one execution on chain would settle two trades. `hold_leases()` is taken by
`execute_trades`, `resume` and `repair` before anything is signed; a second executor gets `LeaseHeldError`
naming the holder (host, pid, since) and signs nothing.

- SQLite store: an OS lock (`fcntl.flock`) on a file per lease in a lock directory shared by every process of
  the machine (`VAULTEXEC_LOCK_DIR`, default `~/.cache/vaultexec/locks`), so separate store files for one
  wallet are covered too. The OS drops the lock when its process dies; a paused process keeps it.
- Redis store: a key per lease (`vaultexec-lease:<chain>:<vault|wallet>:<address>`, not under the store's
  prefix, so stores under other prefixes on the same server see it) set with an expiry and renewed by a
  thread; its value starts with a fencing token (a counter) that every store write checks (`fences`), so a
  holder that was paused past the expiry cannot write once another executor took the lease over. A crashed
  holder's lease expires after `ttl` seconds, at once when the new executor runs on the same host and the
  holder's pid is gone. Executors on several machines share one Redis safely this way.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from vaultexec.errors import LeaseHeldError, StoreError
from vaultexec.store.redis import RedisStore
from vaultexec.store.sqlite import SQLiteStore

logger = logging.getLogger(__name__)

LOCK_DIR_ENV = "VAULTEXEC_LOCK_DIR"
REDIS_LEASE_PREFIX = "vaultexec-lease"
DEFAULT_TTL = 30.0

#: Values of the Redis leases this process holds now: a lease of this pid not in it is left over (its release
#: failed, e.g. Redis was read-only then) and may be taken over.
_HELD_HERE: set[str] = set()

_ACQUIRE_LUA = """
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[3] then return {0, current} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {1, ARGV[1]}
"""
_RENEW_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def lock_dir() -> Path:
    """Where the SQLite store's lease files live (`VAULTEXEC_LOCK_DIR`, else ~/.cache/vaultexec/locks)."""
    configured = os.environ.get(LOCK_DIR_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "vaultexec" / "locks"


def _me() -> tuple[str, int, str]:
    return socket.gethostname(), os.getpid(), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _held_error(what: str, holder: str, where: str, expiry: str) -> LeaseHeldError:
    return LeaseHeldError(
        f"{what} is leased by another executor ({holder}; {where}). Nothing was signed. One executor runs a "
        f"vault and a hot wallet at a time: wait for it to finish or stop it; {expiry}", holder)


def _describe(host: str, pid: str, since: str) -> str:
    return f"host {host}, pid {pid}, since {since}"


@contextmanager
def _file_lease(path: Path, what: str) -> Iterator[None]:
    """An exclusive flock on `path`; the holder's host, pid and time are written into the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the lease's life
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            host, pid, since = [*handle.read().strip().split("|"), "?", "?", "?"][:3]
            raise _held_error(what, _describe(host, pid, since), f"lock file {path}",
                              "the OS releases the lock when that process ends.") from None
        except OSError as exc:
            raise StoreError(f"Cannot lock {path} for the lease on {what}: {exc}. Set {LOCK_DIR_ENV} to a "
                             "writable local directory.") from exc
        handle.seek(0)
        handle.truncate()
        handle.write("|".join(map(str, _me())))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


class RedisLease:
    """One lease key held with expiry and renewal; `token` fences the store's writes (see module doc)."""

    def __init__(self, store: RedisStore, key: str, what: str, ttl: float) -> None:
        self.store, self.key, self.what, self.ttl_ms = store, key, what, max(1, int(ttl * 1000))
        client = store.client
        self._acquire, self._renew = client.register_script(_ACQUIRE_LUA), client.register_script(_RENEW_LUA)
        self._release = client.register_script(_RELEASE_LUA)
        self.token = ""
        self.value = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> None:
        host, pid, since = _me()
        self.token = str(self._call("draw a fencing token", self.store.client.incr, f"{REDIS_LEASE_PREFIX}:token"))
        self.value = f"{self.token}|{host}|{pid}|{since}"
        stale = ""
        for _ in range(2):
            won, current = self._call(f"take the lease {self.key}", self._acquire, keys=[self.key],
                                      args=[self.value, self.ttl_ms, stale])
            if won:
                break
            text = current.decode(errors="replace")
            stale = text if self._holder_is_dead(text) else ""
            if not stale:
                _, other_host, other_pid, other_since = (text.split("|") + ["?"] * 3)[:4]
                raise _held_error(self.what, _describe(other_host, other_pid, other_since),
                                  f"Redis key {self.key}", f"a crashed holder's lease expires within "
                                  f"{self.ttl_ms / 1000:g} s.")
            logger.warning("taking over the lease %s of a process that is gone (%s)", self.key, stale)
        _HELD_HERE.add(self.value)
        self._thread = threading.Thread(target=self._keep, name=f"lease {self.key}", daemon=True)
        self._thread.start()

    @staticmethod
    def _holder_is_dead(value: str) -> bool:
        """True only for a holder on this host whose pid no longer runs (a crashed run of ours), or a lease of
        this very process that it no longer holds (left behind by a release that failed)."""
        parts = value.split("|")
        if len(parts) < 3 or parts[1] != socket.gethostname() or not parts[2].isdigit():
            return False
        if int(parts[2]) == os.getpid():
            return value not in _HELD_HERE
        try:
            os.kill(int(parts[2]), 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False

    def _keep(self) -> None:
        """Renew every third of the expiry; a lost lease is logged (the store's fence refuses our writes)."""
        while not self._stop.wait(self.ttl_ms / 3000):
            try:
                if not self._renew(keys=[self.key], args=[self.value, self.ttl_ms]):
                    logger.error("lost the lease %s to another executor; this executor's writes are refused",
                                 self.key)
                    return
            except Exception as exc:  # keep trying: a Redis outage shorter than the expiry is harmless
                logger.warning("renewing the lease %s failed: %s", self.key, exc)

    def release(self) -> None:
        _HELD_HERE.discard(self.value)
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self._release(keys=[self.key], args=[self.value])
        except Exception as exc:  # the key expires by itself
            logger.warning("releasing the lease %s failed (it expires by itself): %s", self.key, exc)

    def _call(self, what: str, operation: Any, *args: Any, **kwargs: Any) -> Any:
        return self.store._call(what, operation, *args, **kwargs)


@contextmanager
def _redis_leases(store: RedisStore, leases: list[tuple[str, str]], ttl: float) -> Iterator[None]:
    held: list[RedisLease] = []
    try:
        for key, what in leases:
            lease = RedisLease(store, key, what, ttl)
            lease.acquire()
            held.append(lease)
        store.fences = tuple((lease.key, lease.token) for lease in held)
        yield
    finally:
        store.fences = ()
        for lease in reversed(held):
            lease.release()


@contextmanager
def hold_leases(store: object, chain_id: int, vault: str, wallet: str, ttl: float = DEFAULT_TTL) -> Iterator[None]:
    """Hold the (chain, vault) and (chain, wallet) leases for the block (see module doc); LeaseHeldError if
    another executor holds one. A store of another kind (a test double) gets no lease, with a debug log."""
    names = [(f"vault:{vault.lower()}", f"Vault {vault.lower()} on chain {chain_id}"),
             (f"wallet:{wallet.lower()}", f"Hot wallet {wallet.lower()} on chain {chain_id}")]
    if isinstance(store, SQLiteStore):
        with ExitStack() as stack:
            for name, what in names:
                path = lock_dir() / f"{chain_id}-{name.replace(':', '-')}.lock"
                stack.enter_context(_file_lease(path, what))
            yield
    elif isinstance(store, RedisStore):
        with _redis_leases(store, [(f"{REDIS_LEASE_PREFIX}:{chain_id}:{name}", what) for name, what in names], ttl):
            yield
    else:
        logger.debug("store %s has no leases; running unleased", type(store).__name__)
        yield
