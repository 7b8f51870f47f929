"""The `vault` fixture: deployed once per session, configured for the world, funded, isolated per test."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from vaultexec.testing.vaults import VAULT_FUNDING
from vaultexec.testing.world import World
from vaultexec.vault.deploy import RouterKind


@pytest.mark.local_world
def test_vault_is_configured_and_funded(vault: Contract, world: World, asset_manager: LocalAccount) -> None:
    assert vault.functions.assetManager().call() == asset_manager.address
    assert vault.functions.owner().call() == world.deployer
    for symbol, human in VAULT_FUNDING.items():
        assert world.token(symbol).functions.balanceOf(vault.address).call() == human * 10 ** world.decimals(symbol)
        assert vault.functions.isAssetAllowed(world.token(symbol).address).call()
    assert vault.functions.routerKind(world.swap_router02.address).call() == RouterKind.UNISWAP_V3_SWAP_ROUTER02
    assert vault.functions.isPoolAllowed(
        world.swap_router.address, world.weth.address, world.usdc.address, 500).call()
    assert not vault.functions.isPoolAllowed(
        world.swap_router.address, world.dai.address, world.usdc.address, 500).call()


@pytest.mark.parametrize("run", [1, 2])
def test_vault_starts_funded_whatever_ran_before(vault: Contract, world: World, run: int) -> None:
    """Order-independent: each run finds the funding intact, then withdraws, for whichever runs next (the
    fixed-order check is tests/testing/test_isolation_order.py)."""
    assert world.usdc.functions.balanceOf(vault.address).call() == VAULT_FUNDING["USDC"] * 10**6
    vault.functions.withdraw(world.usdc.address, 10**6).transact({"from": world.deployer})
    assert world.usdc.functions.balanceOf(vault.address).call() == (VAULT_FUNDING["USDC"] - 1) * 10**6
