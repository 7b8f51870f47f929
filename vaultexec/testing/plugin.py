"""pytest plugin (entry point `pytest11`): anvil, web3, world, vault, safe, safe_vault, deployer, asset_manager,
redis_server, and a ready executor: vault_executor (made of executor_parts, execution_store, world_markets).

The world is deployed once per session on a *base* anvil; tests talk to a second anvil that forks the base
chain (`--fork-url`), as users run against a mainnet fork. Each test runs between `evm_snapshot` and
`evm_revert`, so nothing one test does is seen by the next. With $VAULTEXEC_FORK_RPC_URL set the same
fixtures fork that real chain instead, and `world` is the chain's own Uniswap deployment. A SIGTERM to
the test run becomes a KeyboardInterrupt, so fixture teardown stops the servers. See docs/testing.md.
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import ConfigurationError
from vaultexec.execution.assembly import ExecutorParts, connect_parts
from vaultexec.execution.executor import VaultExecutionModel
from vaultexec.execution.markets import MarketResolver
from vaultexec.store import ExecutionStore, open_store
from vaultexec.store.lease import LOCK_DIR_ENV
from vaultexec.testing.anvil import AnvilInstance, launch_anvil
from vaultexec.testing.executors import world_pairs, world_resolver
from vaultexec.testing.realchain import prepare_real_world
from vaultexec.testing.redis import RedisServer, launch_redis
from vaultexec.testing.safes import WorldSafe, make_test_safe
from vaultexec.testing.vaults import SafeCustodyVault, deploy_world_safe_vault, deploy_world_vault
from vaultexec.testing.world import CODE_SIZE_LIMIT, World, WorldAddresses, attach_world, make_web3
from vaultexec.testing.worldcache import launch_world

__all__ = ["ASSET_MANAGER_KEY", "CODE_SIZE_LIMIT", "REAL_FORK_ENV_VAR", "RealFork", "make_web3", "real_fork_from_env"]

logger = logging.getLogger(__name__)

#: A real chain's RPC URL: when set, `anvil`, `web3` and `world` fork that chain (see module doc).
REAL_FORK_ENV_VAR = "VAULTEXEC_FORK_RPC_URL"
#: The block to fork at (decimal or 0x-hex); the latest block when unset.
REAL_FORK_BLOCK_ENV_VAR = "VAULTEXEC_FORK_BLOCK"
#: "fork" (default): tests use an anvil forking the world's base anvil; "base": they use the base anvil itself.
WORLD_MODE_ENV_VAR = "VAULTEXEC_WORLD_MODE"

ASSET_MANAGER_KEY = "0x" + Web3.keccak(text="vaultexec test asset manager").hex().removeprefix("0x")
ASSET_MANAGER_ETH = 100 * 10**18
REAL_FORK_STARTUP_TIMEOUT = 120.0
MARKERS = (
    "real_fork: needs a real chain to fork (VAULTEXEC_FORK_RPC_URL); skipped without it",
    "local_world: needs our local world (test tokens we mint, our pools and prices); skipped when "
    "VAULTEXEC_FORK_RPC_URL makes the fixtures fork a real chain",
)
_PREVIOUS_SIGTERM = pytest.StashKey[Any]()


@dataclass(frozen=True)
class RealFork:
    """The real chain the fixtures fork, from the environment."""

    url: str
    block: int | None


def parse_fork_block(text: str | None) -> int | None:
    """$VAULTEXEC_FORK_BLOCK as a block number (decimal or 0x-hex); None when unset or empty."""
    if text is None or not text.strip():
        return None
    try:
        block = int(text.strip(), 0)
    except ValueError:
        raise ConfigurationError(
            f"{REAL_FORK_BLOCK_ENV_VAR}={text!r} is not a block number. Give a decimal or 0x-hex integer "
            f"(e.g. 19000000 or 0x121eac0), or unset it to fork the latest block.") from None
    if block < 0:
        raise ConfigurationError(f"{REAL_FORK_BLOCK_ENV_VAR}={text!r} is negative; give a block number >= 0.")
    return block


def real_fork_from_env() -> RealFork | None:
    """The real chain to fork ($VAULTEXEC_FORK_RPC_URL, $VAULTEXEC_FORK_BLOCK), None when the URL is unset."""
    url = os.environ.get(REAL_FORK_ENV_VAR, "").strip()
    if not url:
        return None
    return RealFork(url, parse_fork_block(os.environ.get(REAL_FORK_BLOCK_ENV_VAR)))


# -- hooks
def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    try:
        real_fork_from_env()
    except ConfigurationError as exc:
        raise pytest.UsageError(str(exc)) from None
    _turn_sigterm_into_interrupt(config)
    # Leases of the SQLite store are machine-wide files; a test session gets its own directory, and each
    # pytest-xdist worker (its own anvil, with the same chain id, vault address and dev wallet as the others)
    # a directory of its own below it, so concurrent sessions and workers never meet. The processes a test
    # starts inherit their worker's directory.
    lock_dir = os.environ.get(LOCK_DIR_ENV) or tempfile.mkdtemp(prefix="vaultexec-test-locks-")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        lock_dir = os.path.join(lock_dir, worker)
        os.makedirs(lock_dir, exist_ok=True)
    os.environ[LOCK_DIR_ENV] = lock_dir


def pytest_unconfigure(config: pytest.Config) -> None:
    previous = config.stash.get(_PREVIOUS_SIGTERM, None)
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    fork = real_fork_from_env()
    if fork is not None and item.get_closest_marker("local_world") is not None:
        pytest.skip(f"needs the local world; {REAL_FORK_ENV_VAR} makes the fixtures fork a real chain instead")


def _turn_sigterm_into_interrupt(config: pytest.Config) -> None:
    """A SIGTERM ends the run like Ctrl-C: teardown runs and stops anvil/redis (only replaces the default)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return
    config.stash[_PREVIOUS_SIGTERM] = signal.signal(signal.SIGTERM, _interrupt_on_sigterm)


