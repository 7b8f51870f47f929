"""trade-executor's objects, read and written through their documented attributes and methods (duck-typed).

Nothing here imports trade-executor: its TradeExecution is read with `to_json()` (its dataclasses-json
form, the same JSON its state files hold) and converted with `model.compat`; results go back through its
own methods (`State.mark_trade_success` / `mark_trade_failed`, which call the trade's `mark_success` /
`mark_failed`; `TradeExecution.mark_broadcasted`, `set_blockchain_transactions`) and its
`BlockchainTransaction` fields. Timestamps on its side are naive UTC, prices floats, quantities Decimal.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vaultexec.errors import BadInputError
from vaultexec.model.compat import RouterMap, trade_from_executor_dict
from vaultexec.model.jsontext import parse_json_text
from vaultexec.model.trade import TradeExecution
from vaultexec.model.transaction import BlockchainTransaction

logger = logging.getLogger(__name__)

#: Builds one of trade-executor's BlockchainTransaction objects from keyword fields.
TransactionFactory = Callable[..., Any]


@dataclass
class ExecutorTransaction:
    """Stand-in with trade-executor's `BlockchainTransaction` field names, used when trade-executor is not
    importable (its real class is used when it is; see `default_transaction_factory`)."""

    chain_id: int | None = None
    from_address: str | None = None
    contract_address: str | None = None
    function_selector: str | None = None
    tx_hash: str | None = None
    nonce: int | None = None
    details: dict[str, Any] | None = None
    signed_bytes: str | None = None
    broadcasted_at: datetime.datetime | None = None
    included_at: datetime.datetime | None = None
    block_number: int | None = None
    block_hash: str | None = None
    status: bool | None = None
    realised_gas_units_consumed: int | None = None
    realised_gas_price: int | None = None
    revert_reason: str | None = None
    other: dict[str, Any] = field(default_factory=dict)
    notes: str | None = ""

    def is_success(self) -> bool:
        return bool(self.status)

    def is_reverted(self) -> bool:
        return self.status is False


def default_transaction_factory() -> TransactionFactory:
    """trade-executor's own BlockchainTransaction class when it is installed, else `ExecutorTransaction`."""
    try:
        from tradeexecutor.state.blockhain_transaction import (  # type: ignore[import-not-found]
            BlockchainTransaction as ExecutorBlockchainTransaction,
        )
    except ImportError:
        return ExecutorTransaction
    return ExecutorBlockchainTransaction  # type: ignore[no-any-return]


def naive_utc(ts: datetime.datetime) -> datetime.datetime:
    """trade-executor asserts naive UTC timestamps; an aware one is converted."""
    if ts.tzinfo is None:
        return ts
    return ts.astimezone(datetime.UTC).replace(tzinfo=None)


def trade_from_executor(trade: Any, routers: RouterMap, max_slippage: float | None = None) -> TradeExecution:
    """Our planned TradeExecution for one of trade-executor's trades (its `to_json()` through `model.compat`).

    trade-executor starts a trade (`State.start_execution_all`) before its routing model sets it up; our copy is
    taken back to planned, since our pipeline starts it when it signs. A trade that already carries
    transactions is refused: it may have been sent, and only `rebroadcast=True` / repair may touch it.
    """
    to_json = getattr(trade, "to_json", None)
    if not callable(to_json):
        raise BadInputError(f"{type(trade).__name__} has no to_json(): pass trade-executor TradeExecution objects")
    if getattr(trade, "blockchain_transactions", None):
        raise BadInputError(
            f"trade #{getattr(trade, 'trade_id', '?')} already has blockchain transactions: it may have been sent. "
            "Call execute_trades(..., rebroadcast=True) or repair_unconfirmed_trades(state) instead.")
    ours = trade_from_executor_dict(parse_json_text(to_json()), routers)
    ours.started_at = None
    ours.broadcasted_at = None
    if ours.slippage_tolerance is None and max_slippage is not None:
        ours.slippage_tolerance = Decimal(repr(max_slippage))
    return ours


