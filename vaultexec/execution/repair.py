"""Start-up reconciliation (`resume_trades`) and manual closing of stuck trades (`repair_trades`).

resume: every trade the store holds as started or broadcasted re-enters tracking with its *stored*
transaction: a receipt settles it; a transaction the node does not know whose nonce is unused is sent
again, same bytes; a nonce used by another transaction fails the trade. Every stored transaction counts as
possibly sent (`TransactionTracker.assume_sent`), even one stored only as signed: the crash may have come
between the send and the write recording it, so a node refusing the re-send never fails the trade (it
stays in flight; resume() or repair() closes it once the chain says what happened). Nothing is ever
re-signed with a new nonce, so a trade can never execute twice.

repair: for trades resume cannot finish; it never says "nothing executed" without asking the chain (one
batched request: each sender's mined nonce, the receipt and the by-hash lookup of every stored hash; and
when a nonce is used with none of the trade's hashes found, one more: the sender's nonce `confirmations`
blocks below the head).

- never signed -> repaired (nothing can have been sent);
- nonce used by another transaction (no hash of the trade known to the node) at least `confirmations`
  blocks ago -> repaired (nothing of it executed); used in the last blocks -> refused (wait for them);
- nonce used while a hash of the trade is still in the node's pool -> refused (a lagging node: try again);
- a failed trade whose nonce is unused and none of whose hashes the node knows -> repaired;
- a receipt with fewer than `confirmations` blocks on top of it -> refused (wait for them: a shallow
  block can still be reorged out);
- a receipt that reverted -> a pending trade settles failed, a failed one is repaired (gas spent, nothing
  else);
- a successful receipt -> a pending trade is settled; a trade that landed but cannot be settled (or a
  failed trade whose transaction did execute) is refused unless `force`: then it is repaired with the
  operator's note and the receipt's facts (hash, block, status, gas);
- a hash in a block whose receipt the node does not serve yet -> refused (try again shortly);
- a pending trade whose nonce is unused -> refused (resume() finishes it); a failed trade with a hash in the
  pool -> refused (it may still land: repair again once it is mined, with force if it succeeded);
- a hash with no sender or nonce stored (nothing to ask the chain about) -> refused.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vaultexec.chain.broadcast import TransactionTracker
from vaultexec.chain.receipts import apply_receipt, receipt_block
from vaultexec.chain.revert import known_errors, record_revert
from vaultexec.chain.rpc import RPCClient
from vaultexec.errors import BadInputError, RecordNotFoundError
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
    # the crash may have come between a send and the write recording it: a refusal is never final here
    tracker.assume_sent([trade.blockchain_transactions[-1] for trade in resumable])
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


@dataclass
class ChainFacts:
    """What the chain says about one trade's stored transaction (all its hashes)."""

    nonce_mined: bool
    #: The head block when the chain was asked.
    head: int = 0
    receipt: dict[str, Any] | None = None
    #: A hash is known to the node with a block number, but no receipt was served (a lagging node).
    in_block: bool = False
    #: A hash is known to the node, not mined yet.
    in_pool: bool = False
    #: The nonce was already used `confirmations` blocks below the head (asked only when nothing of the
    #: trade was found: then a reorg can no longer bring one of its transactions back).
    nonce_settled: bool = False
    #: Why the node could not say whether it was (e.g. it keeps no state that old).
    settled_unknown: str | None = None

    def used_by_another(self) -> bool:
        """The nonce is used and none of the trade's hashes is known to the node."""
        return self.nonce_mined and self.receipt is None and not self.in_block and not self.in_pool


