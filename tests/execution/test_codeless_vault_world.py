"""A successful transaction with no logs because the vault address has no code (issue 13, item 5).

Before the fix settlement took the missing logs for a reorg, tracked the trade again and again, and left it
broadcasted forever. The receipt is still canonical, so this is no reorg: nothing was executed, the trade
fails with that reason (its gas is accounted), and resume() has nothing left to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.execution.executor import PlannedTrade
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.world import World

from exec_pipeline import make_executor, make_trade, pair, register_world, world_pairs  # isort: skip

CODELESS = "0x00000000000000000000000000000000c0de1e55"


def test_success_without_logs_at_a_codeless_vault_fails_the_trade(web3: Web3, world: World, vault: Contract,
                                                                   asset_manager: LocalAccount,
                                                                   tmp_path: Path) -> None:
    assert web3.eth.get_code(Web3.to_checksum_address(CODELESS)) == b""
    register_world(world.addresses)
    executor = make_executor(web3.provider.endpoint_uri, CODELESS, world.chain_id,  # type: ignore[attr-defined]
                             world_pairs(world.addresses), SQLiteStore(tmp_path / "store.db", CODELESS), RunState())

    class Fixed:
        def plan_trades(self, planned: Sequence[TradeExecution]) -> list[PlannedTrade]:
            return [PlannedTrade(t, bytes.fromhex("deadbeef"), 60_000) for t in planned]

    executor.planner = Fixed()
    [trade] = executor.execute_trades([make_trade(1, pair(world.addresses, "WETH", "USDC"), "500")])
    tx = trade.blockchain_transactions[-1]
    receipt = web3.eth.get_transaction_receipt(tx.tx_hash)  # type: ignore[arg-type]
    assert receipt["status"] == 1 and receipt["logs"] == []
    assert trade.get_status() is TradeStatus.failed, trade.notes
    assert "has no code" in (trade.get_revert_reason() or ""), trade.get_revert_reason()
    assert executor.store.load(1).is_failed()
    assert executor.resume() == []