def executor_transaction(tx: BlockchainTransaction, factory: TransactionFactory) -> Any:
    """trade-executor's BlockchainTransaction carrying our transaction's facts (signed bytes, hash, nonce...)."""
    te_tx = factory(chain_id=tx.chain_id, from_address=tx.from_address, contract_address=tx.contract_address,
                    function_selector=tx.function_selector, tx_hash=tx.tx_hash, nonce=tx.nonce,
                    details=dict(tx.details) if tx.details else None, signed_bytes=tx.signed_bytes,
                    notes=tx.notes or "")
    update_executor_transaction(te_tx, tx)
    return te_tx


def update_executor_transaction(te_tx: Any, tx: BlockchainTransaction) -> None:
    """Copy what tracking learnt (broadcast, receipt, revert reason) onto trade-executor's transaction."""
    for name in ("tx_hash", "nonce", "signed_bytes", "broadcasted_at", "included_at", "block_number", "block_hash",
                 "status", "realised_gas_units_consumed", "realised_gas_price", "revert_reason"):
        value = getattr(tx, name)
        if value is not None:
            setattr(te_tx, name, value)
    if tx.revert_data and isinstance(getattr(te_tx, "other", None), dict):
        te_tx.other["revert_data"] = tx.revert_data


def _price_float(value: Decimal | None) -> float:
    return float(value) if value is not None else 0.0


def write_back(state: Any, te_trade: Any, ours: TradeExecution, now: datetime.datetime,
               factory: TransactionFactory) -> bool:
    """Record our settled trade on trade-executor's trade through its State's methods; True when it changed.

    Success: `state.mark_trade_success(executed_at, trade, executed_price, executed_amount, executed_reserve,
    lp_fees, native_token_price, cost_of_gas=...)` (it updates the position and calls `trade.mark_success`).
    Failure: `state.mark_trade_failed(failed_at, trade)`. A trade still in flight is left as it is.
    """
    txs = list(getattr(te_trade, "blockchain_transactions", None) or [])
    for te_tx, tx in zip(txs, ours.blockchain_transactions, strict=False):
        update_executor_transaction(te_tx, tx)
    if ours.is_success():
        if getattr(te_trade, "executed_at", None) is not None:
            return False
        assert ours.executed_at is not None and ours.executed_quantity is not None
        assert ours.executed_reserve is not None
        if getattr(te_trade, "broadcasted_at", None) is None:
            te_trade.mark_broadcasted(naive_utc(ours.broadcasted_at or now), rebroadcast=True)
        gas = _cost_of_gas(ours)
        state.mark_trade_success(naive_utc(ours.executed_at), te_trade, _price_float(ours.executed_price),
                                 ours.executed_quantity, ours.executed_reserve, _price_float(ours.lp_fees_paid),
                                 None if ours.native_token_price is None else float(ours.native_token_price),
                                 cost_of_gas=gas)
        return True
    if ours.get_status().value in ("failed", "repaired"):
        if getattr(te_trade, "failed_at", None) is not None:
            return False
        if not txs and ours.blockchain_transactions:
            te_trade.set_blockchain_transactions([executor_transaction(ours.blockchain_transactions[-1],
                                                                       factory)])
        state.mark_trade_failed(naive_utc(ours.failed_at or ours.repaired_at or now), te_trade)
        return True
    return False


def _cost_of_gas(ours: TradeExecution) -> Decimal | None:
    """Native token the trade's landed transaction paid (gas used x effective price), exact."""
    tx = ours.blockchain_transactions[-1] if ours.blockchain_transactions else None
    if tx is None or tx.realised_gas_units_consumed is None or tx.realised_gas_price is None:
        return None
    return Decimal(tx.realised_gas_units_consumed * tx.realised_gas_price).scaleb(-18)
