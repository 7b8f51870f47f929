"""Start-up reconciliation (`resume_trades`) and manual closing of stuck trades (`repair_trades`).

resume: every trade the store holds as started or broadcasted re-enters tracking with its *stored*
transaction: a receipt settles it; a transaction the node does not know whose nonce is unused is sent
again, same bytes; a nonce used by another transaction fails the trade. Nothing is ever re-signed with a
new nonce, so a trade can never execute twice.

repair: for trades resume cannot finish. A failed trade, or one whose nonce was consumed without any of
its transactions landing, is marked repaired (nothing of it executed). A trade that could still land, or
that did land, is refused: resume() or settlement must handle it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vaultexec.chain.broadcast import TransactionTracker
from vaultexec.chain.revert import fetch_revert
from vaultexec.chain.rpc import RPCClient
from vaultexec.errors import RPCReplyError
from vaultexec.execution.settle import settle_trades, track_and_settle
from vaultexec.execution.writeahead import WriteAheadLog
from vaultexec.model.run_state import RunState, utc_now
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.model.transaction import BlockchainTransaction, TxState
from vaultexec.store.protocol import ExecutionStore

logger = logging.getLogger(__name__)

IN_FLIGHT = (TradeStatus.started.value, TradeStatus.broadcasted.value)


def _last_tx(trade: TradeExecution) -> BlockchainTransaction | None:
    return trade.blockchain_transactions[-1] if trade.blockchain_transactions else None


def resume_trades(client: RPCClient, tracker: TransactionTracker, log: WriteAheadLog, store: ExecutionStore,
                  vault: str, run_state: RunState,
                  native_token_price: Decimal | None = None) -> list[TradeExecution]:
    """Reconcile the store's in-flight trades with the chain (see module doc); returns those settled."""
    pending = store.list_by_status(*IN_FLIGHT)
    if not pending:
        return []
    logger.info("resume: %d trades in flight: %s", len(pending), [t.trade_id for t in pending])
    resumable, settled = [], []
    for trade in pending:
        tx = _last_tx(trade)
        if tx is None or not tx.signed_bytes:
            _fail_never_signed(trade, store, run_state)
            settled.append(trade)
            continue
        if tx.block_number is not None and tx.tx_state in (TxState.included, TxState.confirmed, TxState.failed):
            tx.tx_state = TxState.broadcasted  # re-check the receipt: a reorg may have removed it
        log.track(trade)
        resumable.append(trade)
    return settled + track_and_settle(client, tracker, resumable, store, vault, run_state, native_token_price)


def _fail_never_signed(trade: TradeExecution, store: ExecutionStore, run_state: RunState) -> None:
    reason = "no signed transaction was stored for it: nothing can have been sent"
    trade.add_note(f"resume: {reason}")
    trade.mark_failed(utc_now())
    run_state.record_trade_failure(trade.trade_id, reason)
    store.update(trade)


