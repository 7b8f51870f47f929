"""Fixtures of the store tests: a real redis-server, both backends behind one `store` fixture, trades."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from vaultexec.store.protocol import ExecutionStore
from vaultexec.store.redis import RedisStore, connect
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.redis import RedisServer

from store_samples import OTHER_VAULT, VAULT  # isort: skip

@pytest.fixture()
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A client on an emptied database (the server may have been restarted by a fault test)."""
    redis_server.start()
    client = connect(redis_server.url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture()
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "vaultexec.db"


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture()
def store(backend: str, request: pytest.FixtureRequest) -> Iterator[ExecutionStore]:
    """The vault's store on each backend in turn: the shared suite runs twice."""
    opened = open_backend(backend, request, VAULT)
    yield opened
    opened.close()


@pytest.fixture()
def other_store(backend: str, request: pytest.FixtureRequest) -> Iterator[ExecutionStore]:
    """A second vault's store on the same backend (same file / same Redis)."""
    opened = open_backend(backend, request, OTHER_VAULT)
    yield opened
    opened.close()


@pytest.fixture()
def twin_store(backend: str, request: pytest.FixtureRequest) -> Iterator[ExecutionStore]:
    """The same vault's store over a second connection (another writer)."""
    if backend == "sqlite":
        opened: ExecutionStore = SQLiteStore(request.getfixturevalue("sqlite_path"), VAULT)
    else:
        opened = RedisStore(connect(request.getfixturevalue("redis_server").url), VAULT)
    yield opened
    opened.close()


def open_backend(backend: str, request: pytest.FixtureRequest, vault: str) -> ExecutionStore:
    if backend == "sqlite":
        return SQLiteStore(request.getfixturevalue("sqlite_path"), vault)
    client: redis.Redis = request.getfixturevalue("redis_client")
    return RedisStore(client, vault)