def _interrupt_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # A second SIGTERM kills at once; the servers then die by PR_SET_PDEATHSIG.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt("SIGTERM: stopping the test run, tearing fixtures down")


@pytest.fixture(scope="session")
def world_base(request: pytest.FixtureRequest) -> Iterator[tuple[AnvilInstance, WorldAddresses]]:
    """The anvil holding the world, and the world's addresses: our world deployed once on a base anvil, or,
    in real-fork mode, the real-chain fork and that chain's deployment (`testing.realchain`)."""
    if real_fork_from_env() is not None:
        node: AnvilInstance = request.getfixturevalue("real_fork_anvil")
        yield node, prepare_real_world(make_web3(node.url)).addresses
        return
    with launch_world() as (base, addresses):
        yield base, addresses


@pytest.fixture(scope="session")
def anvil(request: pytest.FixtureRequest) -> Iterator[AnvilInstance]:
    """The anvil the tests talk to: a fork of the world's base chain (or the base itself, see module doc);
    in real-fork mode the fork of the real chain."""
    if real_fork_from_env() is not None:
        yield request.getfixturevalue("real_fork_anvil")
        return
    base, _ = request.getfixturevalue("world_base")
    if os.environ.get(WORLD_MODE_ENV_VAR, "fork") == "base":
        yield base
        return
    with launch_anvil(code_size_limit=CODE_SIZE_LIMIT, fork_url=base.url, chain_id=None) as fork:
        yield fork


@pytest.fixture(scope="session")
def session_web3(anvil: AnvilInstance) -> Web3:
    return make_web3(anvil.url)


@pytest.fixture(scope="session")
def session_world(session_web3: Web3, world_base: tuple[AnvilInstance, WorldAddresses]) -> World:
    """The world bound once per session to `session_web3` (its contract objects are built once)."""
    return attach_world(session_web3, world_base[1])


@pytest.fixture()
def isolated_chain(anvil: AnvilInstance) -> Iterator[None]:
    """Snapshot the chain before the test and roll it back after, whatever the test's outcome.

    `evm_revert` keeps node settings a test may change (a forced next-block base fee, automine), so those
    are restored too. Two HTTP requests per test: the calls of each batch do not depend on each other.
    """
    pending, automine, snapshot_id = anvil.rpc_batch(
        [("eth_getBlockByNumber", ["pending", False]), ("anvil_getAutomine", []), ("evm_snapshot", [])])
    try:
        yield
    finally:
        _, reverted, _ = anvil.rpc_batch([
            ("evm_setAutomine", [automine]), ("evm_revert", [snapshot_id]),
            ("anvil_setNextBlockBaseFeePerGas", [pending["baseFeePerGas"]])])
        if not reverted:
            raise RuntimeError(f"evm_revert({snapshot_id}) failed: the next test would see this test's state")


@pytest.fixture()
def web3(session_web3: Web3, isolated_chain: None) -> Web3:
    """web3 connected to the test anvil; the chain is rolled back after the test."""
    return session_web3


@pytest.fixture()
def world(web3: Web3, session_world: World) -> Iterator[World]:
    """The world (Uniswap V2/V3, WETH9, tokens, pools) bound to `web3`; the same object for every test.
    Accounts impersonated with `world.impersonate()` are stopped after the test (evm_revert keeps them)."""
    yield session_world
    session_world.stop_impersonating()


@pytest.fixture()
def deployer(world: World) -> str:
    """The world's deployer: an unlocked dev account that owns the test tokens (can mint)."""
    return world.deployer


@pytest.fixture(scope="session")
def session_asset_manager(session_web3: Web3) -> LocalAccount:
    """The asset manager's account, funded once per session, before any test's snapshot."""
    account: LocalAccount = Account.from_key(ASSET_MANAGER_KEY)
    params = [account.address, hex(ASSET_MANAGER_ETH)]
    session_web3.provider.make_request("anvil_setBalance", params)  # type: ignore[arg-type]
    return account


