"""Redis backend: per-vault hash of trade JSON plus sorted-set time indexes, as in the seed's report store.

Keys (vault = lower-case address, member = trade id zero-padded to 20 digits so ties sort numerically):
- `{p}:{vault}:reports`          hash member -> trade JSON
- `{p}:{vault}:status`           hash member -> status
- `{p}:{vault}:by_time`          sorted set, score = opened_at in microseconds since the epoch
- `{p}:{vault}:by_status:{s}`    sorted set per status, same score
- `{p}:{vault}:history:{member}` list of transition JSON
- `{p}:vaults`                   set of vault addresses
Every write is one Lua script (atomic); `update()` is a compare-and-set on the status read before the
forward-only check, retried if another writer got in between. `create_many` / `update_many` write a
batch as one MULTI/EXEC under WATCH of the status hash: the checks run on the statuses read after the
WATCH, and the EXEC fails (and the batch is retried) if any writer touched the vault meanwhile, so a
batch is all or nothing. Durability is the server's: run it with
`appendonly yes` and `appendfsync always` for "on disk before it returns" (see docs/store.md).
A write during an outage raises StoreUnavailableError; the next call reconnects by itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from vaultexec.errors import (
    DuplicateRecordError,
    RecordNotFoundError,
    StoreError,
    StoreUnavailableError,
)
from vaultexec.model.trade import TradeExecution
from vaultexec.store.codec import (
    StoredRow,
    decode,
    encode,
    encode_batch,
    from_time_key,
    normalise_vault,
    to_time_key,
)
from vaultexec.store.lifecycle import check_reorg, check_update
from vaultexec.store.protocol import Transition

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "vaultexec"
_PAGE = 500
_CAS_ATTEMPTS = 20

# KEYS: reports, status, by_time, by_status[new], history, vaults
# ARGV: member, status, body, score, transition json, vault
_CREATE_LUA = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  return {0, redis.call('HGET', KEYS[2], ARGV[1])}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
redis.call('RPUSH', KEYS[5], ARGV[5])
redis.call('SADD', KEYS[6], ARGV[6])
return {1, ARGV[2]}
"""

# KEYS: reports, status, by_time, by_status[old], by_status[new], history
# ARGV: member, expected old status, new status, body, score, transition json
_REPLACE_LUA = """
local current = redis.call('HGET', KEYS[2], ARGV[1])
if not current then return {0, ''} end
if current ~= ARGV[2] then return {2, current} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
redis.call('RPUSH', KEYS[6], ARGV[6])
return {1, current}
"""


def member_of(trade_id: int) -> str:
    return f"{trade_id:020d}"


def connect(url: str, socket_timeout: float = 5.0) -> redis.Redis:
    """A client that fails fast (no silent retries) and reconnects on the next call after an outage."""
    return redis.Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout,
                                retry=Retry(NoBackoff(), 0))


