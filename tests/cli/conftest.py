"""Fixtures of the CLI tests: the command's environment against the test world (anvil fork + world vault)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from web3.contract import Contract

from vaultexec.demo import world_config_document
from vaultexec.testing.anvil import DEV_PRIVATE_KEYS, AnvilInstance
from vaultexec.testing.plugin import ASSET_MANAGER_KEY
from vaultexec.testing.world import World


@pytest.fixture()
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/store.db"


@pytest.fixture()
def cli_env(anvil: AnvilInstance, vault: Contract, store_url: str) -> dict[str, str]:
    """Connection, vault, store and the asset manager's key, all by environment variable."""
    return {"VAULTEXEC_RPC_URL": anvil.url, "VAULTEXEC_VAULT": vault.address, "VAULTEXEC_STORE": store_url,
            "VAULTEXEC_PRIVATE_KEY": ASSET_MANAGER_KEY}


@pytest.fixture()
def owner_key(world: World) -> str:
    """The world deployer's key (anvil's first dev account): the world vault's owner."""
    key = DEV_PRIVATE_KEYS[0]
    assert Account.from_key(key).address == world.deployer
    return key


@pytest.fixture()
def world_config(world: World, tmp_path: Path) -> Path:
    """The world as a JSON config file: tokens, deployment, assets, routers, pools."""
    path = tmp_path / "world.json"
    path.write_text(json.dumps(world_config_document(world)))
    return path


