"""A Redis store opens only on a server that keeps acknowledged writes on disk, unless told otherwise."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import redis
from store_samples import VAULT, make_trade

from vaultexec.errors import BadInputError, ConfigurationError, StoreUnavailableError
from vaultexec.store import open_store
from vaultexec.store.redis import RedisStore, connect, split_durability
from vaultexec.testing.process import find_free_port
from vaultexec.testing.redis import RedisServer, launch_redis


@pytest.fixture()
def everysec_redis() -> Iterator[RedisServer]:
    """AOF fsynced once a second: the last second of acknowledged writes can be lost."""
    with launch_redis(appendfsync="everysec") as server:
        yield server


@pytest.fixture()
def no_aof_redis() -> Iterator[RedisServer]:
    """AOF switched off on the running server (the launcher always starts with it on)."""
    with launch_redis() as server:
        client = redis.Redis.from_url(server.url)
        client.config_set("appendonly", "no")
        client.close()
        yield server


@pytest.mark.parametrize("server_fixture", ["everysec_redis", "no_aof_redis"])
def test_store_refuses_a_server_that_may_lose_writes(request: pytest.FixtureRequest, server_fixture: str) -> None:
    server: RedisServer = request.getfixturevalue(server_fixture)
    found = "appendonly yes, appendfsync everysec" if server_fixture == "everysec_redis" else "appendonly no"
    with pytest.raises(ConfigurationError, match=rf"runs with {found}.*appendfsync always.*durability=relaxed"):
        open_store(server.url, VAULT)
    with pytest.raises(ConfigurationError, match=found):
        RedisStore(connect(server.url), VAULT)


def test_relaxed_durability_opens_with_a_warning(no_aof_redis: RedisServer,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="vaultexec.store.redis"):
        store = open_store(f"{no_aof_redis.url}?durability=relaxed", VAULT)
    assert "can be lost in a crash" in caplog.text
    trade = make_trade()
    store.create(trade)
    assert store.load(trade.trade_id) == trade
    store.close()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vaultexec.store.redis"):
        RedisStore(connect(no_aof_redis.url), VAULT, durability="relaxed").close()  # the constructor flag
    assert "appendonly no" in caplog.text


def test_durable_server_opens_silently(redis_server: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    redis_server.start()
    with caplog.at_level(logging.WARNING, logger="vaultexec.store.redis"):
        open_store(redis_server.url, VAULT).close()
    assert caplog.text == ""


def test_server_refusing_config_is_used_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """Managed Redis often forbids CONFIG: the store cannot check, says so, and works."""
    with launch_redis(appendfsync="everysec") as server:
        admin = redis.Redis.from_url(server.url)
        admin.acl_setuser("executor", enabled=True, passwords=["+secret"], keys=["*"],
                          commands=["+@all", "-config"])
        url = f"redis://executor:secret@127.0.0.1:{server.port}/0"
        with caplog.at_level(logging.WARNING, logger="vaultexec.store.redis"):
            store = open_store(url, VAULT)
        assert "refuses CONFIG GET" in caplog.text
        store.create(make_trade())
        assert store.count() == 1
        store.close()
        admin.close()


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0?durability=maybe", "redis://h:1/0?durability="])
def test_unknown_durability_is_bad_input(url: str) -> None:
    with pytest.raises(BadInputError, match="durability"):
        open_store(url, VAULT)


def test_durability_option_is_taken_out_of_the_url() -> None:
    assert split_durability("redis://h:1/2") == ("redis://h:1/2", "strict")
    assert split_durability("redis://h:1/2?durability=relaxed") == ("redis://h:1/2", "relaxed")
    assert split_durability("redis://u:p@h:1/2?socket_timeout=3&durability=relaxed&health_check_interval=5") == (
        "redis://u:p@h:1/2?socket_timeout=3&health_check_interval=5", "relaxed")


def test_unreachable_server_at_open_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailableError, match="unreachable while trying to read the server's persistence"):
        open_store(f"redis://127.0.0.1:{find_free_port()}/0", VAULT)


def test_malformed_url_is_bad_input() -> None:
    with pytest.raises(BadInputError, match="is not valid"):
        open_store("redis://127.0.0.1:notaport/0", VAULT)