def repair_trades(client: RPCClient, store: ExecutionStore, vault: str, run_state: RunState,
                  trade_ids: Sequence[int] | None = None, note: str | None = None,
                  native_token_price: Decimal | None = None, force: bool = False,
                  confirmations: int = 0) -> RepairResult:
    """Repair the trades of `trade_ids` (default: every started, broadcasted or failed one); see the module
    doc. `force` (needs `trade_ids` and a `note`) closes trades that landed but cannot be settled; a receipt
    counts once `confirmations` blocks are on top of it (the chain's depth, as the executor's tracker)."""
    note = (note or "").strip() or None
    if force and (not trade_ids or note is None):
        raise BadInputError("repair with force closes landed trades by hand: name them (trade ids) and say "
                            "what you checked (a note); nothing was changed.")
    result = RepairResult()
    candidates = {t.trade_id: t for t in store.list_by_status(*IN_FLIGHT, TradeStatus.failed.value)}
    wanted = list(candidates) if trade_ids is None else list(trade_ids)
    for trade_id in wanted:
        if trade_id not in candidates:
            result.refused[trade_id] = _not_a_candidate(store, trade_id)
    chosen = [candidates[i] for i in wanted if i in candidates]
    facts = look_up_chain(client, chosen, confirmations)
    to_settle = []
    for trade in chosen:
        if trade.trade_id in facts:
            if _decide(client, trade, facts[trade.trade_id], Closing(note, force, confirmations), store,
                       run_state, result):
                to_settle.append(trade)
        elif _never_signed(trade):
            _mark_repaired(trade, store, run_state, note or "repaired: never signed, nothing can have been sent")
            result.repaired.append(trade)
        else:
            result.refused[trade.trade_id] = ("its transaction has a hash or signed bytes but no sender or nonce "
                                              "stored: the chain cannot be asked whether it executed")
    _settle(client, to_settle, store, vault, run_state, native_token_price, note, force, result)
    return result


def _sent_tx(trade: TradeExecution) -> BlockchainTransaction | None:
    """The trade's transaction if it may have reached a node and the chain can be asked about it."""
    tx = _last_tx(trade)
    checkable = tx is not None and tx.tx_hash and tx.nonce is not None and tx.from_address
    return tx if checkable else None


def _never_signed(trade: TradeExecution) -> bool:
    tx = _last_tx(trade)
    return tx is None or (not tx.tx_hash and not tx.signed_bytes)


@dataclass(frozen=True)
class Closing:
    """How the operator asked to close trades: their note, `force`, and the confirmation depth required."""

    note: str | None
    force: bool
    confirmations: int


def _decide(client: RPCClient, trade: TradeExecution, facts: ChainFacts, closing: Closing,
            store: ExecutionStore, run_state: RunState, result: RepairResult) -> bool:
    """Repair or refuse `trade` from the chain's facts; True when it must be settled instead."""
    tx = _sent_tx(trade)
    assert tx is not None
    note = closing.note
    if facts.receipt is not None:
        return _decide_landed(client, trade, tx, facts.receipt, facts.head, closing, store, run_state, result)
    if facts.in_block:
        result.refused[trade.trade_id] = (f"a transaction of nonce {tx.nonce} is in a block, but the node serves "
                                          "no receipt for it yet: try again in a minute")
    elif facts.nonce_mined and facts.in_pool:
        result.refused[trade.trade_id] = (
            f"nonce {tx.nonce} is used, yet the node still holds a transaction of this trade in its pool (a node "
            "that lags behind the chain): try again in a minute")
    elif facts.nonce_mined and facts.settled_unknown is not None:
        result.refused[trade.trade_id] = (
            f"nonce {tx.nonce} is used, but the node cannot tell whether it was {closing.confirmations} blocks "
            f"ago ({facts.settled_unknown}): try again later, or on a node that keeps that block's state")
    elif facts.nonce_mined and not facts.nonce_settled:
        result.refused[trade.trade_id] = (
            f"nonce {tx.nonce} was used by another transaction less than {closing.confirmations} blocks ago (a "
            f"shallow block can still be reorged out, and this trade's transaction land instead): wait for "
            f"{closing.confirmations} confirmations, then run repair again")
    elif facts.nonce_mined:
        _mark_repaired(trade, store, run_state, note or f"repaired: nonce {tx.nonce} was used by another "
                       "transaction and none of this trade's landed: nothing of it executed")
        result.repaired.append(trade)
    elif trade.is_pending():
        result.refused[trade.trade_id] = (f"nonce {tx.nonce} is still unused and its transaction {tx.tx_hash} "
                                          "could still land; run resume() instead")
    elif facts.in_pool:
        result.refused[trade.trade_id] = (
            f"it is marked failed, but a transaction of nonce {tx.nonce} is in the node's pool and could still "
            f"land: run repair again once it is mined (with --force --trade-id {trade.trade_id} --note '...' "
            "if it succeeded)")
    else:
        _mark_repaired(trade, store, run_state, note or f"repaired: nonce {tx.nonce} is unused and the node "
                       "knows none of this trade's transactions: nothing of it executed")
        result.repaired.append(trade)
    return False