@pytest.fixture()
def asset_manager(session_asset_manager: LocalAccount, web3: Web3) -> LocalAccount:
    """A hot-wallet account (signs locally, not unlocked on the node) holding 100 ETH for gas."""
    return session_asset_manager


@pytest.fixture(scope="session")
def session_vault(session_world: World, session_asset_manager: LocalAccount) -> Contract:
    """A world vault deployed once per session, before any test's snapshot."""
    return deploy_world_vault(session_world, session_asset_manager.address)


@pytest.fixture()
def vault(session_vault: Contract, world: World, asset_manager: LocalAccount) -> Contract:
    """The world vault: guard configured for every world pool and router, funded (see `VAULT_FUNDING`),
    owned by `deployer`, traded by `asset_manager`; rolled back after each test like everything else."""
    return session_vault


@pytest.fixture(scope="session")
def session_safe(session_world: World) -> WorldSafe:
    """A Safe created once per session (before any test's snapshot) through the world's proxy factory."""
    return make_test_safe(session_world.web3, session_world.addresses.safe, session_world.deployer)


@pytest.fixture()
def safe(session_safe: WorldSafe, world: World) -> WorldSafe:
    """A Safe 1.4.1 proxy (SafeL2 singleton, compatibility fallback handler) of three owners with threshold 2
    (`safe.owners`: local signing accounts), created through the proxy factory; rolled back after each test."""
    return session_safe


@pytest.fixture(scope="session")
def session_safe_vault(session_world: World, session_asset_manager: LocalAccount) -> SafeCustodyVault:
    """A Safe-custody vault set up once per session on a Safe of its own (not the `safe` fixture's)."""
    custody = make_test_safe(session_world.web3, session_world.addresses.safe, session_world.deployer, salt_nonce=1)
    return deploy_world_safe_vault(session_world, session_asset_manager.address, custody)


@pytest.fixture()
def safe_vault(session_safe_vault: SafeCustodyVault, world: World, asset_manager: LocalAccount) -> SafeCustodyVault:
    """The world vault's guard as a Safe module: a Safe (three owners, threshold 2) holds `VAULT_FUNDING`, the
    module (`safe_vault.address`, what the executor calls) is enabled and configured like `vault` through
    Safe transactions the owners signed; `safe_vault.custody` is the Safe. Rolled back after each test."""
    return session_safe_vault


@pytest.fixture()
def execution_store(vault: Contract, tmp_path: Path) -> Iterator[ExecutionStore]:
    """An empty SQLite execution store (in the test's tmp_path) for `vault`'s trades."""
    store = open_store(f"sqlite:///{tmp_path / 'vaultexec.db'}", vault.address)
    yield store
    store.close()


@pytest.fixture()
def executor_parts(anvil: AnvilInstance, asset_manager: LocalAccount, vault: Contract,
                   execution_store: ExecutionStore) -> Iterator[ExecutorParts]:
    """What an executor is made of: RPC client and web3 on `anvil`, `asset_manager`'s hot wallet, `vault`,
    `execution_store` (`parts.store`). Build more executors with `executor_parts.executor(pairs)`."""
    parts = connect_parts(anvil.url, asset_manager, vault.address, execution_store)
    yield parts
    parts.client.close()  # the store is closed by its own fixture


@pytest.fixture()
def world_markets(world: World) -> MarketResolver:
    """Turns MarketRequest("WETH", "USDC", "v3", 500) into the world's pair (`.pair(request)`)."""
    return world_resolver(world)


@pytest.fixture()
def vault_executor(executor_parts: ExecutorParts, world_markets: MarketResolver) -> VaultExecutionModel:
    """A ready executor: trades `vault` through the world's markets (`testing.executors.WORLD_MARKETS`),
    signed by `asset_manager`, recorded in `execution_store`. See docs/testing.md for an example test."""
    model, _ = executor_parts.executor(world_pairs(world_markets))
    return model


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server for the session (appendonly, appendfsync always) on a free loopback port."""
    with launch_redis() as server:
        yield server


@pytest.fixture(scope="session")
def real_fork_anvil() -> Iterator[AnvilInstance]:
    """An anvil forking the real chain at $VAULTEXEC_FORK_RPC_URL (at $VAULTEXEC_FORK_BLOCK if set); skips
    the test when the URL is not set. In real-fork mode this is also the `anvil` fixture."""
    fork = real_fork_from_env()
    if fork is None:
        pytest.skip(f"{REAL_FORK_ENV_VAR} is not set: no real chain to fork")
    with launch_anvil(code_size_limit=CODE_SIZE_LIMIT, fork_url=fork.url, fork_block_number=fork.block,
                      chain_id=None, startup_timeout=REAL_FORK_STARTUP_TIMEOUT) as node:
        yield node


@pytest.fixture()
def real_fork_web3(real_fork_anvil: AnvilInstance, request: pytest.FixtureRequest) -> Web3:
    """`web3` on the real-chain fork (isolated like `web3`); skips when $VAULTEXEC_FORK_RPC_URL is not set."""
    session: Web3 = request.getfixturevalue("web3")
    return session
