"""The redis-server launcher: answers PING, restarts in place, crashes keep AOF data, no orphans."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from vaultexec.errors import ToolchainError
from vaultexec.testing.process import is_process_alive
from vaultexec.testing.redis import REDIS_ENV_VAR, find_redis_server, launch_redis, ping, start_redis


def test_launch_answers_and_stops_without_orphan() -> None:
    with launch_redis() as server:
        assert ping(server.port)
        pid = server.process.pid if server.process else 0
        data_dir = server.data_dir
        assert is_process_alive(pid)
    assert not is_process_alive(pid)
    assert not ping(server.port)
    assert not data_dir.exists()


def test_restart_keeps_port_and_data_even_after_sigkill() -> None:
    with launch_redis() as server:
        port = server.port
        client = redis.Redis.from_url(server.url)
        client.set("k", "v")
        server.restart(kill=True)
        assert server.port == port
        assert redis.Redis.from_url(server.url).get("k") == b"v"


def test_config_is_durable() -> None:
    with launch_redis() as server:
        config = redis.Redis.from_url(server.url).config_get("append*")
        assert config["appendonly"] == "yes"
        assert config["appendfsync"] == "always"


def test_port_clash_gives_clear_error() -> None:
    with launch_redis() as first, pytest.raises(ToolchainError, match=rf"port {first.port} .* in use"):
        start_redis(port=first.port)


def test_missing_binary_names_apt_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(REDIS_ENV_VAR, str(tmp_path / "no-such-redis-server"))
    with pytest.raises(ToolchainError, match="apt-get install redis-server"):
        find_redis_server()


def test_server_that_exits_gives_error_with_its_log(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match="exited with code"):
        start_redis(binary="/bin/false", data_dir=tmp_path)
