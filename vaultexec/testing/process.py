"""A local server process (anvil, redis-server) on a loopback port: start, wait until it answers, stop.

The process runs in its own process group (stopping it stops its children too), its output goes to a log
file (never a pipe, which could stall it when full). No orphans: every server still open is closed at
interpreter exit, and on Linux the kernel SIGKILLs the server when its owner dies without running
`atexit` (SIGKILL, or a SIGTERM nothing turned into an exit): PR_SET_PDEATHSIG.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import suppress
from pathlib import Path
from typing import IO, Any, Self, TypeVar

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
        _open_servers.add(self)

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

    def remove_files(self) -> None:
        """Called by `close()` after the process stopped: remove the temp files the server owns."""

    def environment(self) -> dict[str, str] | None:
        """The server process's environment (None: this process's)."""
        return None

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
        command, log, env = self.command(), self._log, self.environment()
        try:
            self.process = run_on_forking_thread(lambda: subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True, preexec_fn=_die_with_parent(),
            ))
        except OSError as exc:
            raise ToolchainError(f"Cannot run {self.name} at {self.binary!r}: {exc}. {self.install_hint}") from exc
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
        """Stop the server and remove its temp files; idempotent."""
        self.stop()
        self.remove_files()
        _open_servers.discard(self)

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


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` making Linux SIGKILL the child when the thread that forked it exits (PR_SET_PDEATHSIG).

    libc is loaded here, in the parent: between fork and exec the child only calls prctl. Elsewhere than on
    Linux there is no such call and `atexit` is the only guard (None: no preexec_fn).
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    parent = os.getpid()

    def set_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: no signal will come
            os._exit(1)

    return set_death_signal


T = TypeVar("T")


class _ForkingThread:
    """Forks servers from a thread that lives as long as the process.

    PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not the process: a server
    started from a short-lived thread (a thread pool worker) would die with that thread. The main thread
    forks itself; any other thread hands the fork to this daemon thread.
    """

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, spawn: Callable[[], T]) -> T:
        if threading.current_thread() is threading.main_thread():
            return spawn()
        done: Future[T] = Future()
        self._ensure_thread()
        self._requests.put((spawn, done))
        return done.result()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():  # not alive: e.g. in a forked child
                self._thread = threading.Thread(target=self._serve, name="vaultexec-server-forker", daemon=True)
                self._thread.start()

    def _serve(self) -> None:
        while True:
            spawn, done = self._requests.get()
            try:
                done.set_result(spawn())
            except BaseException as exc:  # handed to the waiting thread, which raises it
                done.set_exception(exc)


_forking_thread = _ForkingThread()


def run_on_forking_thread(spawn: Callable[[], T]) -> T:
    """Run `spawn` (a Popen) on a thread that outlives the server; see `_ForkingThread`."""
    return _forking_thread.run(spawn)


#: Every server created and not yet closed; closed at interpreter exit (stopped, temp files removed).
_open_servers: set[LocalServer] = set()


@atexit.register
def _close_leftovers() -> None:
    for server in list(_open_servers):
        try:
            server.close()
        except Exception:  # one stuck server must not keep the others running
            logger.exception("closing %s at exit failed", server.name)
