"""Start and stop a local anvil node: free port, readiness wait, no orphans."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vaultexec.errors import BadInputError
from vaultexec.testing.process import LocalServer, find_executable, find_free_port, make_temp_dir
from vaultexec.testing.toolchain import installed_node_modules

__all__ = [
    "ANVIL_ENV_VAR", "DEV_PRIVATE_KEYS", "AnvilInstance", "AnvilOptions", "find_anvil", "find_free_port",
    "launch_anvil", "start_anvil",
]

ANVIL_ENV_VAR = "VAULTEXEC_ANVIL"
#: What anvil prints once it listens; started with `--port 0` it binds a port itself and says which.
_LISTENING = re.compile(r"Listening on 127\.0\.0\.1:(\d+)")
PLATFORM_BINARY = Path("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
INSTALL_HINT = (
    "Run `vaultexec toolchain` once (it installs anvil, Foundry 1.7.1, into a per-user cache the fixtures "
    f"find), or point {ANVIL_ENV_VAR} at an anvil binary (see `vaultexec docs testing`)."
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
    return list(dict.fromkeys([*here.parents, Path.cwd(), *Path.cwd().parents]))


def find_anvil() -> str:
    """Locate anvil: $VAULTEXEC_ANVIL, the project's node_modules platform binary, the one `vaultexec
    toolchain` installed, then PATH."""
    candidates = [root / PLATFORM_BINARY for root in _project_roots()]
    installed = installed_node_modules()
    if installed is not None:
        candidates.append(installed.parent / PLATFORM_BINARY)
    return find_executable("anvil", ANVIL_ENV_VAR, INSTALL_HINT, candidates)


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

    def __post_init__(self) -> None:
        if self.fork_block_number is not None and self.fork_url is None:
            raise BadInputError(
                f"fork_block_number={self.fork_block_number} needs fork_url: anvil can only start at a block "
                "of a chain it forks. Pass fork_url too, or leave fork_block_number unset.")
        if self.fork_block_number is not None and self.fork_block_number < 0:
            raise BadInputError(f"fork_block_number={self.fork_block_number} is negative; give a block number >= 0")

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


class AnvilInstance(LocalServer):
    """A running anvil process in its own process group; `stop()` is idempotent."""

    name = "anvil"
    install_hint = INSTALL_HINT
    binds_own_port = True

    def __init__(self, binary: str, options: AnvilOptions, port: int | None = None,
                 startup_timeout: float = 20.0) -> None:
        super().__init__(binary, port, startup_timeout)
        self.options = options
        self._log_dir = make_temp_dir("vaultexec-anvil-")
        self._connections = _KeepAliveConnections()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self._log_dir / "anvil.log"

    def port_from_output(self, output: str) -> int | None:
        found = _LISTENING.search(output)
        return int(found.group(1)) if found else None

    def command(self) -> list[str]:
        return [self.binary, *self.options.to_args(self.port)]

    def answers(self) -> bool:
        try:
            self.rpc("eth_chainId", [], timeout=1.0)
            return True
        except (OSError, http.client.HTTPException, ValueError):
            return False

    def rpc(self, method: str, params: list[Any] | None = None, timeout: float = 30.0) -> Any:
        """One plain JSON-RPC call (for control methods like evm_snapshot); raises ValueError on error."""
        reply = self._post({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}, timeout)
        return _result(method, reply)

    def rpc_batch(self, calls: Sequence[tuple[str, list[Any]]], timeout: float = 30.0) -> list[Any]:
        """Several JSON-RPC calls in one HTTP request, results in call order; ValueError if any failed.

        Anvil may interleave a batch's calls (it polls them concurrently): batch only calls that do not
        depend on each other's effect.
        """
        replies = self._post([{"jsonrpc": "2.0", "id": index, "method": method, "params": params}
                              for index, (method, params) in enumerate(calls)], timeout)
        if not isinstance(replies, list):  # a batch the node refused as a whole
            raise ValueError(f"batch {[method for method, _ in calls]} failed: {replies.get('error', replies)}")
        by_id = {reply.get("id"): reply for reply in replies}
        return [_result(method, by_id.get(index, {"error": "no reply"})) for index, (method, _) in enumerate(calls)]

    def _post(self, payload: object, timeout: float) -> Any:
        return json.loads(self._connections.post(self.port, json.dumps(payload).encode(), timeout))

    def stop(self, timeout: float = 10.0, kill: bool = False) -> None:
        super().stop(timeout, kill)
        self._connections.close_all()

    def environment(self) -> dict[str, str]:
        """HOME is the instance's own temp dir: anvil keeps the states it pages out of memory under
        `~/.foundry/anvil/tmp` and never removes them (gigabytes after a long run); there they go with
        the instance's other files."""
        return {**os.environ, "HOME": str(self._log_dir)}

    def remove_files(self) -> None:
        shutil.rmtree(self._log_dir, ignore_errors=True)


class _KeepAliveConnections:
    """One keep-alive HTTP connection per thread to the node: a control call costs no TCP handshake."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def post(self, port: int, body: bytes, timeout: float) -> bytes:
        """POST `body` and return the response body; ValueError for a non-200 answer."""
        for attempt in range(2):
            connection, reused = self._connection(port)
            try:
                connection.timeout = timeout
                if connection.sock is not None:
                    connection.sock.settimeout(timeout)
                connection.request("POST", "/", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                data = response.read()
            except (ConnectionError, http.client.HTTPException):
                self._drop(connection)
                if reused and attempt == 0:  # the node closed the idle connection (or restarted): reconnect once
                    continue
                raise
            except BaseException:
                self._drop(connection)
                raise
            if response.status != 200:
                raise ValueError(f"HTTP {response.status} {response.reason} from anvil: {data[:300]!r}")
            return data
        raise AssertionError("unreachable")

    def _connection(self, port: int) -> tuple[http.client.HTTPConnection, bool]:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        # A forked child must not share the parent's socket: it opens its own.
        if connection is not None and connection.port == port and self._local.pid == os.getpid():
            return connection, True
        if connection is not None:
            self._drop(connection)
        connection = http.client.HTTPConnection("127.0.0.1", port)
        self._local.connection, self._local.pid = connection, os.getpid()
        with self._lock:
            self._all.append(connection)
        return connection, False

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        if getattr(self._local, "connection", None) is connection:
            self._local.connection = None
        with self._lock, suppress(ValueError):
            self._all.remove(connection)

    def close_all(self) -> None:
        """Close every thread's connection (each thread reconnects on its next call)."""
        with self._lock:
            connections = list(self._all)
        for connection in connections:
            connection.close()  # http.client opens a new socket on the next request


def _result(method: str, reply: dict[str, Any]) -> Any:
    if "error" in reply:
        raise ValueError(f"{method} failed: {reply['error']}")
    return reply["result"]


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