@dataclass
class RepairResult:
    """Outcome of `repair_trades`: repaired trades, trades it found landed and settled, refusals by id."""

    repaired: list[TradeExecution] = field(default_factory=list)
    settled: list[TradeExecution] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def repair_trades(client: RPCClient, store: ExecutionStore, vault: str, run_state: RunState,
                  trade_ids: Sequence[int] | None = None, note: str | None = None,
                  native_token_price: Decimal | None = None) -> RepairResult:
    """Repair failed or unlandable trades (all candidates, or only `trade_ids`); see the module doc."""
    result = RepairResult()
    candidates = {t.trade_id: t for t in store.list_by_status(*IN_FLIGHT, TradeStatus.failed.value)}
    wanted = list(candidates) if trade_ids is None else list(trade_ids)
    for trade_id in wanted:
        if trade_id not in candidates:
            result.refused[trade_id] = "not started, broadcasted or failed: nothing to repair"
    chosen = [candidates[i] for i in wanted if i in candidates]
    in_flight = [t for t in chosen if t.is_pending() and _last_tx(t) is not None]
    landed = _look_up_landed(client, in_flight)
    for trade in chosen:
        tx = _last_tx(trade)
        if trade.is_failed() or tx is None or not tx.signed_bytes:
            _mark_repaired(trade, store, run_state, note or "repaired: nothing of this trade executed")
            result.repaired.append(trade)
        elif trade.trade_id in landed:
            continue
        elif landed.get(-trade.trade_id) is not None:
            _mark_repaired(trade, store, run_state,
                           note or f"repaired: nonce {tx.nonce} was used by another transaction; none landed")
            result.repaired.append(trade)
        else:
            result.refused[trade.trade_id] = (f"nonce {tx.nonce} is still unused: its transaction "
                                              f"{tx.tx_hash} could still land; run resume() instead")
    to_settle = [t for t in chosen if t.trade_id in landed]
    for trade in settle_trades(client, to_settle, vault, run_state, native_token_price):
        store.update(trade)
        result.settled.append(trade)
    for trade in to_settle:
        if trade.is_pending():
            result.refused[trade.trade_id] = (f"its transaction landed but cannot be settled "
                                              f"({run_state.last_errors.get(trade.trade_id)}); inspect it")
    return result


def _look_up_landed(client: RPCClient, trades: list[TradeExecution]) -> dict[int, Any]:
    """One batch: receipts of every hash and senders' mined nonces.

    Result: trade id -> receipt for landed trades; -trade id -> True for trades whose nonce another
    transaction consumed. Landed transactions get their receipt fields (and decoded reason) recorded.
    """
    if not trades:
        return {}
    slots = [(t, h) for t in trades for h in _last_tx(t).get_all_tx_hashes()]  # type: ignore[union-attr]
    senders = sorted({str(_last_tx(t).from_address) for t in trades})  # type: ignore[union-attr]
    replies = client.batch([("eth_getTransactionCount", [s, "latest"]) for s in senders]
                           + [("eth_getTransactionReceipt", [h]) for _, h in slots])
    mined = {s: int(r.value(), 16) for s, r in zip(senders, replies, strict=False)}
    found: dict[int, Any] = {}
    for (trade, _), reply in zip(slots, replies[len(senders):], strict=True):
        if reply.value() is not None:
            found.setdefault(trade.trade_id, reply.result)
    for trade in trades:
        tx = _last_tx(trade)
        assert tx is not None and tx.nonce is not None
        receipt = found.get(trade.trade_id)
        if receipt is not None:
            _record_receipt(client, tx, receipt)
        elif mined[str(tx.from_address)] > tx.nonce:
            found[-trade.trade_id] = True
    return found


def _record_receipt(client: RPCClient, tx: BlockchainTransaction, receipt: dict[str, Any]) -> None:
    tx.tx_hash = str(receipt["transactionHash"])
    tx.block_number, tx.block_hash = int(receipt["blockNumber"], 16), str(receipt["blockHash"])
    tx.status = int(receipt["status"], 16) == 1
    tx.realised_gas_units_consumed = int(receipt["gasUsed"], 16)
    tx.realised_gas_price = int(receipt["effectiveGasPrice"], 16)
    tx.included_at = tx.included_at or utc_now()
    tx.tx_state = TxState.confirmed if tx.status else TxState.failed
    if not tx.status:
        try:
            decoded = fetch_revert(client, tx.tx_hash)
            tx.revert_reason, tx.revert_data = str(decoded), "0x" + decoded.raw.hex()
            tx.revert_reason_approximate = decoded.approximate
        except (RPCReplyError, ValueError) as exc:
            logger.warning("cannot decode why %s failed: %s", tx.tx_hash, exc)


def _mark_repaired(trade: TradeExecution, store: ExecutionStore, run_state: RunState, note: str) -> None:
    trade.mark_repaired(utc_now(), note)
    run_state.record_trade_repair(trade.trade_id)
    store.update(trade)
    logger.warning("trade %d repaired: %s", trade.trade_id, note)
