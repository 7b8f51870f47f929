"""A reorg after settlement: resume() re-checks the trades settled in the last blocks, takes those whose
receipt is gone or moved back to broadcasted, and settles them again (RunState counts them once)."""

from __future__ import annotations

from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.rpc import RPCClient
from vaultexec.execution.executor import VaultExecutionModel
from vaultexec.execution.reorg import find_reorged, reopen_reorged_trades, reorg_window
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeStatus
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.world import World

from exec_pipeline import make_executor, make_trade, pair, register_world, world_pairs  # isort: skip
from test_broadcast_faults_world import LaggingReceipts  # isort: skip
from test_executor import SYMBOLS, balances, executed_events, raw_changes  # isort: skip


def new_executor(anvil: AnvilInstance, world: World, vault: Contract, tmp_path: Path) -> VaultExecutionModel:
    register_world(world.addresses)
    return make_executor(anvil.url, vault.address, world.chain_id, world_pairs(world.addresses),
                         SQLiteStore(tmp_path / "store.db", vault.address), RunState())


def test_settled_trades_whose_blocks_vanished_are_settled_again(
        web3: Web3, anvil: AnvilInstance, world: World, vault: Contract, asset_manager: LocalAccount,
        tmp_path: Path) -> None:
    a = world.addresses
    before, start_block = balances(world, vault), web3.eth.block_number + 1
    snapshot = anvil.rpc("evm_snapshot")
    executor = new_executor(anvil, world, vault, tmp_path)
    trades = [make_trade(1, pair(a, "WETH", "USDC"), "700"), make_trade(2, pair(a, "WETH", "USDC", 500), "900",
                                                                        buy=False)]
    assert [t.get_status() for t in executor.execute_trades(trades)] == [TradeStatus.success] * 2
    old_blocks = {t.trade_id: t.blockchain_transactions[-1].block_hash for t in trades}
    assert anvil.rpc("evm_revert", [snapshot])  # the blocks holding both settlements leave the chain
    for _ in trades:  # the new chain is as long as the old (a height above the head is a lagging node's)
        anvil.rpc("evm_mine")
    assert executed_events(web3, vault, start_block) == 0

    settled = executor.resume()
    assert sorted(t.trade_id for t in settled) == [1, 2]
    stored = executor.store.export_all()
    assert [t.get_status() for t in stored] == [TradeStatus.success] * 2
    assert all(t.blockchain_transactions[-1].block_hash != old_blocks[t.trade_id] for t in stored)
    assert executed_events(web3, vault, start_block) == 2
    after = balances(world, vault)
    assert raw_changes(stored) == {s: after[s] - before[s] for s in SYMBOLS if after[s] != before[s]}
    assert executor.run_state.trades_succeeded == 2 and executor.run_state.trades_failed == 0
    history = executor.store.history(1)
    assert [h.to_status for h in history][-2:] == ["broadcasted", "success"]
    assert "is gone" in (history[-2].reason or "") and "reorged:" in (stored[0].notes or "")
    assert executor.resume() == []  # nothing moved since: nothing reopened


def test_settled_trade_moved_to_another_block_is_settled_from_there(
        web3: Web3, anvil: AnvilInstance, world: World, vault: Contract, asset_manager: LocalAccount,
        tmp_path: Path) -> None:
    start_block = web3.eth.block_number + 1
    executor = new_executor(anvil, world, vault, tmp_path)
    [trade] = executor.execute_trades([make_trade(1, pair(world.addresses, "WETH", "USDC", 500), "1000")])
    tx = trade.blockchain_transactions[-1]
    assert trade.is_success() and tx.block_number is not None
    anvil.rpc("evm_mine")
    anvil.rpc("evm_mine")
    head = web3.eth.block_number
    # replace the last blocks: the same signed transaction is mined one block later
    anvil.rpc("anvil_reorg", [head - tx.block_number + 1, [[tx.signed_bytes, 1]]])
    moved = web3.eth.get_transaction_receipt(tx.tx_hash)  # type: ignore[arg-type]
    assert moved["blockNumber"] == tx.block_number + 1

    assert find_reorged(executor.client, executor.store, window=1) == []  # settled before the window
    [found] = find_reorged(executor.client, executor.store, window=reorg_window(world.chain_id))
    assert found.trade.trade_id == 1 and "moved from block" in found.reason
    [resettled] = executor.resume()
    landed = resettled.blockchain_transactions[-1]
    assert resettled.is_success() and landed.block_number == moved["blockNumber"]
    assert landed.block_hash == "0x" + bytes(moved["blockHash"]).hex()
    assert executor.store.load(1).is_success() and executed_events(web3, vault, start_block) == 1
    assert executor.run_state.trades_succeeded == 1


def test_receipts_served_late_are_not_taken_for_a_reorg(
        web3: Web3, anvil: AnvilInstance, world: World, vault: Contract, asset_manager: LocalAccount,
        tmp_path: Path) -> None:
    executor = new_executor(anvil, world, vault, tmp_path)
    [trade] = executor.execute_trades([make_trade(1, pair(world.addresses, "WETH", "USDC", 500), "1000")])
    assert trade.is_success()
    proxy = LaggingReceipts(anvil.url)
    with proxy:  # a restart at once, on a provider whose receipts lag
        lagging = RPCClient(proxy.url)
        assert find_reorged(lagging, executor.store, window=reorg_window(world.chain_id)) == []
        assert proxy.hidden == 1  # the receipt was asked for and not served: its block was checked instead
        assert reopen_reorged_trades(lagging, executor.store, RunState(), reorg_window(world.chain_id)) == []
    assert executor.store.load(1).is_success()


def test_settlement_above_the_nodes_head_is_a_rewind_unless_the_node_holds_its_nonce(
        web3: Web3, anvil: AnvilInstance, world: World, vault: Contract, asset_manager: LocalAccount,
        tmp_path: Path) -> None:
    """Head below the settlement block: with the node's pending nonce at or below the transaction's, the node
    came back from an older state (issue 13: a node rewind); with the nonce in its pool, it may lag: wait."""
    snapshot = anvil.rpc("evm_snapshot")
    executor = new_executor(anvil, world, vault, tmp_path)
    [trade] = executor.execute_trades([make_trade(1, pair(world.addresses, "WETH", "USDC", 500), "1000")])
    tx = trade.blockchain_transactions[-1]
    assert trade.is_success() and tx.block_number is not None
    assert anvil.rpc("evm_revert", [snapshot])  # the node's head is now below the settlement block
    assert web3.eth.block_number < tx.block_number
    [found] = find_reorged(executor.client, executor.store, window=reorg_window(world.chain_id))
    assert found.trade.trade_id == 1 and "node rewind" in found.reason

    anvil.rpc("evm_setAutomine", [False])
    try:
        anvil.rpc("eth_sendRawTransaction", [tx.signed_bytes])  # pooled, not mined: the node knows the nonce
        assert find_reorged(executor.client, executor.store, window=reorg_window(world.chain_id)) == []
        assert executor.check_reorgs() == [] and executor.store.load(1).is_success()
    finally:
        anvil.rpc("evm_setAutomine", [True])