def _decide_landed(client: RPCClient, trade: TradeExecution, tx: BlockchainTransaction, receipt: dict[str, Any],
                   head: int, closing: Closing, store: ExecutionStore, run_state: RunState,
                   result: RepairResult) -> bool:
    """A hash of `trade` has a receipt: refuse until it is `confirmations` deep, then settle a pending trade
    (True), repair a failed one that reverted, refuse (or with force close) a failed one that succeeded."""
    depth = head - receipt_block(receipt)
    if depth < closing.confirmations:
        result.refused[trade.trade_id] = (
            f"its transaction {receipt['transactionHash']} is in block {receipt_block(receipt)} with {depth} of "
            f"the {closing.confirmations} confirmations needed (a shallow block can still be reorged out): wait "
            f"for {closing.confirmations} confirmations, then run repair again")
        return False
    apply_receipt(tx, receipt, head, closing.confirmations)
    if tx.status is False:
        record_revert(client, tx, known_errors())
    if trade.is_pending():
        return True
    if not tx.status:
        _mark_repaired(trade, store, run_state, closing.note or f"repaired: {tx.tx_hash} reverted in block "
                       f"{tx.block_number} (gas spent, nothing of the trade executed)")
        result.repaired.append(trade)
    elif closing.force:
        _mark_repaired(trade, store, run_state, _closing_note(closing.note, tx))
        result.repaired.append(trade)
    else:
        result.refused[trade.trade_id] = (
            f"it is marked failed, but its transaction {tx.tx_hash} landed in block {tx.block_number} and "
            "succeeded: the trade executed. Record what it did, then: vaultexec repair --trade-id "
            f"{trade.trade_id} --force --note '...'")
    return False


def _settle(client: RPCClient, trades: list[TradeExecution], store: ExecutionStore, vault: str,
            run_state: RunState, native_token_price: Decimal | None, note: str | None, force: bool,
            result: RepairResult) -> None:
    """Settle pending trades found landed; with `force`, close by hand those that cannot be settled."""
    for trade in settle_trades(client, trades, vault, run_state, native_token_price):
        store.update(trade)
        result.settled.append(trade)
    for trade in trades:
        if not trade.is_pending():
            continue
        error = run_state.last_errors.get(trade.trade_id)
        tx = _last_tx(trade)
        if force and tx is not None:
            _mark_repaired(trade, store, run_state, _closing_note(note, tx, error))
            result.repaired.append(trade)
        else:
            landed = tx.tx_hash if tx is not None else "?"
            result.refused[trade.trade_id] = (
                f"its transaction {landed} landed but cannot be settled: {error}. Once checked: vaultexec "
                f"repair --trade-id {trade.trade_id} --force --note '...'")


def _closing_note(note: str | None, tx: BlockchainTransaction, error: str | None = None) -> str:
    outcome = "succeeded" if tx.status else "reverted"
    why = f"; not settled automatically: {error}" if error else ""
    return (f"closed by hand (force): {note}; {tx.tx_hash} {outcome} in block {tx.block_number} "
            f"({tx.block_hash}), gas used {tx.realised_gas_units_consumed}{why}")


