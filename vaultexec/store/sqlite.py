"""SQLite backend: one file in WAL mode, one IMMEDIATE transaction per write, synchronous=FULL.

`create_many` / `update_many` write a whole batch in one transaction: one fsync, all or nothing.

Durability: a write returns only after its transaction committed with the WAL fsynced. Several processes
may open the same file: writers serialise on SQLite's write lock (waiting up to `busy_timeout` seconds)
and the update checks (forward-only, no stored transaction hash dropped) run inside the write
transaction on the record it reads there, so no update is lost or torn.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vaultexec.errors import (
    DuplicateRecordError,
    RecordNotFoundError,
    StoreError,
    StoreUnavailableError,
)
from vaultexec.model.trade import TradeExecution
from vaultexec.store.claims import (
    NONCE_DIGITS,
    check_claims,
    claims_of,
    describe_claim,
    hashes_of_claims,
    nonce_of_claim,
    nonce_prefix,
    owner_of,
)
from vaultexec.store.codec import (
    StoredRow,
    check_trade_id,
    decode,
    encode,
    encode_batch,
    make_transition,
    normalise_vault,
    to_time_key,
)
from vaultexec.store.lifecycle import check_keeps_hashes, check_reorg, check_update, normalise_statuses
from vaultexec.store.protocol import Transition
from vaultexec.store.sqlite_write import WalIndexGuard, WriteTransaction, open_hint

logger = logging.getLogger(__name__)

#: 2: `tx_claims`; 3: `tx_claims_by_trade`, so an update reads a record's claims (its hashes) by trade.
SCHEMA_VERSION = 3
_SCHEMA = """
CREATE TABLE IF NOT EXISTS trades (
    vault TEXT NOT NULL,
    trade_id INTEGER NOT NULL,
    opened_at_us INTEGER NOT NULL,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (vault, trade_id)
);
CREATE INDEX IF NOT EXISTS trades_by_time ON trades (vault, opened_at_us, trade_id);
CREATE INDEX IF NOT EXISTS trades_by_status ON trades (vault, status, opened_at_us, trade_id);
CREATE TABLE IF NOT EXISTS transitions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    vault TEXT NOT NULL,
    trade_id INTEGER NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    at_us INTEGER NOT NULL,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS transitions_by_trade ON transitions (vault, trade_id, seq);
