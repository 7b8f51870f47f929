"""The saved world state: a later session loads exactly the chain the first one built."""

from __future__ import annotations

from pathlib import Path

import pytest

from vaultexec.testing.anvil import AnvilInstance, find_anvil
from vaultexec.testing.world import WorldAddresses, attach_world, make_web3
from vaultexec.testing.worldcache import WORLD_CACHE_ENV_VAR, launch_world, world_cache_dir, world_cache_key


def _facts(node: AnvilInstance, addresses: WorldAddresses) -> dict[str, object]:
    world = attach_world(make_web3(node.url), addresses)
    latest = world.web3.eth.get_block("latest")
    return {
        "block": (latest["number"], latest["hash"]),
        "pending base fee": world.web3.eth.get_block("pending")["baseFeePerGas"],
        "deployer nonce": world.web3.eth.get_transaction_count(world.deployer),
        "USDC->WETH": world.uniswap_v2_router.functions.getAmountsOut(
            3000 * 10**6, [world.usdc.address, world.weth.address]).call(),
        "V3 quote": world.quoter_v2.functions.quoteExactInputSingle(
            (world.weth.address, world.wbtc.address, 10**18, 500, 0)).call()[0],
        "pool logs": len(world.web3.eth.get_logs({"fromBlock": 0, "address": world.uniswap_v3_factory.address})),
    }


def test_saved_world_loads_as_built(tmp_path: Path) -> None:
    with launch_world(cache_dir=tmp_path) as (built, built_addresses):
        assert built.options.load_state is None
        built_facts = _facts(built, built_addresses)
    assert len(list(tmp_path.glob("world-*.state.json"))) == 1
    with launch_world(cache_dir=tmp_path) as (loaded, loaded_addresses):
        assert loaded.options.load_state is not None
        assert loaded_addresses == built_addresses
        assert _facts(loaded, loaded_addresses) == built_facts


def test_a_broken_saved_state_is_built_again(tmp_path: Path) -> None:
    with launch_world(cache_dir=tmp_path):
        pass
    state = next(tmp_path.glob("world-*.state.json"))
    state.write_text('{"not": "a state"}')
    with launch_world(cache_dir=tmp_path) as (node, addresses):
        assert node.options.load_state is None  # built, not loaded
        assert node.rpc("eth_getCode", [addresses.swap_router02, "latest"]) not in ("0x", "0x0")
    assert state.stat().st_size > 100_000  # saved again


def test_cache_key_follows_the_node_options() -> None:
    binary = find_anvil()
    assert world_cache_key(binary, {"code_size_limit": 1}) == world_cache_key(binary, {"code_size_limit": 1})
    assert world_cache_key(binary, {"code_size_limit": 1}) != world_cache_key(binary, {"code_size_limit": 2})


def test_cache_folder_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(WORLD_CACHE_ENV_VAR, "off")
    assert world_cache_dir() is None
    monkeypatch.setenv(WORLD_CACHE_ENV_VAR, str(tmp_path))
    assert world_cache_dir() == tmp_path
    monkeypatch.delenv(WORLD_CACHE_ENV_VAR)
    assert world_cache_dir() is not None


def test_without_cache_nothing_is_saved(tmp_path: Path) -> None:
    with launch_world(cache_dir=tmp_path, use_cache=False) as (node, _):
        assert node.options.load_state is None
    assert list(tmp_path.iterdir()) == []