def look_up_chain(client: RPCClient, trades: Sequence[TradeExecution], confirmations: int = 0) -> dict[int, ChainFacts]:
    """One batch: the head, senders' mined nonces, the receipt and the by-hash lookup of every stored hash;
    a second one, only for trades whose nonce is used with none of their hashes found (and `confirmations`
    above 0): their senders' nonces `confirmations` blocks below the head."""
    txs = {t.trade_id: tx for t in trades if (tx := _sent_tx(t)) is not None}
    if not txs:
        return {}
    senders = sorted({str(tx.from_address) for tx in txs.values()})
    slots = [(trade_id, h) for trade_id, tx in txs.items() for h in tx.get_all_tx_hashes()]
    replies = client.batch([("eth_blockNumber", [])]
                           + [("eth_getTransactionCount", [s, "latest"]) for s in senders]
                           + [("eth_getTransactionReceipt", [h]) for _, h in slots]
                           + [("eth_getTransactionByHash", [h]) for _, h in slots])
    head = int(replies[0].value(), 16)
    mined = {s: int(r.value(), 16) for s, r in zip(senders, replies[1:], strict=False)}
    receipts = replies[1 + len(senders):1 + len(senders) + len(slots)]
    lookups = replies[1 + len(senders) + len(slots):]
    facts = {trade_id: ChainFacts(nonce_mined=mined[str(tx.from_address)] > int(tx.nonce or 0), head=head)
             for trade_id, tx in txs.items()}
    for (trade_id, _), receipt, found in zip(slots, receipts, lookups, strict=True):
        fact = facts[trade_id]
        if receipt.value() is not None and fact.receipt is None:
            fact.receipt = receipt.result
        known = found.value()
        if isinstance(known, dict):
            fact.in_block = fact.in_block or known.get("blockNumber") is not None
            fact.in_pool = fact.in_pool or known.get("blockNumber") is None
    _check_nonces_settled(client, txs, facts, confirmations)
    return facts


def _check_nonces_settled(client: RPCClient, txs: dict[int, BlockchainTransaction], facts: dict[int, ChainFacts],
                          confirmations: int) -> None:
    """Set `nonce_settled` of the trades whose nonce another transaction used: one batched request of the
    senders' nonces at head - `confirmations` (none needed when `confirmations` is 0)."""
    used = {trade_id: tx for trade_id, tx in txs.items() if facts[trade_id].used_by_another()}
    if not used:
        return
    if confirmations <= 0:
        for trade_id in used:
            facts[trade_id].nonce_settled = True
        return
    head = next(iter(facts.values())).head
    senders = sorted({str(tx.from_address) for tx in used.values()})
    block = hex(max(head - confirmations, 0))
    replies = client.batch([("eth_getTransactionCount", [sender, block]) for sender in senders])
    answers = dict(zip(senders, replies, strict=True))
    for trade_id, tx in used.items():
        reply = answers[str(tx.from_address)]
        if reply.error is not None:
            facts[trade_id].settled_unknown = reply.error.rpc_message
        else:
            facts[trade_id].nonce_settled = int(reply.result, 16) > int(tx.nonce or 0)


def _mark_repaired(trade: TradeExecution, store: ExecutionStore, run_state: RunState, note: str) -> None:
    trade.mark_repaired(utc_now(), note)
    run_state.record_trade_repair(trade.trade_id)
    store.update(trade)
    logger.warning("trade %d repaired: %s", trade.trade_id, note)


def _not_a_candidate(store: ExecutionStore, trade_id: int) -> str:
    """Why `trade_id` is not repaired: it does not exist, or its status needs no repair."""
    try:
        status = store.load(trade_id).get_status().value
    except RecordNotFoundError:
        return (f"no trade #{trade_id} in the store of this vault; check the id (`vaultexec status` lists the "
                "trades)")
    return f"it is {status}, not started, broadcasted or failed: nothing to repair"
