"""Redis backend: per-vault hash of trade JSON plus sorted-set time indexes, as in the seed's report store.

Keys (vault = lower-case address, member = trade id zero-padded to 20 digits so ties sort numerically):
- `{p}:{vault}:reports`          hash member -> trade JSON
- `{p}:{vault}:status`           hash member -> status
- `{p}:{vault}:by_time`          sorted set, score = opened_at in microseconds since the epoch
- `{p}:{vault}:by_status:{s}`    sorted set per status, same score
- `{p}:{vault}:history:{member}` list of transition JSON
- `{p}:vaults`                   set of vault addresses
Every write is one Lua script (atomic); `update()` reads the record (status and body together), runs the
checks (forward-only, no stored transaction hash dropped), then writes with a compare-and-set on that
status and body, retried if another writer got in between. `create_many` / `update_many` write a batch as
one MULTI/EXEC under WATCH of the status and report hashes: the checks run on the records read after the
WATCH, and the EXEC fails (and the batch is retried) if any writer touched the vault meanwhile, so a
batch is all or nothing. Reads that span several keys (a page of the time index with its bodies, the
status indexes with their bodies) are one Lua script each, so they see one state of the vault.

The Lua scripts live in `redis_lua`; the URL handling (`connect`, `?durability=`) and the persistence
check in `redis_url`.

Durability is the server's: it must run with `appendonly yes` and `appendfsync always` for "on disk
before it returns". The store checks that when it opens (CONFIG GET) and refuses otherwise, unless opened
with `durability="relaxed"` (`?durability=relaxed` in the URL); see docs/store.md.
A write during an outage raises StoreUnavailableError; the next call reconnects by itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import redis

from vaultexec.errors import (
    BadInputError,
    DuplicateRecordError,
    RecordNotFoundError,
    StoreError,
    StoreUnavailableError,
)
from vaultexec.model.trade import TradeExecution
from vaultexec.store.claims import (
    claims_of,
    owner_of,
    released_claims,
)
from vaultexec.store.codec import (
    StoredRow,
    check_trade_id,
    claims_row,
    decode,
    decode_transition,
    encode,
    encode_batch,
    normalise_vault,
    to_time_key,
    trade_id_of_member,
)
from vaultexec.store.lifecycle import check_keeps_hashes, check_reorg, check_update, normalise_statuses
from vaultexec.store.protocol import Transition
from vaultexec.store.redis_claims import RedisClaims
from vaultexec.store.redis_lua import (
    BY_STATUS_LUA,
    CREATE_LUA,
    MAX_MEMBER_LUA,
    PAGE_LUA,
    RECORD_CLAIMS_LUA,
    REPLACE_LUA,
)
from vaultexec.store.redis_url import (
    RELAXED,
    STRICT,
    check_persistence,
    connect,
    persistence_settings,
    server_name,
    split_durability,
)

__all__ = ["DEFAULT_PREFIX", "RELAXED", "STRICT", "RedisStore", "connect", "member_of", "split_durability"]

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "vaultexec"
_PAGE = 500
_CAS_ATTEMPTS = 20

def _cause_hint(exc: redis.RedisError) -> str:
    """What to do about a refusal, by its cause (out of memory, read-only replica)."""
    text = str(exc)
    if "maxmemory" in text or text.startswith("OOM"):
        return (" (Redis is out of memory, OOM: raise its maxmemory or free memory, then run again; "
                "resume() finishes trades in flight)")
    if isinstance(exc, redis.ReadOnlyError) or "read only replica" in text.lower():
        return " (this server is a read-only replica: point the store URL at the primary)"
    return ""


def member_of(trade_id: int) -> str:
    return f"{trade_id:020d}"


#: Records whose written claims a RedisStore remembers (about 0.5 kB each).
WRITTEN_MEMORY = 100_000


def _sha1(body: bytes) -> str:
    return hashlib.sha1(body, usedforsecurity=False).hexdigest()


#: What `_call` does, by the first word of its description: these may leave a partial write behind.
_WRITES = ("create", "update", "write", "revert", "index", "set")


class RedisStore(RedisClaims):
    """The shared store: several executors (processes, hosts) may write to one Redis.

    Opening it checks the server's persistence (see module doc): ConfigurationError unless it runs with
    `appendonly yes` and `appendfsync always`, or `durability="relaxed"` is given (then a warning).
    """

    def __init__(self, client: redis.Redis, vault: str, prefix: str = DEFAULT_PREFIX,
                 durability: str = STRICT) -> None:
        if durability not in (STRICT, RELAXED):
            raise BadInputError(f"Redis store durability {durability!r}: use {STRICT!r} (the default) or "
                                f"{RELAXED!r}.")
        self._vault = normalise_vault(vault)
        self.client = client
        self.prefix = prefix
        self.durability = durability
        base = f"{prefix}:{self._vault}"
        self._reports, self._status, self._by_time = f"{base}:reports", f"{base}:status", f"{base}:by_time"
        self._base = base
        self._meta = f"{base}:meta"
        self._vaults = f"{prefix}:vaults"
        #: One key per claim and per wallet's highest nonce: a batch WATCHes only its own (other vaults' and
        #: wallets' writes never make it retry).
        self._claims, self._nonces = f"{prefix}:claim:", f"{prefix}:wallet_nonce:"
        #: (lease key, token) pairs every write checks (set by `store.lease` while it holds them).
        self.fences: tuple[tuple[str, str], ...] = ()
        self._record_claims_script = client.register_script(RECORD_CLAIMS_LUA)
        self._create_script = client.register_script(CREATE_LUA)
        self._replace_script = client.register_script(REPLACE_LUA)
        self._page_script = client.register_script(PAGE_LUA)
        self._by_status_script = client.register_script(BY_STATUS_LUA)
        self._max_member_script = client.register_script(MAX_MEMBER_LUA)
        #: trade id -> (SHA-1 of the body this store last wrote for it, that record's claims): an update of a
        #: record still holding that body checks hashes and releases claims from here, without decoding it.
        self._written: dict[int, tuple[str, StoredRow]] = {}
        self._check_persistence()
        self._index_claims()

    @classmethod
    def from_url(cls, url: str, vault: str, prefix: str = DEFAULT_PREFIX) -> RedisStore:
        """Open from a redis-py URL; `?durability=relaxed` in it accepts a server without AOF always."""
        plain, durability = split_durability(url)
        return cls(connect(plain), vault, prefix, durability)

    def _server(self) -> str:
        return server_name(self.client)

    def _check_persistence(self) -> None:
        """Refuse (or, relaxed, warn about) a server that acknowledges writes before they are on disk."""
        settings = self._call("read the server's persistence settings", persistence_settings, self.client)
        check_persistence(settings, self.durability, self._server(), self._vault)

    @property
    def vault(self) -> str:
        return self._vault

    def _by_status(self, status: str) -> str:
        return f"{self._base}:by_status:{status}"

    def _history(self, member: str) -> str:
        return f"{self._base}:history:{member}"

    def _where(self, trade_id: int) -> str:
        return f"{self._server()} hash {self._reports} field {member_of(trade_id)}"

    def get_metadata(self, key: str) -> str | None:
        value = self._call(f"read the store's {key} record", self.client.hget, self._meta, key)
        return None if value is None else bytes(value).decode()

    def set_metadata_if_absent(self, key: str, value: str) -> str:
        self._call(f"write the store's {key} record", self.client.hsetnx, self._meta, key, value)
        stored = self.get_metadata(key)
        assert stored is not None  # HSETNX just set it, or it was there
        return stored

    def _call(self, what: str, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one Redis round trip, turning client errors into store errors that say what to do.

        Returns redis-py's raw reply (bytes, the client does not decode), hence `Any`.
        """
        try:
            return operation(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            if what.startswith(_WRITES):
                advice = ("If this was a write, it may not have been applied: load the trade once Redis is back "
                          "before writing it again.")
            else:
                advice = "Nothing was written; run it again once Redis is back (check the URL and the server)."
            raise StoreUnavailableError(f"Redis store unreachable while trying to {what}: {exc}. {advice}") from exc
        except redis.RedisError as exc:
            raise StoreError(f"Redis store refused to {what}: {exc}{_cause_hint(exc)}") from exc

    @staticmethod
    def _transition_json(from_status: str | None, to_status: str, reason: str | None) -> str:
        return json.dumps({"from": from_status, "to": to_status,
                           "at_us": to_time_key(datetime.now(UTC)), "reason": reason})

    # --- writes -----------------------------------------------------------------------------------

    def create(self, trade: TradeExecution) -> None:
        row = encode(trade)
        member = member_of(row.trade_id)
        keys = [self._reports, self._status, self._by_time, self._by_status(row.status),
                self._history(member), self._vaults]
        args = [member, row.status, row.body, row.opened_at_us,
                self._transition_json(None, row.status, None), self._vault, self._spec([row])]
        reply = self._call(f"create trade {row.trade_id}", self._create_script, keys=keys, args=args)
        if reply[0] in (3, 4):
            raise self._refused(row.trade_id, reply)
        created, status = reply
        if not created:
            raise DuplicateRecordError(
                f"Trade {row.trade_id} of vault {self._vault} is already stored (status {status.decode()}); "
                "the store is append-only, use update() for a later state."
            )
        self._remember([row])

    def update(self, trade: TradeExecution) -> None:
        self._replace(encode(trade), reason=None)

    def revert_to_broadcasted(self, trade: TradeExecution, reason: str) -> None:
        self._replace(encode(trade), reason=reason)

    def create_many(self, trades: Sequence[TradeExecution]) -> None:
        rows = encode_batch(trades)
        if rows:
            self._call(f"create {len(rows)} trades", self._write_batch, rows, True)

    def update_many(self, trades: Sequence[TradeExecution]) -> None:
        rows = encode_batch(trades)
        if rows:
            self._call(f"update {len(rows)} trades", self._write_batch, rows, False)

    def _write_batch(self, rows: list[StoredRow], create: bool) -> None:
        """One MULTI/EXEC for the whole batch, checked against records read under WATCH (see module doc)."""
        members = [member_of(row.trade_id) for row in rows]
        for _ in range(_CAS_ATTEMPTS):
            with self.client.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(self._status, self._reports,  # type: ignore[no-untyped-call]
                               *self._guard_keys(rows))
                    raw: list[Any] = pipe.hmget(self._status, members)  # immediate after WATCH
                    stored = [value.decode() if isinstance(value, bytes) else value for value in raw]
                    self._check_batch(rows, stored, create)
                    released: dict[str, str] = {}
                    if not create:
                        bodies: list[Any] = pipe.hmget(self._reports, members)
                        for row, body in zip(rows, bodies, strict=True):
                            before = self._check_keeps_hashes(row, body)
                            released.update((claim, owner_of(self._vault, row.trade_id))
                                            for claim in released_claims(row, before))
                    raised: dict[Any, Any] = self._check_batch_guard(pipe, rows)
                    if released:
                        pipe.watch(*(self._claims + claim for claim in released))  # type: ignore[no-untyped-call]
                    owners: list[Any] = pipe.mget([self._claims + claim for claim in released]) if released else []
                    released = {claim: owner for (claim, owner), held in zip(released.items(), owners, strict=True)
                                if held is not None and held.decode() == owner}
                    pipe.multi()
                    self._queue_batch(pipe, rows, members, stored)
                    if released:
                        pipe.delete(*(self._claims + claim for claim in released))
                    owned: dict[Any, Any] = {self._claims + claim: owner_of(self._vault, row.trade_id)
                                             for row in rows for claim in claims_of(row)}
                    owned.update((self._nonces + field, padded) for field, padded in raised.items())
                    if owned:
                        pipe.mset(owned)
                    pipe.execute()
                    self._remember(rows)
                    return
                except redis.WatchError:
                    logger.debug("a batch of %d trades changed under us, retrying", len(rows))
        raise StoreError(f"A batch of {len(rows)} trades of vault {self._vault}: gave up after {_CAS_ATTEMPTS} "
                         "concurrent writes by other writers; nothing of the batch was written.")

    def _check_batch(self, rows: list[StoredRow], stored: list[str | None], create: bool) -> None:
        for row, status in zip(rows, stored, strict=True):
            if create and status is not None:
                raise DuplicateRecordError(
                    f"Trade {row.trade_id} of vault {self._vault} is already stored (status {status}); the store "
                    f"is append-only, so none of the batch's {len(rows)} trades was written.")
            if not create:
                if status is None:
                    raise RecordNotFoundError(
                        f"Trade {row.trade_id} of vault {self._vault} is not stored; create() it first (none of "
                        f"the batch's {len(rows)} trades was written).")
                check_update(row.trade_id, status, row.status)

    def _queue_batch(self, pipe: Any, rows: list[StoredRow], members: list[str],
                     stored: list[str | None]) -> None:
        pipe.hset(self._reports, mapping={m: row.body for m, row in zip(members, rows, strict=True)})
        pipe.hset(self._status, mapping={m: row.status for m, row in zip(members, rows, strict=True)})
        pipe.zadd(self._by_time, {m: row.opened_at_us for m, row in zip(members, rows, strict=True)})
        by_new: dict[str, dict[str, int]] = {}
        by_old: dict[str, list[str]] = {}
        for member, row, old in zip(members, rows, stored, strict=True):
            by_new.setdefault(row.status, {})[member] = row.opened_at_us
            if old is not None and old != row.status:
                by_old.setdefault(old, []).append(member)
            pipe.rpush(self._history(member), self._transition_json(old, row.status, None))
        for status, old_members in by_old.items():
            pipe.zrem(self._by_status(status), *old_members)
        for status, scored in by_new.items():
            pipe.zadd(self._by_status(status), scored)
        pipe.sadd(self._vaults, self._vault)

    def _check_keeps_hashes(self, row: StoredRow, stored_body: bytes | None) -> StoredRow:
        """Refuse `row` if it lost a transaction hash of the stored record (see lifecycle); returns the stored
        record's claims: remembered if this store wrote that very body (`_written`), else decoded from it."""
        known = self._written.get(row.trade_id)
        if known is not None and stored_body is not None and _sha1(stored_body) == known[0]:
            before = known[1]
        else:
            before = claims_row(decode(stored_body, self._vault, row.trade_id, self._where(row.trade_id)))
        check_keeps_hashes(row.trade_id, before.tx_hashes, row.tx_hashes)
        return before

    def _remember(self, rows: Sequence[StoredRow]) -> None:
        """Note what this store just wrote (see `_written`); bounded: emptied when it holds WRITTEN_MEMORY."""
        if len(self._written) + len(rows) > WRITTEN_MEMORY:
            self._written.clear()
        for row in rows:
            self._written[row.trade_id] = (_sha1(row.body.encode()), replace(row, body=""))

    def _read_record(self, member: str) -> tuple[bytes | None, bytes | None]:
        """(status, body) of one trade, read together (MULTI/EXEC)."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hget(self._status, member)
            pipe.hget(self._reports, member)
            status, body = pipe.execute()
        return status, body

    def _replace(self, row: StoredRow, reason: str | None) -> None:
        member = member_of(row.trade_id)
        for _ in range(_CAS_ATTEMPTS):
            raw, body = self._call(f"read the status of trade {row.trade_id}", self._read_record, member)
            if raw is None:
                raise RecordNotFoundError(f"Trade {row.trade_id} of vault {self._vault} is not stored; "
                                          "create() it first.")
            stored = raw.decode()
            if reason is None:
                check_update(row.trade_id, stored, row.status)
            else:
                check_reorg(row.trade_id, stored, row.status)
            before = self._check_keeps_hashes(row, body)
            assert body is not None  # decode() refused a missing body
            keys = [self._reports, self._status, self._by_time, self._by_status(stored),
                    self._by_status(row.status), self._history(member)]
            args = [member, stored, row.status, row.body, row.opened_at_us,
                    self._transition_json(stored, row.status, reason), _sha1(body),
                    self._spec([row], released_claims(row, before))]
            reply = self._call(f"update trade {row.trade_id}", self._replace_script, keys=keys, args=args)
            if reply[0] in (3, 4):
                raise self._refused(row.trade_id, reply)
            outcome = reply[0]
            if outcome == 1:
                self._remember([row])
                if reason is not None:
                    logger.warning("trade %d of vault %s reverted %s -> %s: %s", row.trade_id, self._vault,
                                   stored, row.status, reason)
                return
            if outcome == 0:
                raise RecordNotFoundError(f"Trade {row.trade_id} of vault {self._vault} vanished while "
                                          "being updated.")
            logger.debug("trade %d changed under us (was %s), retrying", row.trade_id, stored)
        raise StoreError(f"Trade {row.trade_id} of vault {self._vault}: gave up after {_CAS_ATTEMPTS} "
                         "concurrent updates by other writers.")

    # --- reads ------------------------------------------------------------------------------------

    def _load_entries(self, flat: list[Any], where: str) -> Iterator[tuple[float, int, TradeExecution]]:
        """(score, trade id, trade) of a script's flat (member, score, body) reply, decoded one by one as
        the caller asks (so `first()` decodes one trade); the indexes read are `where`."""
        for member, score, body in zip(flat[0::3], flat[1::3], flat[2::3], strict=True):
            trade_id = trade_id_of_member(member, self._vault, where)
            if body is None:  # only a manual deletion leaves an index member without its report
                raise RecordNotFoundError(
                    f"Trade {trade_id} of vault {self._vault} is indexed in Redis but its report is missing.")
            yield float(score), trade_id, decode(body, self._vault, trade_id, self._where(trade_id))

    def load(self, trade_id: int) -> TradeExecution:
        check_trade_id(trade_id)
        body = self._call(f"load trade {trade_id}", self.client.hget, self._reports, member_of(trade_id))
        if body is None:
            raise RecordNotFoundError(f"Trade {trade_id} of vault {self._vault} is not stored in Redis.")
        return decode(body, self._vault, trade_id, self._where(trade_id))

    def iterate_by_time(self, start: datetime | None = None, end: datetime | None = None,
                        descending: bool = False) -> Iterator[TradeExecution]:
        low = str(to_time_key(start)) if start is not None else "-inf"  # bad bounds raise here, not at next()
        high = str(to_time_key(end)) if end is not None else "+inf"
        return self._pages(low, high, descending)

    def _pages(self, low: str, high: str, descending: bool) -> Iterator[TradeExecution]:
        """Pages of `_PAGE` by the (score, member) key, as SQLite's: trades created meanwhile never shift one."""
        cursor: tuple[bytes, bytes] | None = None
        where = f"{self._server()} sorted set {self._by_time}"
        while True:
            args = [low, high, "1" if descending else "0", _PAGE, *(cursor or (b"", b""))]
            flat: list[Any] = self._call("read the time index", self._page_script,
                                         keys=[self._by_time, self._reports], args=args)
            for _, _, trade in self._load_entries(flat, where):
                yield trade
            if len(flat) < 3 * _PAGE:
                return
            cursor = (flat[-2], flat[-3])

    def first(self) -> TradeExecution | None:
        return next(self.iterate_by_time(), None)

    def last(self) -> TradeExecution | None:
        return next(self.iterate_by_time(descending=True), None)

    def list_by_status(self, *statuses: str) -> list[TradeExecution]:
        chosen = normalise_statuses(statuses)
        if not chosen:
            return []
        keys = [self._reports, *(self._by_status(status) for status in chosen)]
        flat: list[Any] = self._call(f"read the {', '.join(chosen)} indexes", self._by_status_script,
                                     keys=keys, args=[])
        where = f"{self._server()} status indexes {self._by_status('*')}"
        unique = {trade_id: (score, trade_id, trade) for score, trade_id, trade in self._load_entries(flat, where)}
        return [trade for _, _, trade in sorted(unique.values(), key=lambda entry: entry[:2])]

    def export_all(self) -> list[TradeExecution]:
        return list(self.iterate_by_time())

    def max_trade_id(self) -> int | None:
        member = self._call("read the highest trade id", self._max_member_script, keys=[self._reports], args=[])
        if not member:
            return None
        return trade_id_of_member(member, self._vault, f"{self._server()} hash {self._reports}")

    def history(self, trade_id: int) -> list[Transition]:
        check_trade_id(trade_id)
        key = self._history(member_of(trade_id))
        entries = self._call(f"read the history of trade {trade_id}", self.client.lrange, key, 0, -1)
        where = f"{self._server()} list {key}"
        return [decode_transition(entry, self._vault, trade_id, where) for entry in entries]

    def count(self) -> int:
        return int(self._call("count trades", self.client.hlen, self._reports))

    def list_vaults(self) -> list[str]:
        members = self._call("list vaults", self.client.smembers, self._vaults)
        return sorted(m.decode() for m in members)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> RedisStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
