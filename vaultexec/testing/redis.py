"""Start and stop a local redis-server: free loopback port, temp data dir, PING wait, no orphans.

The server keeps its port and data dir across `stop()` / `start()`, so fault tests can restart it (or
kill it with SIGKILL) and check that nothing acknowledged was lost. It runs with `appendonly yes` and,
by default, `appendfsync always`: every acknowledged write is on disk.
"""

from __future__ import annotations

import re
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vaultexec.testing.process import LocalServer, find_executable, make_temp_dir

REDIS_ENV_VAR = "VAULTEXEC_REDIS_SERVER"
INSTALL_HINT = (
    "Install it with `apt-get install redis-server` (Debian/Ubuntu), "
    f"or point {REDIS_ENV_VAR} at a redis-server binary."
)


def find_redis_server() -> str:
    """Locate redis-server: $VAULTEXEC_REDIS_SERVER, then /usr/bin, /usr/sbin, /usr/local/bin, then PATH."""
    folders = ("/usr/bin", "/usr/sbin", "/usr/local/bin")
    return find_executable("redis-server", REDIS_ENV_VAR, INSTALL_HINT, [Path(f) / "redis-server" for f in folders])


def ping(port: int, timeout: float = 1.0) -> bool:
    """True if a Redis server on 127.0.0.1:`port` answers PING with PONG (raw RESP, no client needed)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def server_pid(port: int, timeout: float = 1.0) -> int | None:
    """The process id of the Redis server answering on 127.0.0.1:`port` (INFO server), None if none answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"INFO server\r\n")
            reply = b""
            while chunk := sock.recv(4096):
                reply += chunk
                found = re.search(rb"process_id:(\d+)\r\n", reply)
                if found:
                    return int(found.group(1))
    except OSError:
        return None
    return None


class RedisServer(LocalServer):
    """A redis-server process in its own session; `stop()` is idempotent, `start()` restarts it in place,
    `close()` stops it and removes the data dir it created."""

    name = "redis-server"
    install_hint = INSTALL_HINT

    def __init__(self, binary: str, port: int | None = None, data_dir: str | Path | None = None,
                 appendfsync: str = "always", startup_timeout: float = 15.0) -> None:
        super().__init__(binary, port, startup_timeout)
        self.appendfsync = appendfsync
        self._owns_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else make_temp_dir("vaultexec-redis-")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "redis.log"

    @property
    def config_path(self) -> Path:
        return self.data_dir / "redis.conf"

    def prepare(self) -> None:
        """Write the config: loopback only, no RDB snapshots, append-only file fsynced per `appendfsync`."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text("\n".join([
            f"port {self.port}",
            "bind 127.0.0.1",
            "protected-mode yes",
            "daemonize no",
            f'dir "{self.data_dir}"',
            'logfile ""',
            'save ""',
            "appendonly yes",
            f"appendfsync {self.appendfsync}",
            "",
        ]))

    def command(self) -> list[str]:
        return [self.binary, str(self.config_path)]

    def answers(self) -> bool:
        """Answers, and is *our* process: another server that won the race for the port does not count."""
        return self.process is not None and server_pid(self.port, timeout=0.5) == self.process.pid

    def remove_files(self) -> None:
        """Remove the data dir if we created it (`close()` calls this after stopping)."""
        if self._owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def start_redis(port: int | None = None, data_dir: str | Path | None = None, binary: str | None = None,
                appendfsync: str = "always", startup_timeout: float = 15.0) -> RedisServer:
    """Start a redis-server and return it running; the caller closes it."""
    server = RedisServer(binary or find_redis_server(), port, data_dir, appendfsync, startup_timeout)
    try:
        return server.start()
    except BaseException:
        server.close()
        raise


@contextmanager
def launch_redis(port: int | None = None, data_dir: str | Path | None = None, binary: str | None = None,
                 appendfsync: str = "always", startup_timeout: float = 15.0) -> Iterator[RedisServer]:
    """Context manager around `start_redis`: the server is always stopped (and its temp dir removed)."""
    server = start_redis(port, data_dir, binary, appendfsync, startup_timeout)
    try:
        yield server
    finally:
        server.close()
