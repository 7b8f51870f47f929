"""`open_store(url, vault)`: pick the backend from a URL.

- `sqlite:///relative/file.db`, `sqlite:////absolute/file.db`, or `sqlite://` for `vaultexec.db` in cwd
- `redis://host:port/db` (also `rediss://` and `unix://`), passed to redis-py as is
"""

from __future__ import annotations

from pathlib import Path

from vaultexec.errors import BadInputError
from vaultexec.store.protocol import ExecutionStore
from vaultexec.store.redis import RedisStore
from vaultexec.store.sqlite import SQLiteStore

DEFAULT_SQLITE_FILE = "vaultexec.db"


def sqlite_path(url: str) -> Path:
    """The file a `sqlite://` URL names (SQLAlchemy style: three slashes relative, four absolute)."""
    rest = url.removeprefix("sqlite://")
    if rest in ("", "/"):
        return Path(DEFAULT_SQLITE_FILE)
    if not rest.startswith("/"):
        raise BadInputError(f"Store URL {url!r}: write sqlite:///relative/path.db or sqlite:////abs/path.db")
    return Path(rest[1:])


def open_store(url: str, vault: str) -> ExecutionStore:
    """Open the store at `url` for one vault's trades (see module doc for the URL forms)."""
    if url.startswith("sqlite:"):
        return SQLiteStore(sqlite_path(url), vault)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore.from_url(url, vault)
    raise BadInputError(f"Store URL {url!r} is not sqlite:///file.db or redis://host:port/db.")
