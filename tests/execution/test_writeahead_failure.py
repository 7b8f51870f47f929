"""A write-ahead store failure: nothing is sent, the nonces go back, the next batch leaves no nonce gap."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import StoreUnavailableError
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeStatus
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.world import World

from exec_pipeline import make_executor, make_trade, pair, register_world  # isort: skip


def test_store_refusing_the_batch_leaves_no_nonce_gap(web3: Web3, world: World, vault: Contract,
                                                      asset_manager: LocalAccount, tmp_path: Path) -> None:
    register_world(world.addresses)
    path = tmp_path / "store.db"
    store = SQLiteStore(path, vault.address, busy_timeout=0.2)
    a = world.addresses
    executor = make_executor(web3.provider.endpoint_uri, vault.address, world.chain_id,  # type: ignore[attr-defined]
                             [pair(a, "WETH", "USDC"), pair(a, "WETH", "USDC", 500)], store, RunState())
    chain_nonce = web3.eth.get_transaction_count(asset_manager.address)

    # Another process holds SQLite's write lock: the write-ahead batch cannot be stored.
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    doomed = [make_trade(1, pair(a, "WETH", "USDC"), "300"), make_trade(2, pair(a, "WETH", "USDC", 500), "300")]
    with pytest.raises(StoreUnavailableError):
        executor.execute_trades(doomed)
    blocker.execute("ROLLBACK")
    blocker.close()
    assert all(t.get_status() is TradeStatus.planned and not t.blockchain_transactions for t in doomed)
    assert executor.store.count() == 0
    assert web3.eth.get_transaction_count(asset_manager.address, "pending") == chain_nonce  # nothing sent
    assert executor.wallet.next_nonce == chain_nonce  # both nonces given back

    # The next batch (same wallet, no re-sync from a restart) uses those nonces: every trade lands.
    trades = [make_trade(3, pair(a, "WETH", "USDC"), "300"), make_trade(4, pair(a, "WETH", "USDC", 500), "300",
                                                                         buy=False)]
    settled = executor.execute_trades(trades)
    assert all(t.is_success() for t in settled), [t.notes for t in settled]
    nonces = sorted(t.blockchain_transactions[-1].nonce or 0 for t in settled)
    assert nonces == [chain_nonce, chain_nonce + 1]
    assert web3.eth.get_transaction_count(asset_manager.address) == chain_nonce + 2