class RedisStore:
    """The shared store: several executors (processes, hosts) may write to one Redis."""

    def __init__(self, client: redis.Redis, vault: str, prefix: str = DEFAULT_PREFIX) -> None:
        self._vault = normalise_vault(vault)
        self.client = client
        self.prefix = prefix
        base = f"{prefix}:{self._vault}"
        self._reports, self._status, self._by_time = f"{base}:reports", f"{base}:status", f"{base}:by_time"
        self._base = base
        self._vaults = f"{prefix}:vaults"
        self._create_script = client.register_script(_CREATE_LUA)
        self._replace_script = client.register_script(_REPLACE_LUA)

    @classmethod
    def from_url(cls, url: str, vault: str, prefix: str = DEFAULT_PREFIX) -> RedisStore:
        return cls(connect(url), vault, prefix)

    @property
    def vault(self) -> str:
        return self._vault

    def _by_status(self, status: str) -> str:
        return f"{self._base}:by_status:{status}"

    def _history(self, member: str) -> str:
        return f"{self._base}:history:{member}"

    def _where(self, trade_id: int) -> str:
        kwargs = self.client.connection_pool.connection_kwargs
        return (f"Redis {kwargs.get('host')}:{kwargs.get('port')}/{kwargs.get('db')} "
                f"hash {self._reports} field {member_of(trade_id)}")

    def _call(self, what: str, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one Redis round trip, turning client errors into store errors that say what to do.

        Returns redis-py's raw reply (bytes, the client does not decode), hence `Any`.
        """
        try:
            return operation(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StoreUnavailableError(
                f"Redis store unreachable while trying to {what}: {exc}. If this was a write, it may not "
                "have been applied: load the trade once Redis is back before writing it again."
            ) from exc
        except redis.RedisError as exc:
            raise StoreError(f"Redis store refused to {what}: {exc}") from exc

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
                self._transition_json(None, row.status, None), self._vault]
        created, status = self._call(f"create trade {row.trade_id}", self._create_script,
                                     keys=keys, args=args)
        if not created:
            raise DuplicateRecordError(
                f"Trade {row.trade_id} of vault {self._vault} is already stored (status {status.decode()}); "
                "the store is append-only, use update() for a later state."
            )

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
        """One MULTI/EXEC for the whole batch, checked against statuses read under WATCH (see module doc)."""
        members = [member_of(row.trade_id) for row in rows]
        for _ in range(_CAS_ATTEMPTS):
            with self.client.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(self._status)  # type: ignore[no-untyped-call]
                    raw: list[Any] = pipe.hmget(self._status, members)  # immediate after WATCH
                    stored = [value.decode() if isinstance(value, bytes) else value for value in raw]
                    self._check_batch(rows, stored, create)
                    pipe.multi()
                    self._queue_batch(pipe, rows, members, stored)
                    pipe.execute()
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

    def _replace(self, row: StoredRow, reason: str | None) -> None:
        member = member_of(row.trade_id)
        for _ in range(_CAS_ATTEMPTS):
            raw = self._call(f"read the status of trade {row.trade_id}", self.client.hget,
                             self._status, member)
            if raw is None:
                raise RecordNotFoundError(f"Trade {row.trade_id} of vault {self._vault} is not stored; "
                                          "create() it first.")
            stored = raw.decode()
            if reason is None:
                check_update(row.trade_id, stored, row.status)
            else:
                check_reorg(row.trade_id, stored, row.status)
            keys = [self._reports, self._status, self._by_time, self._by_status(stored),
                    self._by_status(row.status), self._history(member)]
            args = [member, stored, row.status, row.body, row.opened_at_us,
                    self._transition_json(stored, row.status, reason)]
            outcome, _ = self._call(f"update trade {row.trade_id}", self._replace_script,
                                    keys=keys, args=args)
            if outcome == 1:
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

    def _load_members(self, members: list[bytes]) -> list[TradeExecution]:
        if not members:
            return []
        bodies: list[bytes | None] = self._call("load trades", self.client.hmget, self._reports, members)
        trades = []
        for member, body in zip(members, bodies, strict=True):
            trade_id = int(member)
            if body is None:  # removed between index read and load: only a manual deletion does this
                raise RecordNotFoundError(
                    f"Trade {trade_id} of vault {self._vault} is indexed in Redis but its report is missing.")
            trades.append(decode(body, self._vault, trade_id, self._where(trade_id)))
        return trades

    def load(self, trade_id: int) -> TradeExecution:
        body = self._call(f"load trade {trade_id}", self.client.hget, self._reports, member_of(trade_id))
        if body is None:
            raise RecordNotFoundError(f"Trade {trade_id} of vault {self._vault} is not stored in Redis.")
        return decode(body, self._vault, trade_id, self._where(trade_id))

    def iterate_by_time(self, start: datetime | None = None, end: datetime | None = None,
                        descending: bool = False) -> Iterator[TradeExecution]:
        low: Any = to_time_key(start) if start is not None else "-inf"
        high: Any = to_time_key(end) if end is not None else "+inf"
        offset = 0
        while True:
            members: list[bytes] = self._call(
                "read the time index", self.client.zrange, self._by_time, high if descending else low,
                low if descending else high, desc=descending, byscore=True, offset=offset, num=_PAGE)
            yield from self._load_members(members)
            if len(members) < _PAGE:
                return
            offset += _PAGE

    def first(self) -> TradeExecution | None:
        return next(self.iterate_by_time(), None)

    def last(self) -> TradeExecution | None:
        return next(self.iterate_by_time(descending=True), None)

    def list_by_status(self, *statuses: str) -> list[TradeExecution]:
        scored: list[tuple[float, bytes]] = []
        for status in statuses:
            entries = self._call(f"read the {status} index", self.client.zrange,
                                 self._by_status(str(status)), 0, -1, withscores=True)
            scored += [(score, member) for member, score in entries]
        return self._load_members([member for _, member in sorted(scored)])

    def export_all(self) -> list[TradeExecution]:
        return list(self.iterate_by_time())

    def history(self, trade_id: int) -> list[Transition]:
        entries = self._call(f"read the history of trade {trade_id}",
                             self.client.lrange, self._history(member_of(trade_id)), 0, -1)
        result = []
        for entry in entries:
            item = json.loads(entry)
            result.append(Transition(trade_id, item["from"], item["to"], from_time_key(item["at_us"]),
                                     item["reason"]))
        return result

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
