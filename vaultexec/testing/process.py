"""A local server process (anvil, redis-server) on a loopback port: start, wait until it answers, stop.

The process runs in its own process group, its output goes to a log file (never a pipe, which could
stall it when full), and every live server is stopped at interpreter exit: no orphans.
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
from contextlib import suppress
from pathlib import Path
from typing import IO, Self

from vaultexec.errors import ToolchainError

logger = logging.getLogger(__name__)


def find_executable(name: str, env_var: str, install_hint: str, candidates: list[Path]) -> str:
    """Locate `name`: $env_var, then the first executable of `candidates`, then PATH."""
    configured = os.environ.get(env_var)
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        raise ToolchainError(f"{env_var}={configured!r} is not an executable file. {install_hint}")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise ToolchainError(f"{name} was not found. {install_hint}")


def find_free_port() -> int:
    """Ask the kernel for a currently free loopback port (a server that loses the race is retried)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class LocalServer:
    """Base of a loopback server process; subclasses give the command line and the readiness probe."""

    #: Name used in messages, e.g. "anvil".
    name = "server"
    install_hint = ""
    #: True when the server can bind port 0 itself and tell which port it got (`port_from_output`): no
    #: race with other processes picking "free" ports at the same time.
    binds_own_port = False

    def __init__(self, binary: str, port: int | None, startup_timeout: float) -> None:
        self.binary = binary
        self.requested_port = port
        self.port = port or 0
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    # -- for subclasses
    def command(self) -> list[str]:
        raise NotImplementedError

    def answers(self) -> bool:
        raise NotImplementedError

    def prepare(self) -> None:
        """Called before each spawn, with `self.port` chosen (write a config file...)."""

    def port_from_output(self, output: str) -> int | None:
        """The port the server says it bound (for `binds_own_port` servers); None until it says so."""
        raise NotImplementedError

    @property
    def log_path(self) -> Path:
        raise NotImplementedError

    # -- lifecycle
    def start(self) -> Self:
        """Start and wait until it answers; a first start on a free port retries a lost port race."""
        if self.is_running():
            return self
        fixed = self.requested_port is not None or self.port != 0
        attempts = 1 if fixed or self.binds_own_port else 3
        for attempt in range(attempts):
            if not fixed:
                self.port = 0 if self.binds_own_port else find_free_port()
            elif port_in_use(self.port):
                raise ToolchainError(
                    f"Cannot start {self.name}: port {self.port} on 127.0.0.1 is already in use. "
                    "Stop the process holding it or leave the port unset to pick a free one."
                )
            try:
                self._spawn_and_wait()
                return self
            except ToolchainError:
                self.stop()
                if attempt == attempts - 1 or "in use" not in self.read_log().lower():
                    raise
                logger.info("%s lost the race for port %d, retrying", self.name, self.port)
        raise AssertionError("unreachable")

    def _spawn_and_wait(self) -> None:
        self.prepare()
        self._close_log()
        self._log = self.log_path.open("wb")
        try:
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise ToolchainError(f"Cannot run {self.name} at {self.binary!r}: {exc}. {self.install_hint}") from exc
        _live_servers.add(self)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ToolchainError(
                    f"{self.name} exited with code {self.process.returncode} before answering on port "
                    f"{self.port}. Its output:\n{self.read_log()}"
                )
            if self.port == 0:
                self.port = self.port_from_output(self.read_log()) or 0
                if self.port == 0:
                    time.sleep(0.02)
                    continue
            if self.answers():
                logger.info("%s ready on port %d (pid %d)", self.name, self.port, self.process.pid)
                return
            time.sleep(0.02)
        raise ToolchainError(
            f"{self.name} did not answer on port {self.port} within {self.startup_timeout:.0f}s. "
            f"Its output:\n{self.read_log()}"
        )

    def read_log(self) -> str:
        """The last 4000 characters of the server's output."""
        if self._log is not None:
            self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0, kill: bool = False) -> None:
        """Stop the whole process group: SIGTERM (a clean shutdown) or, with `kill`, SIGKILL (a crash)."""
        process, self.process = self.process, None
        _live_servers.discard(self)
        if process is not None and process.poll() is None:
            _signal_group(process, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=timeout)
        self._close_log()

    def restart(self, kill: bool = False) -> Self:
        """Stop (or crash, with `kill`) and start again on the same port."""
        self.stop(kill=kill)
        return self.start()

    def close(self) -> None:
        self.stop()

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_process_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def make_temp_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


_live_servers: set[LocalServer] = set()


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_live_servers):
        server.stop(timeout=3.0)
