"""Why a real vault `execute` failed, through `fetch_revert` (trace and eth_call replay) on the world:
a vault custom error with its arguments, a router revert nested in `CallFailed`, and out of gas inside the
router call (which the vault reports as `CallFailed(i, "")`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.broadcast import TrackerConfig, TransactionTracker
from vaultexec.chain.gas import fetch_fees
from vaultexec.chain.revert import fetch_revert, known_errors
from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.execution.executor import VaultExecutionModel
from vaultexec.execution.plan import TradePlan
from vaultexec.model.transaction import BlockchainTransaction, TxState
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.plugin import ASSET_MANAGER_KEY
from vaultexec.testing.world import World
from vaultexec.vault.execute import AssetBound, VaultCall, encode_execute_call

from exec_pipeline import make_executor, make_trade, pair, register_world, world_pairs  # isort: skip

APPROVE = bytes.fromhex("095ea7b3")  # approve(address,uint256)


@pytest.fixture()
def executor(web3: Web3, world: World, vault: Contract, asset_manager: LocalAccount,
             tmp_path: Path) -> VaultExecutionModel:
    register_world(world.addresses)
    return make_executor(web3.provider.endpoint_uri, vault.address, world.chain_id,  # type: ignore[attr-defined]
                         world_pairs(world.addresses), SQLiteStore(tmp_path / "store.db", vault.address))


def v3_plan(executor: VaultExecutionModel, world: World) -> TradePlan:
    trade = make_trade(1, pair(world.addresses, "WETH", "USDC", 500), "1000")
    plan: TradePlan = executor.planner.routing.plan_trades([trade]).get_plan(1)  # type: ignore[attr-defined]
    return plan


def send(executor: VaultExecutionModel, calldata: bytes, gas: int) -> BlockchainTransaction:
    """Sign the vault call with a fixed gas limit (a doomed call cannot be estimated) and track it."""
    client = executor.client
    wallet = HotWallet.from_key(ASSET_MANAGER_KEY, executor.wallet.chain_id)
    wallet.sync_nonce(client)
    tx = wallet.sign_blockchain_transaction(BlockchainTransaction(contract_address=executor.vault_address),
                                            "0x" + calldata.hex(), gas, fetch_fees(client, wallet.chain_id))
    TransactionTracker(client, TrackerConfig(poll_interval=0.01, timeout=30),
                       errors=known_errors()).send_and_track([tx])
    assert tx.tx_state is TxState.failed and tx.status is False
    return tx


def replayed(client: RPCClient, tx: BlockchainTransaction) -> str:
    return str(fetch_revert(client, str(tx.tx_hash), use_trace=False))


def test_vault_custom_error_with_its_arguments(executor: VaultExecutionModel, world: World) -> None:
    plan = v3_plan(executor, world)
    [bound] = plan.min_receive
    too_much = bound.amount * 1000
    tx = send(executor, encode_execute_call(plan.calls, plan.max_spend, [AssetBound(bound.asset, too_much)]),
              400_000)
    decoded = fetch_revert(executor.client, str(tx.tx_hash))
    assert decoded.kind == "custom" and decoded.name == "ReceiveTooLow" and not decoded.approximate
    assert decoded.args["asset"] == Web3.to_checksum_address(world.addresses.tokens["WETH"])
    assert decoded.args["min"] == too_much and 0 < decoded.args["received"] < too_much
    assert tx.revert_reason == str(decoded)  # what the tracker stored on the transaction
    assert replayed(executor.client, tx).startswith(f"ReceiveTooLow(asset={decoded.args['asset']}")


def test_router_revert_nested_in_call_failed(executor: VaultExecutionModel, world: World) -> None:
    plan = v3_plan(executor, world)
    approve, swap = plan.calls
    spender = Web3.to_checksum_address("0x" + approve.data[16:36].hex())
    # allow the router 1 raw unit instead of the swap's amount: its transferFrom fails
    stingy = VaultCall(approve.target, APPROVE + encode(["address", "uint256"], [spender, 1]))
    tx = send(executor, encode_execute_call([stingy, swap], plan.max_spend, plan.min_receive), 400_000)
    decoded = fetch_revert(executor.client, str(tx.tx_hash))
    assert decoded.name == "CallFailed" and decoded.args["index"] == 1
    assert decoded.inner is not None and decoded.inner.kind == "error_string"
    assert decoded.inner.args["reason"] == "STF"
    assert str(decoded) == ("CallFailed(index=1): STF (safeTransferFrom failed (no allowance or balance for the "
                            "input token))")
    assert replayed(executor.client, tx).startswith("CallFailed(index=1): STF")


def test_out_of_gas_inside_the_router_call(executor: VaultExecutionModel, world: World) -> None:
    plan = v3_plan(executor, world)
    tx = send(executor, plan.vault_calldata, 150_000)
    decoded = fetch_revert(executor.client, str(tx.tx_hash))
    assert decoded.name == "CallFailed" and decoded.args["index"] == 1
    assert decoded.innermost.kind == "out_of_gas"
    assert str(decoded).startswith("CallFailed(index=1): the call to ")
    assert str(decoded).endswith("ran out of gas (it was given " f"{decoded.innermost.args['gas']} gas); "
                                 "raise the gas limit")
    assert tx.revert_reason == str(decoded)
    assert "empty revert" not in replayed(executor.client, tx)
    assert "probably ran out of gas" in replayed(executor.client, tx)
