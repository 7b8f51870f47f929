"""The SQLite store's write transaction and what its failures mean (disk full, read-only, locked).

SQLite rolls a transaction back by itself after some errors (SQLITE_FULL, SQLITE_IOERR...): the write
transaction rolls back only when one is still active, so the error raised names the real cause.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

from vaultexec.errors import StoreUnavailableError

logger = logging.getLogger(__name__)


class WriteTransaction:
    """BEGIN IMMEDIATE ... COMMIT under the store's lock; rolls back on any exception."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock, path: Path) -> None:
        self._conn, self._lock, self._path = conn, lock, path

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._lock.release()
            raise StoreUnavailableError(
                f"Cannot start a write on the SQLite store {self._path}: {exc}. Another process may "
                "hold the write lock for longer than the busy timeout.") from exc

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        conn, path = self._conn, self._path
        try:
            if exc_type is None:
                try:
                    conn.execute("COMMIT")
                except sqlite3.Error as error:
                    _rollback(conn, path)
                    raise StoreUnavailableError(
                        f"Commit to the SQLite store {path} failed: {error}; nothing of this write was stored. "
                        f"{_hint(error)}") from error
            else:
                _rollback(conn, path)
                if isinstance(exc, sqlite3.Error):
                    raise StoreUnavailableError(
                        f"Write to the SQLite store {path} failed: {exc}; nothing of this write was stored. "
                        f"{_hint(exc)}") from exc
        finally:
            self._lock.release()


def _rollback(conn: sqlite3.Connection, path: Path) -> None:
    """Roll back the write transaction unless SQLite already did (it does on SQLITE_FULL, SQLITE_IOERR...):
    a second ROLLBACK would raise "no transaction is active" and hide the real cause."""
    if not conn.in_transaction:
        return
    try:
        conn.execute("ROLLBACK")
    except sqlite3.Error as error:  # the cause being raised matters more; SQLite drops the transaction anyway
        logger.error("rolling back a failed write on the SQLite store %s failed too: %s", path, error)


def open_hint(path: Path, error: sqlite3.Error) -> str:
    """Why a store may not open: a read-only file system or directory (WAL needs its -wal and -shm files)."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return f"Check that the directory {folder} exists."
    if read_only:
        return f"The file system of {folder} is read-only: the store needs a writable directory."
    if not os.access(folder, os.W_OK):
        return f"The directory {folder} is not writable: the store needs it writable for its -wal and -shm files."
    return _hint(error)


def _hint(error: sqlite3.Error) -> str:
    """What to do about a failed SQLite write, by its cause."""
    text = str(error).lower()
    if "full" in text:
        return "The disk (or the file's size limit) is full: free space, then run again (resume() finishes trades)."
    if "readonly" in text or "read-only" in text:
        return "The database file or its directory is read-only: make it writable, then run again."
    if "locked" in text or "busy" in text:
        return "Another process holds the write lock longer than the busy timeout."
    return "Check the file, its directory and the disk, then run again."
