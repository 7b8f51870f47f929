"""`vaultexec resume` finishes a trade a crashed run stored but never sent; `repair` closes a failed one."""

from __future__ import annotations

from decimal import Decimal

import pytest
from cli_helpers import nonce, run_cli
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.rpc import RPCClient, connect_web3
from vaultexec.chain.wallet import HotWallet
from vaultexec.cli.markets import MarketRequest, MarketResolver
from vaultexec.cli.trading import build_executor, make_trade
from vaultexec.dex.deployments import register_world
from vaultexec.execution.executor import STAGE_SIGNED, VaultExecutionModel
from vaultexec.model import TradingPairIdentifier
from vaultexec.store import ExecutionStore, open_store
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.world import World


class SimulatedCrashError(Exception):
    """Stands for the process dying right after the write-ahead record was stored."""


def crash_after_signing(stage: str, _trades: object) -> None:
    if stage == STAGE_SIGNED:
        raise SimulatedCrashError


def executor_on(anvil: AnvilInstance, world: World, vault: Contract, manager: LocalAccount, store_url: str,
                market: MarketRequest) -> tuple[VaultExecutionModel, TradingPairIdentifier, ExecutionStore]:
    register_world(world.addresses)
    client = RPCClient(anvil.url)
    web3 = connect_web3(client)
    pair = MarketResolver(web3, world.chain_id, world.addresses.tokens).pair(market)
    store = open_store(store_url, vault.address)
    model, _ = build_executor(client, web3, vault.address, HotWallet(manager, world.chain_id), store, [pair])
    return model, pair, store


def test_resume_sends_the_stored_transaction(cli_env: dict[str, str], anvil: AnvilInstance, web3: Web3,
                                             world: World, vault: Contract, asset_manager: LocalAccount,
                                             store_url: str) -> None:
    model, pair, store = executor_on(anvil, world, vault, asset_manager, store_url,
                                     MarketRequest("WETH", "USDC", "v3", 500))
    model.on_stage = crash_after_signing
    with pytest.raises(SimulatedCrashError):
        model.execute_trades([make_trade(1, pair, True, Decimal(1000), Decimal("0.005"))])
    assert store.load(1).is_started() and nonce(web3, asset_manager.address) == 0

    result = run_cli(["resume"], cli_env)
    assert result.code == 0, result.output
    assert "Resumed: 1 of 1 trades settled" in result.stdout
    assert store.load(1).is_success()
    assert nonce(web3, asset_manager.address) == 1


def test_repair_closes_a_refused_trade(cli_env: dict[str, str], anvil: AnvilInstance, world: World,
                                       vault: Contract, asset_manager: LocalAccount, store_url: str) -> None:
    model, pair, store = executor_on(anvil, world, vault, asset_manager, store_url,
                                     MarketRequest("WETH", "USDC", "v2"))
    vault.functions.setPoolAllowed(world.uniswap_v2_router.address, world.weth.address, world.usdc.address, 0,
                                   False).transact({"from": world.deployer})
    (refused,) = model.execute_trades([make_trade(1, pair, True, Decimal(1000), Decimal("0.005"))])
    assert refused.is_failed()

    result = run_cli(["repair", "--note", "guard was closed"], cli_env)
    assert result.code == 0, result.output
    assert "Repaired" in result.stdout
    repaired = store.load(1)
    assert repaired.is_repaired()
    assert "guard was closed" in (repaired.notes or "")
