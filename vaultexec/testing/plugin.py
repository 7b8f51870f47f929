"""pytest plugin (entry point `pytest11`): anvil, web3, world, vault, deployer, asset_manager, redis_server.

The world is deployed once per session on a *base* anvil; tests talk to a second anvil that forks the base
chain (`--fork-url`), as users run against a mainnet fork. Each test runs between `evm_snapshot` and
`evm_revert`, so nothing one test does is seen by the next. See docs/testing.md.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.testing.anvil import AnvilInstance, launch_anvil
from vaultexec.testing.redis import RedisServer, launch_redis
from vaultexec.testing.vaults import deploy_world_vault
from vaultexec.testing.world import World, WorldAddresses, attach_world, deploy_world

logger = logging.getLogger(__name__)

#: A real chain's RPC URL: when set, `real_fork_web3` forks it (tests using it are skipped otherwise).
REAL_FORK_ENV_VAR = "VAULTEXEC_FORK_RPC_URL"
REAL_FORK_BLOCK_ENV_VAR = "VAULTEXEC_FORK_BLOCK"
#: "fork" (default): tests use an anvil forking the world's base anvil; "base": they use the base anvil itself.
WORLD_MODE_ENV_VAR = "VAULTEXEC_WORLD_MODE"

#: Code size limit for both anvils: NonfungiblePositionManager is above EIP-170's 24 KiB.
CODE_SIZE_LIMIT = 100_000
ASSET_MANAGER_KEY = "0x" + Web3.keccak(text="vaultexec test asset manager").hex().removeprefix("0x")
ASSET_MANAGER_ETH = 100 * 10**18


def make_web3(url: str) -> Web3:
    """A web3 connection with a generous timeout (anvil forks can be slow on first touch)."""
    return Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60}))


@pytest.fixture(scope="session")
def world_base() -> Iterator[tuple[AnvilInstance, WorldAddresses]]:
    """The base anvil with the world deployed once for the whole session."""
    with launch_anvil(code_size_limit=CODE_SIZE_LIMIT) as base:
        started = time.monotonic()
        world = deploy_world(make_web3(base.url))
        logger.info("world built in %.2fs", time.monotonic() - started)
        yield base, world.addresses


@pytest.fixture(scope="session")
def anvil(world_base: tuple[AnvilInstance, WorldAddresses]) -> Iterator[AnvilInstance]:
    """The anvil the tests talk to: a fork of the world's base chain (or the base itself, see module doc)."""
    base, _ = world_base
    if os.environ.get(WORLD_MODE_ENV_VAR, "fork") == "base":
        yield base
        return
    with launch_anvil(code_size_limit=CODE_SIZE_LIMIT, fork_url=base.url, chain_id=None) as fork:
        yield fork


@pytest.fixture(scope="session")
def session_web3(anvil: AnvilInstance) -> Web3:
    return make_web3(anvil.url)


@pytest.fixture()
def isolated_chain(anvil: AnvilInstance) -> Iterator[None]:
    """Snapshot the chain before the test and roll it back after, whatever the test's outcome.

    `evm_revert` keeps node settings a test may change (a forced next-block base fee, automine), so those
    are restored too.
    """
    next_base_fee = anvil.rpc("eth_getBlockByNumber", ["pending", False])["baseFeePerGas"]
    automine = anvil.rpc("anvil_getAutomine")
    snapshot_id = anvil.rpc("evm_snapshot")
    try:
        yield
    finally:
        anvil.rpc("evm_setAutomine", [automine])
        if not anvil.rpc("evm_revert", [snapshot_id]):
            raise RuntimeError(f"evm_revert({snapshot_id}) failed: the next test would see this test's state")
        anvil.rpc("anvil_setNextBlockBaseFeePerGas", [next_base_fee])


@pytest.fixture()
def web3(session_web3: Web3, isolated_chain: None) -> Web3:
    """web3 connected to the test anvil; the chain is rolled back after the test."""
    return session_web3


@pytest.fixture()
def world(web3: Web3, world_base: tuple[AnvilInstance, WorldAddresses]) -> World:
    """The deployed world (Uniswap V2/V3, WETH9, test tokens, pools), bound to `web3`."""
    return attach_world(web3, world_base[1])


@pytest.fixture()
def deployer(world: World) -> str:
    """The world's deployer: an unlocked dev account that owns the test tokens (can mint)."""
    return world.deployer


@pytest.fixture()
def asset_manager(web3: Web3) -> LocalAccount:
    """A hot-wallet account (signs locally, not unlocked on the node) funded with 100 ETH for gas."""
    account: LocalAccount = Account.from_key(ASSET_MANAGER_KEY)
    web3.provider.make_request("anvil_setBalance", [account.address, hex(ASSET_MANAGER_ETH)])  # type: ignore[arg-type]
    return account


@pytest.fixture(scope="session")
def session_vault(session_web3: Web3, world_base: tuple[AnvilInstance, WorldAddresses]) -> Contract:
    """A world vault deployed once per session, before any test's snapshot."""
    manager: LocalAccount = Account.from_key(ASSET_MANAGER_KEY)
    return deploy_world_vault(attach_world(session_web3, world_base[1]), manager.address)


@pytest.fixture()
def vault(session_vault: Contract, world: World, asset_manager: LocalAccount) -> Contract:
    """The world vault: guard configured for every world pool and router, funded (see `VAULT_FUNDING`),
    owned by `deployer`, traded by `asset_manager`; rolled back after each test like everything else."""
    return session_vault


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server for the session (appendonly, appendfsync always) on a free loopback port."""
    with launch_redis() as server:
        yield server


@pytest.fixture(scope="session")
def real_fork_anvil() -> Iterator[AnvilInstance]:
    """An anvil forking the real chain at $VAULTEXEC_FORK_RPC_URL; skips the test when it is not set."""
    url = os.environ.get(REAL_FORK_ENV_VAR)
    if not url:
        pytest.skip(f"{REAL_FORK_ENV_VAR} is not set: no real chain to fork")
    block = os.environ.get(REAL_FORK_BLOCK_ENV_VAR)
    with launch_anvil(fork_url=url, fork_block_number=int(block) if block else None, chain_id=None,
                      startup_timeout=120) as fork:
        yield fork


@pytest.fixture()
def real_fork_web3(real_fork_anvil: AnvilInstance) -> Iterator[Web3]:
    """web3 on the real-chain fork, rolled back after each test."""
    snapshot_id = real_fork_anvil.rpc("evm_snapshot")
    try:
        yield make_web3(real_fork_anvil.url)
    finally:
        real_fork_anvil.rpc("evm_revert", [snapshot_id])