CREATE TABLE IF NOT EXISTS meta (
    vault TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (vault, key)
);
CREATE TABLE IF NOT EXISTS tx_claims (
    claim TEXT PRIMARY KEY,
    vault TEXT NOT NULL,
    trade_id INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tx_claims_by_trade ON tx_claims (vault, trade_id);
"""
_PAGE = 500


class SQLiteStore:
    """The embedded default store (see module doc); safe to share between threads of one process."""

    def __init__(self, path: str | Path, vault: str, busy_timeout: float = 30.0) -> None:
        self._vault = normalise_vault(vault)
        self.path = Path(path)
        self._lock = threading.RLock()
        self._wal_index = WalIndexGuard(self.path)
        try:
            self._conn = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            # Never memory-map the database file: a page that cannot be backed any more (file truncated or
            # replaced, storage gone) would kill the process with SIGBUS instead of an error we can report.
            self._conn.execute("PRAGMA mmap_size=0")
            with self._write():
                version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self._conn.execute(statement)
                if version < 2:
                    self._index_claims()
                self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"Cannot open the SQLite store {self.path}: {exc}. "
                                        f"{open_hint(self.path, exc)}") from exc
        mode = self._conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            raise StoreError(f"SQLite store {self.path} is in journal mode {mode!r}, expected 'wal'.")
        self._wal_index.remember()

    @property
    def vault(self) -> str:
        return self._vault

    def _write(self) -> WriteTransaction:
        return WriteTransaction(self._conn, self._lock, self.path, self._wal_index)

    def _where(self, trade_id: int) -> str:
        return f"SQLite {self.path} (vault {self._vault}, trade {trade_id})"

    # --- writes -----------------------------------------------------------------------------------

    def create(self, trade: TradeExecution) -> None:
        row = encode(trade)
        with self._write():
            exists = self._conn.execute("SELECT status FROM trades WHERE vault=? AND trade_id=?",
                                        (self._vault, row.trade_id)).fetchone()
            if exists is not None:
                raise DuplicateRecordError(
                    f"Trade {row.trade_id} of vault {self._vault} is already stored (status {exists[0]}); "
                    "the store is append-only, use update() for a later state."
                )
            self._claim([row])
            self._conn.execute("INSERT INTO trades VALUES (?, ?, ?, ?, ?)",
                               (self._vault, row.trade_id, row.opened_at_us, row.status, row.body))
            self._record_transition(row, None, None)

    def update(self, trade: TradeExecution) -> None:
        self._replace(encode(trade), reason=None)

    def revert_to_broadcasted(self, trade: TradeExecution, reason: str) -> None:
        self._replace(encode(trade), reason=reason)

    def create_many(self, trades: Sequence[TradeExecution]) -> None:
        rows = encode_batch(trades)
        if not rows:
            return
        with self._write():
            stored = self._stored_statuses([row.trade_id for row in rows])
            if stored:
                trade_id, status = min(stored.items())
                raise DuplicateRecordError(
                    f"Trade {trade_id} of vault {self._vault} is already stored (status {status}); the store is "
                    f"append-only, so none of the batch's {len(rows)} trades was written.")
            self._claim(rows)
            self._conn.executemany("INSERT INTO trades VALUES (?, ?, ?, ?, ?)",
                                   [(self._vault, r.trade_id, r.opened_at_us, r.status, r.body) for r in rows])
            self._record_transitions([(row, None) for row in rows])

    def update_many(self, trades: Sequence[TradeExecution]) -> None:
        rows = encode_batch(trades)
        if not rows:
            return
        with self._write():
            ids = [row.trade_id for row in rows]
            stored = self._stored_statuses(ids)
            held = self._stored_claims(ids)
            for row in rows:
                if row.trade_id not in stored:
                    raise RecordNotFoundError(
                        f"Trade {row.trade_id} of vault {self._vault} is not stored; create() it first (none "
                        f"of the batch's {len(rows)} trades was written).")
                check_update(row.trade_id, stored[row.trade_id], row.status)
                check_keeps_hashes(row.trade_id, hashes_of_claims(held.get(row.trade_id, ())), row.tx_hashes)
            self._claim(rows, held)
            self._conn.executemany(
                "UPDATE trades SET opened_at_us=?, status=?, body=? WHERE vault=? AND trade_id=?",
                [(r.opened_at_us, r.status, r.body, self._vault, r.trade_id) for r in rows])
            self._record_transitions([(row, stored[row.trade_id]) for row in rows])

    def _in_pages(self, sql: str, trade_ids: list[int]) -> list[Any]:
        """Rows of `sql` (`?` for the vault, then `{marks}` for an IN list) over `trade_ids`, a page at a time."""
        found: list[Any] = []
        for start in range(0, len(trade_ids), _PAGE):
            chunk = trade_ids[start:start + _PAGE]
            found += self._conn.execute(sql.format(marks=",".join("?" * len(chunk))),
                                        (self._vault, *chunk)).fetchall()
        return found

    def _stored_statuses(self, trade_ids: list[int]) -> dict[int, str]:
        """Status of each of `trade_ids` that is stored (inside the caller's write transaction)."""
        return dict(self._in_pages("SELECT trade_id, status FROM trades WHERE vault=? AND trade_id IN ({marks})",
                                   trade_ids))

    def _stored_claims(self, trade_ids: list[int]) -> dict[int, set[str]]:
        """The claims (hashes, nonces) each of `trade_ids` holds in `tx_claims`: what its stored record signed,
        read through the index instead of decoding the record."""
        held: dict[int, set[str]] = {}
        for trade_id, claim in self._in_pages(
                "SELECT trade_id, claim FROM tx_claims WHERE vault=? AND trade_id IN ({marks})", trade_ids):
            held.setdefault(trade_id, set()).add(claim)
        return held

    def _record_transitions(self, rows: list[tuple[StoredRow, str | None]]) -> None:
        at_us = to_time_key(datetime.now(UTC))
        self._conn.executemany(
            "INSERT INTO transitions (vault, trade_id, from_status, to_status, at_us, reason) "
            "VALUES (?, ?, ?, ?, ?, NULL)",
            [(self._vault, row.trade_id, from_status, row.status, at_us) for row, from_status in rows])

    def _replace(self, row: StoredRow, reason: str | None) -> None:
        with self._write():
            found = self._conn.execute("SELECT status FROM trades WHERE vault=? AND trade_id=?",
                                       (self._vault, row.trade_id)).fetchone()
            if found is None:
                raise RecordNotFoundError(f"Trade {row.trade_id} of vault {self._vault} is not stored; "
                                          "create() it first.")
            stored: str = found[0]
            if reason is None:
                check_update(row.trade_id, stored, row.status)
            else:
                check_reorg(row.trade_id, stored, row.status)
            held = self._stored_claims([row.trade_id])
            check_keeps_hashes(row.trade_id, hashes_of_claims(held.get(row.trade_id, ())), row.tx_hashes)
            self._claim([row], held)
            if reason is not None:
                logger.warning("trade %d of vault %s reverted %s -> %s: %s", row.trade_id, self._vault,
                               stored, row.status, reason)
            self._conn.execute(
                "UPDATE trades SET opened_at_us=?, status=?, body=? WHERE vault=? AND trade_id=?",
                (row.opened_at_us, row.status, row.body, self._vault, row.trade_id))
            self._record_transition(row, stored, reason)

    def _record_transition(self, row: StoredRow, from_status: str | None, reason: str | None) -> None:
        self._conn.execute(
            "INSERT INTO transitions (vault, trade_id, from_status, to_status, at_us, reason) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (self._vault, row.trade_id, from_status, row.status, to_time_key(datetime.now(UTC)), reason))

    def _index_claims(self) -> None:
        """Migration to schema 2: fill `tx_claims` from the stored records (every vault of the file).

        Records stored before claims existed may already share a hash (the defect claims prevent): the first
        trade keeps the claim and each clash is logged; a record that does not load is skipped and logged.
        """
        rows = self._conn.execute("SELECT vault, trade_id, body FROM trades ORDER BY vault, trade_id").fetchall()
        for vault, trade_id, body in rows:
            try:
                row = encode(decode(body, vault, trade_id, self._where(trade_id)))
            except StoreError as exc:
                logger.warning("indexing transaction claims: skipped %s", exc)
                continue
            for claim in claims_of(row):
                done = self._conn.execute("INSERT OR IGNORE INTO tx_claims VALUES (?, ?, ?)",
                                          (claim, vault, trade_id))
                if done.rowcount == 0:
                    logger.warning("indexing transaction claims: trade %d of vault %s shares %s with an "
                                   "earlier trade (stored before claims were checked)", trade_id, vault,
                                   describe_claim(claim))
        if rows:
            logger.info("SQLite store %s: indexed the transaction claims of %d trades", self.path, len(rows))

    def _claim(self, rows: list[StoredRow], held: dict[int, set[str]] | None = None) -> None:
        """Check and record the rows' transaction claims (inside the caller's write transaction); `held`, by
        trade id, the claims the stored records they update hold: those these rows no longer make are
        released."""
        if held:
            released = [(claim, self._vault, row.trade_id) for row in rows
                        for claim in held.get(row.trade_id, set()) - set(claims_of(row))]
            self._conn.executemany("DELETE FROM tx_claims WHERE claim=? AND vault=? AND trade_id=?", released)
        wanted = sorted({claim for row in rows for claim in claims_of(row)})
        owners: dict[str, str | None] = {}
        for start in range(0, len(wanted), _PAGE):
            chunk = wanted[start:start + _PAGE]
            marks = ",".join("?" * len(chunk))
            found = self._conn.execute(f"SELECT claim, vault, trade_id FROM tx_claims WHERE claim IN ({marks})",
                                       chunk).fetchall()
            owners.update((claim, owner_of(vault, trade_id)) for claim, vault, trade_id in found)
        check_claims(self._vault, rows, owners)
        self._conn.executemany("INSERT OR IGNORE INTO tx_claims VALUES (?, ?, ?)",
                               [(claim, self._vault, row.trade_id) for row in rows for claim in claims_of(row)])

    def highest_nonce(self, chain_id: int, wallet: str) -> int | None:
        """The highest nonce any stored trade (of any vault in this file) signed for `wallet` on `chain_id`."""
        prefix = nonce_prefix(chain_id, wallet)
        rows = self._query("SELECT claim FROM tx_claims WHERE claim >= ? AND claim < ? ORDER BY claim DESC "
                           "LIMIT 1", (prefix, prefix + "~"))
        return nonce_of_claim(rows[0][0]) if rows else None

    def nonce_holder(self, chain_id: int, wallet: str, nonce: int) -> tuple[str, int] | None:
        """(vault, trade id) of the stored trade that signed `nonce` of `wallet` on `chain_id`, or None."""
        claim = f"{nonce_prefix(chain_id, wallet)}{nonce:0{NONCE_DIGITS}d}"
        rows = self._query("SELECT vault, trade_id FROM tx_claims WHERE claim=?", (claim,))
        return (str(rows[0][0]), int(rows[0][1])) if rows else None

    # --- reads ------------------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self._lock:
            self._wal_index.check()
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreUnavailableError(f"Reading the SQLite store {self.path} failed: {exc}") from exc

    def load(self, trade_id: int) -> TradeExecution:
        check_trade_id(trade_id)
        rows = self._query("SELECT body FROM trades WHERE vault=? AND trade_id=?", (self._vault, trade_id))
        if not rows:
            raise RecordNotFoundError(
                f"Trade {trade_id} of vault {self._vault} is not stored in {self.path}.")
        return decode(rows[0][0], self._vault, trade_id, self._where(trade_id))

    def iterate_by_time(self, start: datetime | None = None, end: datetime | None = None,
                        descending: bool = False) -> Iterator[TradeExecution]:
        low = to_time_key(start) if start is not None else -(2**63)  # bad bounds raise here, not at next()
        high = to_time_key(end) if end is not None else 2**63 - 1
        return self._pages(low, high, descending)

    def _pages(self, low: int, high: int, descending: bool) -> Iterator[TradeExecution]:
        """Pages of `_PAGE` rows by the (opened_at_us, trade_id) key: rows created meanwhile never shift one."""
        order = "DESC" if descending else "ASC"
        cursor: tuple[int, int] | None = None
        while True:
            if cursor is None:
                page = self._query(
                    f"SELECT trade_id, opened_at_us, body FROM trades WHERE vault=? AND opened_at_us "
                    f"BETWEEN ? AND ? ORDER BY opened_at_us {order}, trade_id {order} LIMIT ?",
                    (self._vault, low, high, _PAGE))
            else:
                compare = "<" if descending else ">"
                page = self._query(
                    f"SELECT trade_id, opened_at_us, body FROM trades WHERE vault=? AND opened_at_us "
                    f"BETWEEN ? AND ? AND (opened_at_us, trade_id) {compare} (?, ?) "
                    f"ORDER BY opened_at_us {order}, trade_id {order} LIMIT ?",
                    (self._vault, low, high, cursor[1], cursor[0], _PAGE))
            for trade_id, _, body in page:
                yield decode(body, self._vault, trade_id, self._where(trade_id))
            if len(page) < _PAGE:
                return
            cursor = (page[-1][0], page[-1][1])

    def first(self) -> TradeExecution | None:
        return next(self.iterate_by_time(), None)

    def last(self) -> TradeExecution | None:
        return next(self.iterate_by_time(descending=True), None)

    def list_by_status(self, *statuses: str) -> list[TradeExecution]:
        chosen = normalise_statuses(statuses)
        if not chosen:
            return []
        marks = ",".join("?" * len(chosen))
        rows = self._query(
            f"SELECT trade_id, body FROM trades WHERE vault=? AND status IN ({marks}) "
            "ORDER BY opened_at_us, trade_id", (self._vault, *chosen))
        return [decode(body, self._vault, trade_id, self._where(trade_id)) for trade_id, body in rows]

    def export_all(self) -> list[TradeExecution]:
        return list(self.iterate_by_time())

    def get_metadata(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE vault=? AND key=?", (self._vault, key))
        return None if not rows else str(rows[0][0])

    def set_metadata_if_absent(self, key: str, value: str) -> str:
        with self._write():
            self._conn.execute("INSERT OR IGNORE INTO meta (vault, key, value) VALUES (?, ?, ?)",
                               (self._vault, key, value))
        stored = self.get_metadata(key)
        assert stored is not None  # just inserted, or it was there
        return stored

    def max_trade_id(self) -> int | None:
        (highest,) = self._query("SELECT MAX(trade_id) FROM trades WHERE vault=?", (self._vault,))[0]
        return None if highest is None else int(highest)

    def history(self, trade_id: int) -> list[Transition]:
        check_trade_id(trade_id)
        rows = self._query(
            "SELECT from_status, to_status, at_us, reason FROM transitions WHERE vault=? AND trade_id=? "
            "ORDER BY seq", (self._vault, trade_id))
        where = f"SQLite {self.path} table transitions"
        return [make_transition(trade_id, from_status, to_status, at_us, reason, vault=self._vault, where=where)
                for from_status, to_status, at_us, reason in rows]

    def count(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM trades WHERE vault=?", (self._vault,))[0][0])

    def list_vaults(self) -> list[str]:
        return [v for (v,) in self._query("SELECT DISTINCT vault FROM trades ORDER BY vault", ())]

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
