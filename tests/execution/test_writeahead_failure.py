"""A write-ahead store failure: nothing is sent, the nonces go back, the next batch leaves no nonce gap. A
failed "stored as broadcasted" write is made again at the next change; an error while sending still stores
what was sent."""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import StoreUnavailableError, TransientHTTPError
from vaultexec.execution.writeahead import WriteAheadLog
from vaultexec.model import AssetIdentifier, ExchangeKind, TradingPairIdentifier
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.model.transaction import BlockchainTransaction, TxState
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


class FlakyBatches(SQLiteStore):
    """Refuses the next `update_many` calls (`refusals` of them), as a store with a full disk would."""

    refusals = 1

    def update_many(self, trades: Sequence[TradeExecution]) -> None:
        if self.refusals > 0:
            self.refusals -= 1
            raise StoreUnavailableError("disk full (test)")
        super().update_many(trades)


USDC = AssetIdentifier(31337, "0x" + "11" * 20, "USDC", 6)
WETH = AssetIdentifier(31337, "0x" + "22" * 20, "WETH", 18)
PAIR = TradingPairIdentifier(WETH, USDC, "0x" + "33" * 20, "0x" + "44" * 20, 500, ExchangeKind.uniswap_v3)
VAULT = "0x" + "aa" * 20


def signed_and_stored(tmp_path: Path) -> tuple[WriteAheadLog, FlakyBatches, BlockchainTransaction]:
    """A trade stored as started with its signed transaction, followed by a write-ahead log."""
    store = FlakyBatches(tmp_path / "store.db", VAULT)
    trade = make_trade(1, PAIR, "1000")
    trade.mark_started(datetime.datetime(2026, 1, 1))
    tx = BlockchainTransaction(contract_address=VAULT, from_address="0x" + "bb" * 20, nonce=3,
                               tx_hash="0x" + "cd" * 32, signed_bytes="0x02", tx_state=TxState.signed)
    trade.set_blockchain_transactions([tx])
    store.create(trade)
    log = WriteAheadLog(store, VAULT)
    log.track(trade)
    return log, store, tx


def accepted(tx: BlockchainTransaction) -> None:
    """What the tracker does when a node takes the transaction."""
    tx.tx_state, tx.broadcasted_at = TxState.broadcasted, datetime.datetime(2026, 1, 1, 0, 1)


def test_failed_broadcasted_write_is_written_again_at_the_next_change(tmp_path: Path) -> None:
    log, store, tx = signed_and_stored(tmp_path)
    with pytest.raises(StoreUnavailableError), log.batched():
        accepted(tx)
        log.persist_tx(tx)
    assert store.load(1).get_status() is TradeStatus.started  # the batched write was refused
    tx.tx_state = TxState.included
    log.persist_tx(tx)  # the tracker's next state change
    assert store.load(1).get_status() is TradeStatus.broadcasted


def test_trades_sent_before_an_error_inside_the_batch_are_still_stored(tmp_path: Path) -> None:
    log, store, tx = signed_and_stored(tmp_path)
    store.refusals = 0
    with pytest.raises(TransientHTTPError), log.batched():
        accepted(tx)
        log.persist_tx(tx)
        raise TransientHTTPError("HTTP 502 (test)", 502)
    assert store.load(1).get_status() is TradeStatus.broadcasted


def test_an_error_inside_the_batch_is_raised_even_if_storing_fails_too(tmp_path: Path) -> None:
    log, store, tx = signed_and_stored(tmp_path)
    with pytest.raises(TransientHTTPError), log.batched():
        accepted(tx)
        log.persist_tx(tx)
        raise TransientHTTPError("HTTP 502 (test)", 502)
    assert store.load(1).get_status() is TradeStatus.started
    log.persist_tx(tx)
    assert store.load(1).get_status() is TradeStatus.broadcasted
