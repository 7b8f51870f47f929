"""Filling a SQLite store's file to its cap: the next growing write gets SQLITE_FULL (store and world tests)."""

from __future__ import annotations

from vaultexec.store.sqlite import SQLiteStore


def fill_sqlite(store: SQLiteStore) -> None:
    """Cap the file at its current size and fill the free pages it has: the next growing write gets SQLITE_FULL."""
    conn = store._conn
    conn.execute("CREATE TABLE IF NOT EXISTS filler (blob BLOB)")
    conn.execute(f"PRAGMA max_page_count={conn.execute('PRAGMA page_count').fetchone()[0]}")
    for size in (4096, 512, 64, 8):
        try:
            while True:
                conn.execute("INSERT INTO filler VALUES (randomblob(?))", (size,))
        except Exception:
            pass
