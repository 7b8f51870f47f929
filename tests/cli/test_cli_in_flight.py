"""`vaultexec trade` once the transaction is out: interrupted (Ctrl-C), still pending, reverted on chain.

Automine is off, so the test decides when (and in which order) the node mines the trade's transaction.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, finish, nonce, run_cli, start_cli
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.store import open_store
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.world import World

BUY = ["trade", "WETH/USDC", "buy", "1000", "--fee", "500", "--yes"]
#: USDC a whale swaps into the trade's pool ahead of it (the pool holds 10 M USD a side).
WHALE_USDC = 2_000_000
GWEI = 10**9


@contextmanager
def manual_mining(anvil: AnvilInstance) -> Iterator[None]:
    """Automine off inside; whatever is left in the mempool is dropped after."""
    anvil.rpc("evm_setAutomine", [False])
    try:
        yield
    finally:
        anvil.rpc("anvil_dropAllTransactions")
        anvil.rpc("evm_setAutomine", [True])


def wait_for_pending_tx(anvil: AnvilInstance, sender: str, process: subprocess.Popen[str]) -> None:
    """Block until `sender` has a transaction in the mempool (fail if the command exits first)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pending = anvil.rpc("txpool_content")["pending"]
        if any(Web3.to_checksum_address(address) == sender for address in pending):
            return
        if process.poll() is not None:
            pytest.fail(f"vaultexec exited {process.returncode} before broadcasting: {finish(process).output}")
        time.sleep(0.1)
    pytest.fail("no transaction reached the mempool in 60 s")


def with_config(config: Path, *args: str) -> list[str]:
    return [*args, "--config", str(config)]


def test_ctrl_c_after_broadcast_says_interrupted_and_resume_finishes(
        cli_env: dict[str, str], world_config: Path, anvil: AnvilInstance, web3: Web3, vault: Contract,
        asset_manager: LocalAccount, store_url: str) -> None:
    with manual_mining(anvil):
        process = start_cli(with_config(world_config, *BUY), cli_env)
        wait_for_pending_tx(anvil, asset_manager.address, process)
        process.send_signal(signal.SIGINT)
        result = finish(process)
        assert result.code == 130, result.output
        assert "nothing was sent" not in result.output
        assert "Interrupted" in result.stderr and "vaultexec resume" in result.stderr
        assert "Traceback" not in result.output

        anvil.rpc("evm_mine")
        resumed = run_cli(["resume"], cli_env)
    assert resumed.code == 0, resumed.output
    assert open_store(store_url, vault.address).load(1).is_success()
    assert nonce(web3, asset_manager.address) == 1


def test_trade_still_pending_exits_9_and_resume_settles_it(
        cli_env: dict[str, str], world_config: Path, anvil: AnvilInstance, vault: Contract,
        asset_manager: LocalAccount, store_url: str) -> None:
    with manual_mining(anvil):
        result = run_cli(with_config(world_config, *BUY, "--timeout", "2"), cli_env)
        assert_one_line_error(result, 9, "Trade #1 is still", "vaultexec resume")
        assert "Plan of trade #1" in result.stdout
        assert open_store(store_url, vault.address).load(1).is_pending()

        anvil.rpc("evm_mine")
        resumed = run_cli(["resume"], cli_env)
    assert resumed.code == 0, resumed.output
    assert open_store(store_url, vault.address).load(1).is_success()


def whale_swap_ahead(world: World, fee: int) -> None:
    """Send (not mine) a big USDC -> WETH swap on the trade's pool, tipping far more than the trade."""
    whale, raw = world.deployer, WHALE_USDC * 10 ** world.decimals("USDC")
    world.swap_router.functions.exactInputSingle(
        (world.usdc.address, world.weth.address, fee, whale, 2**63, raw, 1, 0)).transact(
        {"from": whale, "gas": 500_000, "maxPriorityFeePerGas": 50 * GWEI, "maxFeePerGas": 500 * GWEI})


def test_trade_reverted_on_chain_exits_12(cli_env: dict[str, str], world_config: Path, anvil: AnvilInstance,
                                          world: World, vault: Contract, asset_manager: LocalAccount,
                                          store_url: str) -> None:
    whale, raw = world.deployer, WHALE_USDC * 10 ** world.decimals("USDC")
    world.fund("USDC", whale, raw)
    world.usdc.functions.approve(world.swap_router.address, raw).transact({"from": whale})
    with manual_mining(anvil):
        process = start_cli(with_config(world_config, "trade", "WETH/USDC", "buy", "10000", "--fee", "3000",
                                        "--slippage", "0.1", "--yes"), cli_env)
        wait_for_pending_tx(anvil, asset_manager.address, process)
        whale_swap_ahead(world, 3000)
        anvil.rpc("evm_mine")  # one block: the whale's higher tip puts it first
        result = finish(process)
    assert result.code == 12, result.output
    assert "Traceback" not in result.output
    assert "Trade #1 failed:" in result.stderr and "Too little received" in result.stderr
    failed = open_store(store_url, vault.address).load(1)
    assert failed.is_failed()
    assert failed.blockchain_transactions[0].block_number is not None  # reverted on chain, not in pre-flight
