"""open_store: URL to backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_samples import VAULT, make_trade

from vaultexec.errors import BadInputError
from vaultexec.store import open_store
from vaultexec.store.factory import sqlite_path
from vaultexec.store.redis import RedisStore
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.redis import RedisServer


def test_sqlite_urls() -> None:
    assert sqlite_path("sqlite://") == Path("vaultexec.db")
    assert sqlite_path("sqlite:///") == Path("vaultexec.db")
    assert sqlite_path("sqlite:///data/x.db") == Path("data/x.db")
    assert sqlite_path("sqlite:////tmp/x.db") == Path("/tmp/x.db")
    with pytest.raises(BadInputError, match="sqlite:///relative"):
        sqlite_path("sqlite:x.db")


def test_open_sqlite_default_file_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite://", VAULT)
    assert isinstance(store, SQLiteStore)
    store.create(make_trade())
    store.close()
    assert (tmp_path / "vaultexec.db").exists()
    reopened = open_store(f"sqlite:///{tmp_path / 'vaultexec.db'}", VAULT)  # absolute via four slashes
    assert reopened.count() == 1
    reopened.close()


def test_open_redis(redis_server: RedisServer) -> None:
    redis_server.start()
    store = open_store(redis_server.url, VAULT)
    assert isinstance(store, RedisStore)
    assert store.vault == VAULT
    store.close()


def test_unknown_scheme_and_bad_vault() -> None:
    with pytest.raises(BadInputError, match="not sqlite"):
        open_store("postgres://x", VAULT)
    with pytest.raises(BadInputError, match="Vault address"):
        open_store("sqlite://", "not-an-address")


def test_a_bad_redis_url_is_reported_without_its_password() -> None:
    with pytest.raises(BadInputError) as caught:
        open_store("redis://:hunter2secret@localhost:notaport/0", VAULT)
    assert "hunter2secret" not in str(caught.value)
    assert ":***@" in str(caught.value)
