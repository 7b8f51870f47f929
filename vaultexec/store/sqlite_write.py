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

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock, path: Path,
                 guard: WalIndexGuard | None = None) -> None:
        self._conn, self._lock, self._path, self._guard = conn, lock, path, guard

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            if self._guard is not None:
                self._guard.check()
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._lock.release()
            raise StoreUnavailableError(
                f"Cannot start a write on the SQLite store {self._path}: {exc}. Another process may "
                "hold the write lock for longer than the busy timeout.") from exc
        except BaseException:
            self._lock.release()
            raise

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


#: SQLite maps the WAL index (the `-shm` file) in regions of 32 KiB; an open store's file is never smaller.
SHM_REGION = 32768


class WalIndexGuard:
    """Refuses the store when its WAL index (`<db>-shm`) was truncated, removed or replaced under it.

    SQLite memory-maps the `-shm` file in WAL mode whatever `mmap_size` says. If another program truncates it
    while the store is open, the next access of a page cut off the file kills the process with SIGBUS. Each
    read and write transaction checks the file first (one stat); a truncated file is extended back to the
    size it had (zeros: the mapping is backed again, SQLite rebuilds the index from the WAL) so nothing can
    fault later, also not closing the store. The store then refuses every call: reopen it. A truncation in
    the instant between the check and the access is not covered.
    """

    def __init__(self, db_path: Path) -> None:
        self._shm = f"{db_path}-shm"  # a str: one stat per transaction, no Path overhead
        self._identity: tuple[int, int] | None = None
        self._size = 0
        self._refusal: str | None = None

    def remember(self) -> None:
        """Record the file's identity once the store is open (it has written, so the file exists)."""
        try:
            stat = os.stat(self._shm)
        except OSError as exc:  # not where SQLite's unix VFS puts it: nothing to guard
            logger.warning("no WAL index file %s to guard: %s", self._shm, exc)
            return
        self._identity, self._size = (stat.st_dev, stat.st_ino), stat.st_size

    def check(self) -> None:
        if self._refusal is not None:
            raise StoreUnavailableError(self._refusal)
        if self._identity is None:
            return
        try:
            stat = os.stat(self._shm)
        except FileNotFoundError:
            problem = "was removed"
        except OSError as exc:
            problem = f"cannot be checked ({exc})"
        else:
            if (stat.st_dev, stat.st_ino) != self._identity:
                problem = "was replaced by another file"
            elif stat.st_size < max(self._size, SHM_REGION):
                problem = f"was truncated from {self._size} to {stat.st_size} bytes"
                self._restore()
            else:
                self._size = stat.st_size
                return
        self._refusal = (
            f"The SQLite store's WAL index {self._shm} {problem} by another program while this process had the "
            "store open; using it further could crash this process (SIGBUS) or lose writes, so nothing more is "
            "read or written through it. Stop whatever touches the store's files, then open the store again "
            "(resume() finishes the trades).")
        raise StoreUnavailableError(self._refusal)

    def _restore(self) -> None:
        try:
            os.truncate(self._shm, self._size)
        except OSError as exc:
            logger.error("cannot extend the truncated WAL index %s back to %d bytes: %s", self._shm, self._size, exc)
