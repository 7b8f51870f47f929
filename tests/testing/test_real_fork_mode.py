"""Real-fork mode without internet: $VAULTEXEC_FORK_RPC_URL points at a local anvil holding our world, which
plays the real chain; a conftest registers that chain's deployment and tokens, as a user would for a chain
the registry does not know. The sub-session's ordinary fixtures (`anvil`, `web3`, `world`, `vault`) must
fork that URL and bind that deployment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from subsession import output_of, run_pytest, write_project
from web3 import Web3

from vaultexec.errors import BadInputError, ConfigurationError
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.plugin import REAL_FORK_BLOCK_ENV_VAR, REAL_FORK_ENV_VAR, parse_fork_block
from vaultexec.testing.realchain import chain_tokens, register_chain_tokens
from vaultexec.testing.world import make_web3
from vaultexec.testing.worldcache import launch_world

MARKER = "0x" + "5a" * 20

CONFTEST = """
    import json, os
    from vaultexec.dex.deployments import register_world
    from vaultexec.testing.realchain import register_chain_tokens
    from vaultexec.testing.world import WorldAddresses

    CHAIN = WorldAddresses(**json.loads(open(os.environ["CHAIN_ADDRESSES"]).read()))
    register_world(CHAIN)
    register_chain_tokens(CHAIN.chain_id, CHAIN.tokens)
"""

TESTS = """
    import json, os
    import pytest
    from web3 import Web3
    from conftest import CHAIN
    from vaultexec.testing.vaults import VAULT_FUNDING

    MARKER = Web3.to_checksum_address("0x" + "5a" * 20)

    def test_anvil_forks_the_url_at_the_block(anvil, web3):
        assert anvil.options.fork_url == os.environ["VAULTEXEC_FORK_RPC_URL"]
        assert web3.eth.block_number == int(os.environ["VAULTEXEC_FORK_BLOCK"], 0)
        assert web3.eth.get_balance(MARKER) == 0  # paid on the real chain after the fork block

    def test_world_is_the_chains_deployment(world, world_base, anvil):
        assert world_base[0] is anvil
        assert not world.is_local
        assert world.uniswap_v2_router.address == CHAIN.uniswap_v2_router
        assert world.swap_router02.address == CHAIN.swap_router02
        assert world.position_manager.address == CHAIN.position_manager  # found through SwapRouter02
        assert world.addresses.v2_pairs == CHAIN.v2_pairs
        assert world.addresses.v3_pools == CHAIN.v3_pools
        assert {s: world.decimals(s) for s in world.tokens} == {"USDC": 6, "WETH": 18, "WBTC": 8, "DAI": 18, "USDT": 6}

    def test_fund_deals_tokens_then_a_swap_trades_on_the_chains_pool(world):
        trader = world.web3.eth.accounts[3]
        supply = world.usdc.functions.totalSupply().call()
        world.fund("USDC", trader, 3000 * 10**6)
        world.fund("USDC", trader, 1)
        assert world.usdc.functions.balanceOf(trader).call() == 3000 * 10**6 + 1
        assert world.usdc.functions.totalSupply().call() == supply  # dealt, not minted
        router = world.uniswap_v2_router
        world.usdc.functions.approve(router.address, 3000 * 10**6).transact({"from": trader})
        router.functions.swapExactTokensForTokens(
            3000 * 10**6, 1, [world.usdc.address, world.weth.address], trader, 2**63).transact({"from": trader})
        assert world.weth.functions.balanceOf(trader).call() > 0

    def test_vault_is_deployed_and_funded_on_the_fork(vault, world, asset_manager):
        assert vault.functions.assetManager().call() == asset_manager.address
        for symbol, human in VAULT_FUNDING.items():
            assert world.token(symbol).functions.balanceOf(vault.address).call() == human * 10 ** world.decimals(symbol)

    def test_real_fork_web3_is_the_isolated_web3(real_fork_web3, web3):
        assert real_fork_web3 is web3

    @pytest.mark.local_world
    def test_needing_the_local_world_is_skipped(world):
        raise AssertionError("must not run in real-fork mode")
