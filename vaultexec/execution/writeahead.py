"""Write-ahead: a trade's signed transaction (raw bytes, hash, nonce) is stored before it can be broadcast.

The rule that keeps trades from being lost or doubled: once signed bytes for a trade may reach a node,
the store holds them, so a restarted process finds them (`resume()`) and re-sends *those* bytes instead
of signing a new transaction for the trade. Replacements (same nonce, bumped fees) are stored before
they are sent too: `WriteAheadLog.persist_tx` is the tracker's `persist` callback.

Once a node accepted a trade's transaction the trade is stored as broadcasted, with the transaction's
`broadcasted_at`, with one `update_many` for a whole batch (`WriteAheadLog.batched`); if that write fails, the
next state change of each of its transactions stores the trade again. The executor holds that write back
(`batched(hold=True)`) and drops it when the chunk is mined at once: the settlement write follows within
milliseconds, and a crash in between loses nothing, as `resume()` takes every stored transaction, started or
broadcasted, as possibly sent (a later refusal to re-send it is never taken for "nothing was executed").
A chunk that waits to be mined is stored as broadcasted before it is tracked (`store_held`).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from vaultexec.chain.gas import FeeQuote
from vaultexec.chain.wallet import HotWallet
from vaultexec.errors import DuplicateRecordError, StoreError
from vaultexec.model.deltas import AssetDelta
from vaultexec.model.run_state import utc_now
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.model.transaction import BlockchainTransaction
from vaultexec.store.protocol import ExecutionStore
from vaultexec.vault.direct import vault_function_name

logger = logging.getLogger(__name__)

VAULT_FUNCTION = "execute"


@dataclass(frozen=True)
class SignRequest:
    """What to sign for one trade: the vault's `execute` calldata, its gas limit and asset deltas."""

    trade: TradeExecution
    calldata: bytes
    gas_limit: int
    asset_deltas: Sequence[AssetDelta] = ()


def save_trade(store: ExecutionStore, trade: TradeExecution) -> None:
    """Create the trade's record, or update it when the caller already stored it (e.g. as planned)."""
    try:
        store.create(trade)
    except DuplicateRecordError:
        store.update(trade)


