"""Start and stop a local anvil node: free port, readiness wait, no orphans."""

from __future__ import annotations

import json
import re
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vaultexec.testing.process import LocalServer, find_executable, find_free_port, make_temp_dir

__all__ = [
    "ANVIL_ENV_VAR", "DEV_PRIVATE_KEYS", "AnvilInstance", "AnvilOptions", "find_anvil", "find_free_port",
    "launch_anvil", "start_anvil",
]

ANVIL_ENV_VAR = "VAULTEXEC_ANVIL"
#: What anvil prints once it listens; started with `--port 0` it binds a port itself and says which.
_LISTENING = re.compile(r"Listening on 127\.0\.0\.1:(\d+)")
PLATFORM_BINARY = Path("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
INSTALL_HINT = (
    "Install it with `npm ci` in the vaultexec checkout (package.json pins @foundry-rs/anvil-linux-amd64), "
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
    return list(dict.fromkeys([*here.parents, Path.cwd(), *Path.cwd().parents]))


def find_anvil() -> str:
    """Locate anvil: $VAULTEXEC_ANVIL, the project's node_modules platform binary, then PATH."""
    return find_executable("anvil", ANVIL_ENV_VAR, INSTALL_HINT, [root / PLATFORM_BINARY for root in _project_roots()])


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

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._log_dir, ignore_errors=True)


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
