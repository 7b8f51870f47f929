"""Fixtures of the vault tests: a `Trader` driving the world vault as its asset manager."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount
from vaultkit import Trader
from web3.contract import Contract

from vaultexec.testing.world import World


@pytest.fixture()
def trader(world: World, vault: Contract, asset_manager: LocalAccount) -> Trader:
    return Trader(world, vault, asset_manager)