"""


RealChain = tuple[AnvilInstance, int, Path]


@pytest.fixture(scope="module")
def real_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealChain]:
    """A local anvil with our world, as the "real" chain: (url, fork block, addresses file)."""
    folder = tmp_path_factory.mktemp("chain")
    with launch_world() as (node, addresses):
        web3 = make_web3(node.url)
        node.rpc("evm_mine")  # the fork block must be one this node mined (it keeps those blocks' state)
        fork_block = web3.eth.block_number
        node.rpc("eth_sendTransaction", [{"from": addresses.deployer, "to": MARKER, "value": hex(10**15)}])
        path = folder / "addresses.json"
        path.write_text(json.dumps(addresses.to_dict()))
        yield node, fork_block, path


def test_fixtures_fork_the_real_chain_url(real_chain: RealChain, tmp_path: Path) -> None:
    node, fork_block, addresses_path = real_chain
    usdc = json.loads(addresses_path.read_text())["tokens"]["USDC"]
    trader = make_web3(node.url).eth.accounts[3]
    project = write_project(tmp_path, {"conftest.py": CONFTEST, "test_real.py": TESTS})
    done = run_pytest(project, {REAL_FORK_ENV_VAR: node.url, REAL_FORK_BLOCK_ENV_VAR: hex(fork_block),
                                "CHAIN_ADDRESSES": str(addresses_path)})
    assert done.returncode == 0, output_of(done)
    assert "5 passed, 1 skipped" in done.stdout, output_of(done)
    assert "needs the local world" in done.stdout  # the skip says why
    # The "real chain" itself is untouched: the tests traded on the fork.
    balance_of = {"to": usdc, "data": "0x70a08231" + trader[2:].lower().rjust(64, "0")}
    assert int(node.rpc("eth_call", [balance_of, "latest"]), 16) == 0


def test_bad_fork_block_is_a_usage_error_without_traceback(real_chain: RealChain, tmp_path: Path) -> None:
    node, _, _ = real_chain
    project = write_project(tmp_path, {"test_nothing.py": "def test_nothing():\n    pass\n"})
    done = run_pytest(project, {REAL_FORK_ENV_VAR: node.url, REAL_FORK_BLOCK_ENV_VAR: "soon"})
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, output_of(done)
    assert "VAULTEXEC_FORK_BLOCK='soon' is not a block number" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_unknown_chain_says_how_to_register_it(real_chain: RealChain, tmp_path: Path) -> None:
    """Without registered tokens for the forked chain, `world` fails with what to do, not a KeyError."""
    node, _, addresses_path = real_chain
    conftest = CONFTEST.replace("register_chain_tokens(CHAIN.chain_id, CHAIN.tokens)", "")
    project = write_project(tmp_path, {"conftest.py": conftest, "test_world.py": "def test_w(world):\n    pass\n"})
    done = run_pytest(project, {REAL_FORK_ENV_VAR: node.url, "CHAIN_ADDRESSES": str(addresses_path)})
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, output_of(done)
    assert "No world tokens are known for chain 31337" in done.stdout
    assert "register_chain_tokens" in done.stdout


@pytest.mark.parametrize(("text", "block"), [("19000000", 19_000_000), ("0x10", 16), (" 7 ", 7), ("", None),
                                             (None, None)])
def test_parse_fork_block(text: str | None, block: int | None) -> None:
    assert parse_fork_block(text) == block


@pytest.mark.parametrize("text", ["latest", "1.5", "-1"])
def test_parse_fork_block_refuses(text: str) -> None:
    with pytest.raises(ConfigurationError, match=REAL_FORK_BLOCK_ENV_VAR):
        parse_fork_block(text)


def test_register_chain_tokens_checks_addresses() -> None:
    register_chain_tokens(999_001, {"USDC": "0x" + "ab" * 20})
    assert chain_tokens(999_001) == {"USDC": Web3.to_checksum_address("0x" + "ab" * 20)}
    with pytest.raises(BadInputError, match="malformed"):
        register_chain_tokens(999_002, {"USDC": "0x1234"})
