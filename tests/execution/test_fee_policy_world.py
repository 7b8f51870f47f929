"""Fee policy on the world: a tip floor above the node's suggestion is paid; a cap below the needed fee
refuses the batch before anything is signed."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.gas import GWEI, FeePolicy
from vaultexec.errors import FeeCapExceededError, RecordNotFoundError
from vaultexec.execution.executor import VaultExecutionModel
from vaultexec.model.run_state import RunState
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.world import World

from exec_pipeline import make_executor, make_trade, pair, register_world, world_pairs  # isort: skip

FLOOR = 40 * GWEI


def executor_with(web3: Web3, world: World, vault: Contract, tmp_path: Path, policy: FeePolicy) -> VaultExecutionModel:
    register_world(world.addresses)
    store = SQLiteStore(tmp_path / "store.db", vault.address)
    return make_executor(web3.provider.endpoint_uri, vault.address, world.chain_id,  # type: ignore[attr-defined]
                         world_pairs(world.addresses), store, RunState(), fee_policy=policy)


def test_trades_pay_the_chains_tip_floor_above_the_nodes_suggestion(web3: Web3, world: World, vault: Contract,
                                                                    tmp_path: Path) -> None:
    suggested = int(web3.provider.make_request("eth_maxPriorityFeePerGas", [])["result"], 16)  # type: ignore[arg-type]
    assert suggested < FLOOR
    executor = executor_with(web3, world, vault, tmp_path, FeePolicy(min_priority_fee=FLOOR))
    a = world.addresses
    settled = executor.execute_trades([make_trade(1, pair(a, "WETH", "USDC"), "500"),
                                       make_trade(2, pair(a, "WETH", "USDC", 500), "700")])
    assert all(t.is_success() for t in settled)
    for trade in settled:
        tx = trade.blockchain_transactions[-1]
        assert tx.max_priority_fee_per_gas == FLOOR
        on_chain = web3.eth.get_transaction(tx.tx_hash)  # type: ignore[arg-type]
        block = web3.eth.get_block(on_chain["blockNumber"])
        assert on_chain["maxPriorityFeePerGas"] == FLOOR
        assert tx.realised_gas_price == block["baseFeePerGas"] + FLOOR  # the floor was paid, not just offered


def test_a_cap_below_the_needed_fee_refuses_the_batch_before_signing(web3: Web3, world: World, vault: Contract,
                                                                     tmp_path: Path) -> None:
    base_fee = int(web3.eth.get_block("latest")["baseFeePerGas"])
    executor = executor_with(web3, world, vault, tmp_path, FeePolicy(min_priority_fee=GWEI, max_fee=base_fee))
    a = world.addresses
    trades = [make_trade(1, pair(a, "WETH", "USDC"), "500"), make_trade(2, pair(a, "WETH", "USDC", 500), "700")]
    nonce = web3.eth.get_transaction_count(executor.wallet.address, "pending")
    with pytest.raises(FeeCapExceededError, match="above the fee cap") as refused:
        executor.execute_trades(trades)
    assert refused.value.needed == base_fee + GWEI and refused.value.cap == base_fee
    assert all(not t.blockchain_transactions for t in trades)  # nothing signed
    assert web3.eth.get_transaction_count(executor.wallet.address, "pending") == nonce
    for trade in trades:
        with pytest.raises(RecordNotFoundError):
            executor.store.load(trade.trade_id)