@dataclass
class WriteAheadLog:
    """Signs trades' vault transactions and stores them before anything is sent."""

    store: ExecutionStore
    vault_address: str
    #: id(tx) -> (trade, what was last stored of its transaction); lets `persist_tx` store only what matters.
    _tracked: dict[int, tuple[TradeExecution, _StoredTx]] = field(default_factory=dict)
    #: Inside `batched()` (None outside): by trade id, the trades `persist_tx` must store, with id(tx) and
    #: what was stored of their transaction before the batch (restored if the batched write fails).
    _deferred: dict[int, _Deferred] | None = field(default=None, init=False, repr=False)
    #: The write a `batched(hold=True)` left for `store_held` (or `drop_held`).
    _held: dict[int, _Deferred] = field(default_factory=dict, init=False, repr=False)

    def sign_and_store(self, requests: Sequence[SignRequest], wallet: HotWallet, fees: FeeQuote,
                       now: datetime.datetime) -> list[TradeExecution]:
        """Sign each request with the next nonce, mark its trade started, store the batch; in nonce order.

        The batch is stored with one `create_many` (one durable write, all or nothing). If the store
        refuses it, every trade goes back to planned, the nonces go back to the wallet (nothing was sent,
        so the next batch leaves no gap) and the error is raised. Trades the caller stored earlier (e.g.
        as planned) are saved one by one instead; there a failure stops the batch, the trades stored
        before it are returned (safe to send) and the rest go back to planned with their nonces.
        """
        trades: list[TradeExecution] = []
        try:
            for request in requests:
                trades.append(self._sign(request, wallet, fees, now))
        except Exception:
            self._unsign(trades, wallet)
            raise
        try:
            self.store.create_many(trades)
        except DuplicateRecordError:
            return self._store_one_by_one(trades, wallet)
        except Exception:
            self._unsign(trades, wallet)
            raise
        for trade in trades:
            self.track(trade)
        return trades

    def _sign(self, request: SignRequest, wallet: HotWallet, fees: FeeQuote,
              now: datetime.datetime) -> TradeExecution:
        trade = request.trade
        tx = BlockchainTransaction(contract_address=self.vault_address,
                                   function_selector=vault_function_name(request.calldata),
                                   asset_deltas=list(request.asset_deltas))
        wallet.sign_blockchain_transaction(tx, "0x" + request.calldata.hex(), request.gas_limit, fees)
        if trade.get_status() is TradeStatus.planned:
            trade.mark_started(now)
        trade.set_blockchain_transactions([tx])
        return trade

    @staticmethod
    def _unsign(trades: Sequence[TradeExecution], wallet: HotWallet) -> None:
        """Back to planned (nothing stored, nothing sent) and give the nonces back to the wallet."""
        nonces = [n for t in trades for n in (tx.nonce for tx in t.blockchain_transactions) if n is not None]
        for trade in trades:
            trade.started_at, trade.blockchain_transactions = None, []
        if nonces:
            wallet.release_nonces(nonces)

    def _store_one_by_one(self, trades: list[TradeExecution], wallet: HotWallet) -> list[TradeExecution]:
        stored: list[TradeExecution] = []
        for n, trade in enumerate(trades):
            try:
                save_trade(self.store, trade)
            except Exception:
                self._unsign(trades[n:], wallet)
                if not stored:
                    raise
                logger.exception("store refused trade %d: stopping the batch after %d stored trades",
                                 trade.trade_id, len(stored))
                break
            self.track(trade)
            stored.append(trade)
        return stored

    def track(self, trade: TradeExecution) -> None:
        """Follow `trade`'s last transaction so replacements of it are stored before they are sent."""
        tx = trade.blockchain_transactions[-1]
        self._tracked[id(tx)] = (trade, _StoredTx.of(tx))

    def persist_tx(self, tx: BlockchainTransaction) -> None:
        """Tracker callback: store the trade when its transaction has a new signed version (before it is
        sent) or reached a node for the first time (the trade is then broadcasted); nothing otherwise."""
        entry = self._tracked.get(id(tx))
        if entry is None:
            return
        trade, stored = entry
        current = _StoredTx.of(tx)
        if current == stored:
            return
        if current.sent and trade.get_status() is TradeStatus.started:
            sent_at = tx.broadcasted_at or utc_now()
            trade.mark_broadcasted(max(sent_at, trade.started_at or sent_at))
        if self._deferred is not None:
            self._deferred.setdefault(trade.trade_id, _Deferred(trade, id(tx), stored))
        else:
            try:
                self.store.update(trade)
            except StoreError as exc:
                if current.hashes != stored.hashes:
                    raise  # a new signed version is stored before it is sent, or not sent at all
                logger.error("trade %d: its transaction is out, but storing that failed (tracking goes on; the "
                             "next change or resume() stores it again): %s", trade.trade_id, exc)
                return
        self._tracked[id(tx)] = (trade, current)
        if current.hashes != stored.hashes:
            logger.info("trade %d: replacement %s stored before broadcast", trade.trade_id, tx.tx_hash)

    @contextmanager
    def batched(self, hold: bool = False) -> Iterator[None]:
        """Inside, `persist_tx` only collects the trades to store; leaving stores them with one `update_many`
        (leaving with an error too: then best effort, a store error is logged and the first error raised).
        If that write fails, the next `persist_tx` of those trades writes them again. Only around sends: a
        replacement must be stored before it is sent, so never around anything that re-signs.

        `hold`: a clean exit keeps the write for `store_held` or `drop_held` (only for first sends of stored
        transactions: what it holds back is their broadcasted state, never signed bytes)."""
        self._deferred = {}
        try:
            yield
        except BaseException:
            try:
                self._store_deferred()
            except Exception as exc:
                logger.error("storing the trades sent before that error failed too: %s", exc)
            raise
        if hold:
            self._held, self._deferred = self._deferred, None
        else:
            self._store_deferred()

    def store_held(self) -> None:
        """Make the write `batched(hold=True)` held back (one `update_many`; on failure as `batched`)."""
        self._deferred, self._held = self._held, {}
        self._store_deferred()

    def drop_held(self) -> None:
        """Forget the held write: the trades' next write (their settlement) stores their state."""
        self._held = {}

    def _store_deferred(self) -> None:
        """One `update_many` of the collected trades; on failure, forget that they were stored."""
        deferred, self._deferred = self._deferred or {}, None
        if not deferred:
            return
        try:
            self.store.update_many([entry.trade for entry in deferred.values()])
        except BaseException:
            for entry in deferred.values():
                self._tracked[entry.tx_id] = (entry.trade, entry.stored_before)
            raise


@dataclass(frozen=True)
class _Deferred:
    """A trade `persist_tx` must store at the end of `batched()`, and what the store held of its transaction."""

    trade: TradeExecution
    tx_id: int
    stored_before: _StoredTx


@dataclass(frozen=True)
class _StoredTx:
    """What `persist_tx` compares: the signed hashes, and whether a node accepted a version."""

    hashes: tuple[str, ...]
    sent: bool

    @classmethod
    def of(cls, tx: BlockchainTransaction) -> _StoredTx:
        return cls(tuple(tx.get_all_tx_hashes()), tx.broadcasted_at is not None)
