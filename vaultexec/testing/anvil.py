"""Start and stop a local anvil node: free port, readiness wait, no orphans."""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vaultexec.errors import ToolchainError

logger = logging.getLogger(__name__)

ANVIL_ENV_VAR = "VAULTEXEC_ANVIL"
PLATFORM_BINARY = Path("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
INSTALL_HINT = (
    "Install it with `npm ci` in the vaultexec checkout (package.json pins @foundry-rs/anvil), "
    f"or point {ANVIL_ENV_VAR} at an anvil binary."
)

#: Anvil's default dev-account keys (mnemonic "test test ... junk"); safe only on local chains.
DEV_PRIVATE_KEYS: tuple[str, ...] = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
)


def _project_roots() -> list[Path]:
    """Folders that may hold the project's node_modules: the source checkout, then cwd and its parents."""
    here = Path(__file__).resolve()
    candidates = [*here.parents, Path.cwd(), *Path.cwd().parents]
    return list(dict.fromkeys(candidates))


def find_anvil() -> str:
    """Locate anvil: $VAULTEXEC_ANVIL, the project's node_modules platform binary, then PATH."""
    configured = os.environ.get(ANVIL_ENV_VAR)
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        raise ToolchainError(f"{ANVIL_ENV_VAR}={configured!r} is not an executable file. {INSTALL_HINT}")
    for root in _project_roots():
        candidate = root / PLATFORM_BINARY
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    on_path = shutil.which("anvil")
    if on_path:
        return on_path
    raise ToolchainError(f"anvil was not found. {INSTALL_HINT}")


def find_free_port() -> int:
    """Ask the kernel for a currently free loopback port (anvil is retried if it loses the race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class AnvilOptions:
    """Command-line options of one anvil run. `None` leaves anvil's default."""

    chain_id: int | None = 31337
    block_time: float | None = None
    automine: bool = True
    base_fee: int | None = None
    gas_limit: int | None = None
    code_size_limit: int | None = None
    fork_url: str | None = None
    fork_block_number: int | None = None
    load_state: str | None = None
    accounts: int = 10
    balance_eth: int = 10_000
    hardfork: str | None = None
    extra_args: list[str] = field(default_factory=list)

    def to_args(self, port: int) -> list[str]:
        args = ["--port", str(port), "--host", "127.0.0.1", "--accounts", str(self.accounts),
                "--balance", str(self.balance_eth)]
        if self.chain_id is not None:
            args += ["--chain-id", str(self.chain_id)]
        if self.block_time is not None:
            args += ["--block-time", str(self.block_time)]
        if not self.automine:
            args += ["--no-mining"]
        if self.base_fee is not None:
            args += ["--block-base-fee-per-gas", str(self.base_fee)]
        if self.gas_limit is not None:
            args += ["--gas-limit", str(self.gas_limit)]
        if self.code_size_limit is not None:
            args += ["--code-size-limit", str(self.code_size_limit)]
        if self.fork_url is not None:
            args += ["--fork-url", self.fork_url]
            if self.fork_block_number is not None:
                args += ["--fork-block-number", str(self.fork_block_number)]
        if self.load_state is not None:
            args += ["--load-state", self.load_state]
        if self.hardfork is not None:
            args += ["--hardfork", self.hardfork]
        return args + self.extra_args


class AnvilInstance:
    """A running anvil process in its own process group; `stop()` is idempotent."""

    def __init__(self, binary: str, options: AnvilOptions, port: int | None = None,
                 startup_timeout: float = 20.0) -> None:
        self.binary = binary
        self.options = options
        self.requested_port = port
        self.startup_timeout = startup_timeout
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        # Output goes to a file, never a pipe: a full pipe would stall anvil.
        self._log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in close()
            prefix="vaultexec-anvil-", suffix=".log", delete=False)
        self.log_path = Path(self._log_file.name)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AnvilInstance:
        """Start anvil and wait until it answers; retry on a lost free-port race."""
        attempts = 1 if self.requested_port is not None else 3
        for attempt in range(attempts):
            if self.requested_port is not None:
                if _port_in_use(self.requested_port):
                    raise ToolchainError(
                        f"Cannot start anvil: port {self.requested_port} on 127.0.0.1 is already in use. "
                        "Stop the process holding it or leave the port unset to pick a free one."
                    )
                self.port = self.requested_port
            else:
                self.port = find_free_port()
            try:
                self._spawn_and_wait()
                return self
            except ToolchainError:
                self.stop()
                if attempt == attempts - 1 or "in use" not in self.read_log().lower():
                    raise
                logger.info("anvil lost the race for port %d, retrying", self.port)
        raise AssertionError("unreachable")

    def _spawn_and_wait(self) -> None:
        cmd = [self.binary, *self.options.to_args(self.port)]
        logger.debug("starting %s", " ".join(cmd))
        self._log_file.seek(0)
        self._log_file.truncate()
        try:
            self.process = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=self._log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise ToolchainError(f"Cannot run anvil at {self.binary!r}: {exc}. {INSTALL_HINT}") from exc
        _live_instances.add(self)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ToolchainError(
                    f"anvil exited with code {self.process.returncode} before answering on port "
                    f"{self.port}. Its output:\n{self.read_log()}"
                )
            if self._answers():
                logger.info("anvil ready at %s (pid %d)", self.url, self.process.pid)
                return
            time.sleep(0.05)
        raise ToolchainError(
            f"anvil did not answer on {self.url} within {self.startup_timeout:.0f}s. Its output:\n"
            f"{self.read_log()}"
        )

    def _answers(self) -> bool:
        try:
            self.rpc("eth_chainId", [], timeout=1.0)
            return True
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def rpc(self, method: str, params: list[Any] | None = None, timeout: float = 30.0) -> Any:
        """One plain JSON-RPC call (for control methods like evm_snapshot); raises ValueError on error."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            reply = json.loads(response.read())
        if "error" in reply:
            raise ValueError(f"{method} failed: {reply['error']}")
        return reply["result"]

    def read_log(self) -> str:
        self._log_file.flush()
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the whole process group: SIGTERM (lets anvil dump state), then SIGKILL."""
        process, self.process = self.process, None
        _live_instances.discard(self)
        if process is None or process.poll() is not None:
            return
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=timeout)

    def close(self) -> None:
        self.stop()
        self._log_file.close()
        self.log_path.unlink(missing_ok=True)

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> AnvilInstance:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


_live_instances: set[AnvilInstance] = set()


@atexit.register
def _stop_leftovers() -> None:
    for instance in list(_live_instances):
        instance.stop(timeout=3.0)


def start_anvil(port: int | None = None, binary: str | None = None, startup_timeout: float = 20.0,
                **options: Any) -> AnvilInstance:
    """Start anvil (see `AnvilOptions` for options) and return the running instance; caller stops it."""
    instance = AnvilInstance(binary or find_anvil(), AnvilOptions(**options), port, startup_timeout)
    try:
        return instance.start()
    except BaseException:
        instance.close()
        raise


@contextmanager
def launch_anvil(port: int | None = None, binary: str | None = None, startup_timeout: float = 20.0,
                 **options: Any) -> Iterator[AnvilInstance]:
    """Context manager around `start_anvil`: the process group is always stopped on exit."""
    instance = start_anvil(port, binary, startup_timeout, **options)
    try:
        yield instance
    finally:
        instance.close()
