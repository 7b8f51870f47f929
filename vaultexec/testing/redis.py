"""Start and stop a local redis-server: free loopback port, temp data dir, PING wait, no orphans.

The server keeps its port and data dir across `stop()` / `start()`, so fault tests can restart it (or
kill it with SIGKILL) and check that nothing acknowledged was lost. It runs with `appendonly yes` and,
by default, `appendfsync always`: every acknowledged write is on disk.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from vaultexec.errors import ToolchainError

logger = logging.getLogger(__name__)

REDIS_ENV_VAR = "VAULTEXEC_REDIS_SERVER"
INSTALL_HINT = (
    "Install it with `apt-get install redis-server` (Debian/Ubuntu), "
    f"or point {REDIS_ENV_VAR} at a redis-server binary."
)


def find_redis_server() -> str:
    """Locate redis-server: $VAULTEXEC_REDIS_SERVER, then PATH, then /usr/bin and /usr/sbin."""
    configured = os.environ.get(REDIS_ENV_VAR)
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        raise ToolchainError(f"{REDIS_ENV_VAR}={configured!r} is not an executable file. {INSTALL_HINT}")
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    for folder in ("/usr/bin", "/usr/sbin", "/usr/local/bin"):
        candidate = Path(folder) / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise ToolchainError(f"redis-server was not found. {INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def ping(port: int, timeout: float = 1.0) -> bool:
    """True if a Redis server on 127.0.0.1:`port` answers PING with PONG (raw RESP, no client needed)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A redis-server process in its own session; `stop()` is idempotent, `start()` restarts it in place."""

    def __init__(self, binary: str, port: int | None = None, data_dir: str | Path | None = None,
                 appendfsync: str = "always", startup_timeout: float = 15.0) -> None:
        self.binary = binary
        self.requested_port = port
        self.port = port or 0
        self.appendfsync = appendfsync
        self.startup_timeout = startup_timeout
        self._owns_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else Path(
            tempfile.mkdtemp(prefix="vaultexec-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "redis.log"

    @property
    def config_path(self) -> Path:
        return self.data_dir / "redis.conf"

    def start(self) -> RedisServer:
        """Start (or restart) the server and wait for PONG; a first start retries a lost free-port race."""
        if self.is_running():
            return self
        fixed = self.requested_port is not None or self.port != 0
        attempts = 1 if fixed else 3
        for attempt in range(attempts):
            if not fixed:
                self.port = _free_port()
            elif _port_in_use(self.port):
                raise ToolchainError(
                    f"Cannot start redis-server: port {self.port} on 127.0.0.1 is already in use. "
                    "Stop the process holding it or leave the port unset to pick a free one."
                )
            try:
                self._spawn_and_wait()
                return self
            except ToolchainError:
                self.stop()
                if attempt == attempts - 1 or "in use" not in self.read_log().lower():
                    raise
                logger.info("redis-server lost the race for port %d, retrying", self.port)
        raise AssertionError("unreachable")

    def _write_config(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text("\n".join([
            f"port {self.port}",
            "bind 127.0.0.1",
            "protected-mode yes",
            "daemonize no",
            f'dir "{self.data_dir}"',
            f'logfile "{self.log_path}"',
            'save ""',
            "appendonly yes",
            f"appendfsync {self.appendfsync}",
            "",
        ]))

    def _spawn_and_wait(self) -> None:
        self._write_config()
        self.log_path.write_text("")
        try:
            self.process = subprocess.Popen(
                [self.binary, str(self.config_path)], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
            )
        except OSError as exc:
            raise ToolchainError(
                f"Cannot run redis-server at {self.binary!r}: {exc}. {INSTALL_HINT}") from exc
        _live_servers.add(self)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ToolchainError(
                    f"redis-server exited with code {self.process.returncode} before answering on port "
                    f"{self.port}. Its log:\n{self.read_log()}"
                )
            if ping(self.port, timeout=0.5):
                logger.info("redis-server ready at %s (pid %d)", self.url, self.process.pid)
                return
            time.sleep(0.02)
        raise ToolchainError(
            f"redis-server did not answer PING on port {self.port} within {self.startup_timeout:.0f}s. "
            f"Its log:\n{self.read_log()}"
        )

    def read_log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0, kill: bool = False) -> None:
        """Stop the server: SIGTERM (clean shutdown, AOF flushed) or, with `kill`, SIGKILL (a crash)."""
        process, self.process = self.process, None
        _live_servers.discard(self)
        if process is None or process.poll() is not None:
            return
        _signal_group(process, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=timeout)

    def restart(self, kill: bool = False) -> RedisServer:
        """Stop (or crash, with `kill`) and start again on the same port and data dir."""
        self.stop(kill=kill)
        return self.start()

    def close(self) -> None:
        """Stop and, if we created it, remove the data dir."""
        self.stop()
        if self._owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


_live_servers: set[RedisServer] = set()


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_live_servers):
        server.stop(timeout=3.0)


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
