"""A batch of several chunks: each chunk is settled and stored while the node takes the next chunk's sends
(`execution.background`), and an error in a later chunk never leaves an earlier, landed chunk unsettled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import InsufficientBalanceError
from vaultexec.execution.executor import (
    STAGE_BROADCAST,
    STAGE_PLANNED,
    STAGE_SETTLED,
    STAGE_SIGNED,
    VaultExecutionModel,
)
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.world import World

from exec_pipeline import make_executor, make_trade, pair, register_world, world_pairs  # isort: skip


def one_trade_chunks(web3: Web3, world: World, vault: Contract, tmp_path: Path) -> VaultExecutionModel:
    register_world(world.addresses)
    executor = make_executor(web3.provider.endpoint_uri, vault.address, world.chain_id,  # type: ignore[attr-defined]
                             world_pairs(world.addresses), SQLiteStore(tmp_path / "s.db", vault.address), RunState())
    executor.config = replace(executor.config, chunk_size=1)
    return executor


def three_trades(world: World) -> list[TradeExecution]:
    a = world.addresses
    return [make_trade(1, pair(a, "WETH", "USDC"), "1000"), make_trade(2, pair(a, "WETH", "USDC", 500), "1000"),
            make_trade(3, pair(a, "WETH", "USDC", 3000), "1000")]


def test_a_chunk_is_settled_while_the_next_one_is_sent(web3: Web3, world: World, vault: Contract,
                                                       tmp_path: Path) -> None:
    executor = one_trade_chunks(web3, world, vault, tmp_path)
    stages: list[tuple[str, int]] = []
    executor.on_stage = lambda stage, trades: stages.extend((stage, t.trade_id) for t in trades)
    before = executor.client.stats.snapshot()
    settled = executor.execute_trades(three_trades(world))
    assert [t.get_status() for t in settled] == [TradeStatus.success] * 3
    assert [executor.store.load(t).get_status() for t in (1, 2, 3)] == [TradeStatus.success] * 3
    # chunk 1 settles after chunk 2 is signed and before chunk 2 is reported broadcast; the last at the end
    assert stages.index((STAGE_SIGNED, 2)) < stages.index((STAGE_SETTLED, 1)) < stages.index((STAGE_BROADCAST, 2))
    assert stages.index((STAGE_SIGNED, 3)) < stages.index((STAGE_SETTLED, 2)) < stages.index((STAGE_BROADCAST, 3))
    assert stages[-1] == (STAGE_SETTLED, 3)
    # the sends went through the sending connection and are counted with the rest
    used = executor.client.stats.since(before)
    assert used.requests_by_method["eth_sendRawTransaction"] == 3
    assert executor.run_state.trades_broadcast == 3 and executor.run_state.trades_succeeded == 3


def test_an_error_in_a_later_chunk_leaves_the_landed_chunk_settled(web3: Web3, world: World, vault: Contract,
                                                                   tmp_path: Path) -> None:
    """Chunk 2 cannot pay its gas (refused before signing): chunk 1, sent and tracked, is settled and stored
    before the error goes up; chunk 3 stays planned."""
    executor = one_trade_chunks(web3, world, vault, tmp_path)
    manager = executor.wallet.address
    balance = web3.eth.get_balance(manager)  # type: ignore[arg-type]

    def drain_gas(stage: str, trades: Sequence[TradeExecution]) -> None:
        if stage == STAGE_PLANNED and trades[0].trade_id == 2:
            web3.provider.make_request("anvil_setBalance", [manager, "0x0"])  # type: ignore[arg-type]

    executor.on_stage = drain_gas
    trades = three_trades(world)
    try:
        with pytest.raises(InsufficientBalanceError):
            executor.execute_trades(trades)
    finally:
        web3.provider.make_request("anvil_setBalance", [manager, hex(balance)])  # type: ignore[arg-type]
    first, second, third = trades
    assert first.get_status() is TradeStatus.success and first.executed_quantity
    assert executor.store.load(1).get_status() is TradeStatus.success
    assert executor.run_state.trades_succeeded == 1
    assert second.get_status() is TradeStatus.planned and third.get_status() is TradeStatus.planned


def test_a_chunk_mined_into_one_block_is_read_with_that_blocks_receipts(web3: Web3, world: World, vault: Contract,
                                                                        tmp_path: Path) -> None:
    """The executor tells the tracker the block its fees were quoted at: three trades mined into one block
    after it cost one `eth_getBlockReceipts`, no receipt by hash."""
    executor = one_trade_chunks(web3, world, vault, tmp_path)
    executor.config = replace(executor.config, chunk_size=None)

    def one_block(stage: str, trades: Sequence[TradeExecution]) -> None:
        if stage == STAGE_SIGNED:
            web3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
        elif stage == STAGE_BROADCAST:
            web3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
            web3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]

    executor.on_stage = one_block
    before = executor.client.stats.snapshot()
    settled = executor.execute_trades(three_trades(world))
    assert [t.get_status() for t in settled] == [TradeStatus.success] * 3
    assert len({t.blockchain_transactions[-1].block_number for t in settled}) == 1
    used = executor.client.stats.since(before).requests_by_method
    assert used["eth_getBlockReceipts"] == 1 and used["eth_getTransactionReceipt"] == 0


def test_an_error_while_settling_beside_the_sends_leaves_the_sent_chunk_stored_as_broadcasted(
        web3: Web3, world: World, vault: Contract, tmp_path: Path) -> None:
    """Storing chunk 1's settlement fails (a store bug) while chunk 2's sends are out: before the error goes up,
    chunk 2 is stored as broadcasted (its held write), so the store says it may be in a pool."""
    class FailingSettlementWrite(SQLiteStore):
        def update_many(self, trades: Sequence[TradeExecution]) -> None:
            if any(t.is_success() for t in trades):
                raise RuntimeError("store bug (test)")
            super().update_many(trades)

    executor = one_trade_chunks(web3, world, vault, tmp_path)
    executor.store = FailingSettlementWrite(tmp_path / "s.db", vault.address)
    trades = three_trades(world)
    with pytest.raises(RuntimeError, match="store bug"):
        executor.execute_trades(trades)
    second = executor.store.load(2)
    assert second.get_status() is TradeStatus.broadcasted
    assert second.blockchain_transactions[-1].broadcasted_at is not None
    assert trades[2].get_status() is TradeStatus.planned
