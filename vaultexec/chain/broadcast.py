"""Broadcast signed transactions and track them to a final state, with batched requests only.

One `broadcast()` sends a whole batch of raw transactions in one HTTP round trip. Each `poll()` asks,
in one batched request, for the head block and each sender's mined nonce, then, in a second one, for
the receipts of every hash (old replaced hashes too) of transactions whose nonce is mined, and looks
the others up by hash once they have waited. From the answers it detects:

- included / confirmed: a receipt, and `confirmations` blocks on top of it;
- reorged out: a receipt seen before is gone (or moved block): back to broadcasted, never left final;
- dropped: the node does not know the transaction and its nonce is unused: the same bytes are sent again;
- stuck: still pending `stuck_after` seconds after it was sent: re-signed with the same nonce and bumped
  fees through the `resign` callback (the wallet), both hashes kept, whichever lands is settled;
- nonce consumed: the sender's nonce moved past ours and no hash of ours has a receipt (seen on two
  polls in a row, so a lagging node cannot fool us): final, with `NonceConsumedError`'s explanation.

Final states: `confirmed` (status True), `failed` (reverted, or refused at broadcast: status None),
`replaced` (nonce consumed by another transaction). Every state change is handed to `persist` before
anything depends on it; a replacement is persisted before it is broadcast (write-ahead).
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vaultexec.chain.gas import FeeQuote, bump_fees, fetch_fees
from vaultexec.chain.revert import ErrorRegistry, fetch_revert
from vaultexec.chain.rpc import Reply, RPCClient
from vaultexec.errors import BroadcastError, NonceConsumedError, RPCReplyError, TransactionTimeoutError
from vaultexec.model.transaction import BlockchainTransaction, TxState

logger = logging.getLogger(__name__)

FINAL_STATES = frozenset({TxState.confirmed, TxState.failed, TxState.replaced})
#: Node answers to eth_sendRawTransaction that mean "it is (or was) in the pool": fine.
ALREADY_KNOWN_MESSAGES = ("already known", "known transaction", "already imported", "already exists")
#: ... and those that mean "this nonce is already mined": ours or another; tracking decides which.
NONCE_USED_MESSAGES = ("nonce too low", "nonce has already been used", "old nonce")
#: ... and those that mean "the fees are too low for the market now": replace with bumped fees, not final.
UNDERPRICED_MESSAGES = ("less than block base fee", "underpriced", "fee too low", "fee cap less than",
                        "feecap", "max fee per gas less than")

Persist = Callable[[BlockchainTransaction], None]
#: Re-signs a transaction in place with the given fees and the same nonce (e.g. `HotWallet.resign_with_fees`).
Resign = Callable[[BlockchainTransaction, FeeQuote], BlockchainTransaction]


@dataclass(frozen=True)
class TrackerConfig:
    """Tracking knobs (seconds, blocks)."""

    #: Blocks on top of the inclusion block before a receipt is final (0 on a dev chain).
    confirmations: int = 0
    poll_interval: float = 1.0
    #: `track()` gives up after this long; transactions keep their state and may still land.
    timeout: float = 300.0
    #: Pending longer than this since last sent: replace with bumped fees (when a `resign` is given).
    stuck_after: float = 60.0
    max_replacements: int = 3
    #: Look up receipt-less transactions by hash (to detect drops) once they waited this long.
    drop_check_after: float = 0.0
    #: Decode the revert reason of failed transactions (costs one batched request per failure).
    decode_reverts: bool = True


@dataclass
class TrackerStats:
    """What happened while tracking (counts)."""

    polls: int = 0
    rebroadcasts: int = 0
    replacements: int = 0
    reorgs: int = 0
    nonce_consumed: int = 0


@dataclass
class _Watch:
    """Tracker-private state of one transaction."""

    last_sent: float
    replacements: int = 0
    nonce_used_polls: int = 0
    reorged: bool = False
    #: The node refused our fees: the next poll replaces (with a resign) or re-sends.
    underpriced: bool = False


def utc_now() -> datetime.datetime:
    """Naive UTC now, as the model stores timestamps."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class TransactionTracker:
    """Sends batches of signed `BlockchainTransaction`s and follows them until final."""

    def __init__(self, client: RPCClient, config: TrackerConfig | None = None, resign: Resign | None = None,
                 persist: Persist | None = None, errors: ErrorRegistry | None = None,
                 chain_id: int | None = None) -> None:
        self.client = client
        self.config = config or TrackerConfig()
        self.resign = resign
        self.persist = persist or (lambda btx: None)
        self.errors = errors
        self.chain_id = chain_id
        self.stats = TrackerStats()
        #: The latest receipt (raw JSON-RPC dict, logs included) of each included transaction, by the
        #: landed hash: settlement reads its logs from here, with no second request.
        self.receipts: dict[str, dict[str, Any]] = {}
        #: Keyed by (sender, nonce): stable when the caller reloads transactions from its store.
        self._watches: dict[tuple[str | None, int | None], _Watch] = {}

    # -- sending ------------------------------------------------------------------------------------

    def broadcast(self, txs: Sequence[BlockchainTransaction]) -> None:
        """Send every transaction's `signed_bytes` in one batched request; refused ones become failed."""
        txs = [tx for tx in txs if tx.tx_state not in FINAL_STATES]
        if not txs:
            return
        for tx in txs:
            if not tx.signed_bytes or not tx.tx_hash or tx.nonce is None:
                raise BroadcastError(f"{tx} is not signed: sign it (and store it) before broadcasting")
        replies = self.client.batch([("eth_sendRawTransaction", [tx.signed_bytes]) for tx in txs])
        now = time.monotonic()
        for tx, reply in zip(txs, replies, strict=True):
            self._watch(tx).last_sent = now
            self._after_send(tx, reply)

    def _after_send(self, tx: BlockchainTransaction, reply: Reply) -> None:
        if reply.error is None or _matches(reply.error, ALREADY_KNOWN_MESSAGES + NONCE_USED_MESSAGES):
            if reply.error is not None:
                logger.info("node says %s for %s: tracking decides", reply.error.rpc_message, tx.tx_hash)
            if tx.tx_state in (TxState.signed, TxState.dropped, TxState.unsigned):
                tx.tx_state = TxState.broadcasted
            tx.broadcasted_at = tx.broadcasted_at or utc_now()
        elif _matches(reply.error, UNDERPRICED_MESSAGES):
            logger.warning("node refused the fees of %s (nonce %s): %s; will replace with bumped fees",
                           tx.tx_hash, tx.nonce, reply.error.rpc_message)
            tx.tx_state = TxState.dropped
            self._watch(tx).underpriced = True
        else:
            tx.tx_state = TxState.failed
            tx.revert_reason = (f"refused by the node at broadcast: {reply.error.rpc_message} "
                                f"(nonce {tx.nonce}); nothing was executed")
            logger.warning("broadcast of %s refused: %s", tx.tx_hash, reply.error.rpc_message)
        self.persist(tx)

    def _watch(self, tx: BlockchainTransaction) -> _Watch:
        key = (tx.from_address, tx.nonce)
        watch = self._watches.get(key)
        if watch is None:
            watch = self._watches[key] = _Watch(last_sent=time.monotonic())
        return watch

    # -- tracking -----------------------------------------------------------------------------------

    def track(self, txs: Sequence[BlockchainTransaction]) -> list[BlockchainTransaction]:
        """Poll until every transaction is final; raise `TransactionTimeoutError` after `timeout`."""
        deadline = time.monotonic() + self.config.timeout
        while True:
            pending = self.poll(txs)
            if not pending:
                return list(txs)
            if time.monotonic() >= deadline:
                hashes = ", ".join(str(tx.tx_hash) for tx in pending)
                raise TransactionTimeoutError(
                    f"{len(pending)} of {len(txs)} transactions not final after {self.config.timeout:.0f}s: "
                    f"{hashes}. They may still land: resume later, do not sign them again.")
            time.sleep(self.config.poll_interval)

    def receipt_of(self, tx: BlockchainTransaction) -> dict[str, Any] | None:
        """The receipt (with logs) this tracker saw for `tx`, None if not included."""
        return self.receipts.get(str(tx.tx_hash)) if tx.block_number is not None else None

    def send_and_track(self, txs: Sequence[BlockchainTransaction]) -> list[BlockchainTransaction]:
        self.broadcast(txs)
        return self.track(txs)

    def poll(self, txs: Sequence[BlockchainTransaction]) -> list[BlockchainTransaction]:
        """One look at every non-final transaction; returns those still not final.

        Two batched requests at most: first the head and each sender's mined nonce; then receipts only
        for transactions whose nonce is mined (or that were included before, to catch reorgs), and
        lookups by hash for the others once they waited `drop_check_after`. So each receipt is asked
        about roughly once, however slowly the chain mines.
        """
        live = [tx for tx in txs if tx.tx_state not in FINAL_STATES]
        if not live:
            return []
        self.stats.polls += 1
        now = time.monotonic()
        senders = sorted({str(tx.from_address) for tx in live if tx.from_address})
        first = self.client.batch([("eth_blockNumber", []),
                                   *[("eth_getTransactionCount", [s, "latest"]) for s in senders]])
        head = int(first[0].value(), 16)
        mined_nonce = {s: int(r.value(), 16) for s, r in zip(senders, first[1:], strict=True)}

        receipt_slots: list[tuple[BlockchainTransaction, str]] = []
        lookup_slots: list[BlockchainTransaction] = []
        for tx in live:
            sender_nonce = mined_nonce.get(str(tx.from_address))
            nonce_mined = sender_nonce is None or tx.nonce is None or sender_nonce > tx.nonce
            if nonce_mined or tx.block_number is not None:
                receipt_slots += [(tx, tx_hash) for tx_hash in tx.get_all_tx_hashes()]
            elif now - self._watch(tx).last_sent >= self.config.drop_check_after:
                lookup_slots.append(tx)
        replies = self.client.batch([("eth_getTransactionReceipt", [h]) for _, h in receipt_slots]
                                    + [("eth_getTransactionByHash", [tx.tx_hash]) for tx in lookup_slots])
        receipts: dict[int, dict[str, Any]] = {}
        for (tx, _), reply in zip(receipt_slots, replies[:len(receipt_slots)], strict=True):
            if reply.value() is not None:
                receipts.setdefault(id(tx), reply.result)
        known = {id(tx): reply.value() is not None
                 for tx, reply in zip(lookup_slots, replies[len(receipt_slots):], strict=True)}

        to_rebroadcast: list[BlockchainTransaction] = []
        to_replace: list[BlockchainTransaction] = []
        failed: list[BlockchainTransaction] = []
        for tx in live:
            receipt = receipts.get(id(tx))
            if receipt is not None:
                if self._on_receipt(tx, receipt, head) and tx.status is False:
                    failed.append(tx)
                continue
            if tx.block_number is not None:
                self._on_reorged_out(tx)
            action = self._without_receipt(tx, mined_nonce.get(str(tx.from_address)), known.get(id(tx)), now)
            if action == "rebroadcast":
                to_rebroadcast.append(tx)
            elif action == "replace":
                to_replace.append(tx)
        if failed and self.config.decode_reverts:
            self._decode_failures(failed)
        if to_replace:
            self._replace(to_replace)
        if to_rebroadcast or to_replace:
            self.broadcast(to_rebroadcast + to_replace)
        return [tx for tx in live if tx.tx_state not in FINAL_STATES]

    def _on_receipt(self, tx: BlockchainTransaction, receipt: dict[str, Any], head: int) -> bool:
        """Record a receipt; True when this made the transaction final."""
        landed = str(receipt["transactionHash"])
        block_number, block_hash = int(receipt["blockNumber"], 16), str(receipt["blockHash"])
        if tx.block_hash is not None and tx.block_hash != block_hash:
            self.stats.reorgs += 1
            logger.warning("%s moved from block %s to %s (reorg)", landed, tx.block_hash, block_hash)
        if landed != tx.tx_hash:
            logger.info("an earlier fee version %s of nonce %s landed, not %s", landed, tx.nonce, tx.tx_hash)
            tx.replaced_tx_hashes = [h for h in tx.get_all_tx_hashes() if h != landed]
            tx.tx_hash = landed
        tx.block_number, tx.block_hash = block_number, block_hash
        self.receipts[landed] = receipt
        tx.status = int(receipt["status"], 16) == 1
        tx.realised_gas_units_consumed = int(receipt["gasUsed"], 16)
        tx.realised_gas_price = int(receipt["effectiveGasPrice"], 16)
        tx.included_at = tx.included_at or utc_now()
        tx.confirmations = max(0, head - block_number)
        before = tx.tx_state
        if tx.confirmations >= self.config.confirmations:
            tx.tx_state = TxState.confirmed if tx.status else TxState.failed
        else:
            tx.tx_state = TxState.included
        if tx.tx_state != before:
            self.persist(tx)
        return tx.tx_state in FINAL_STATES

    def _on_reorged_out(self, tx: BlockchainTransaction) -> None:
        self.stats.reorgs += 1
        logger.warning("receipt of %s in block %s (%s) is gone: reorged out, back to pending",
                       tx.tx_hash, tx.block_number, tx.block_hash)
        for tx_hash in tx.get_all_tx_hashes():
            self.receipts.pop(tx_hash, None)
        tx.block_number = tx.block_hash = tx.included_at = None
        tx.status = None
        tx.realised_gas_units_consumed = tx.realised_gas_price = None
        tx.confirmations = 0
        tx.tx_state = TxState.broadcasted
        self._watch(tx).reorged = True
        self.persist(tx)

    def _without_receipt(self, tx: BlockchainTransaction, mined_nonce: int | None, known: bool | None,
                         now: float) -> str | None:
        """Decide about a transaction with no receipt: None (wait), "rebroadcast" or "replace"."""
        watch = self._watch(tx)
        assert tx.nonce is not None
        if mined_nonce is not None and mined_nonce > tx.nonce:
            watch.nonce_used_polls += 1
            if watch.nonce_used_polls >= 2:
                self._on_nonce_consumed(tx, mined_nonce)
            return None
        watch.nonce_used_polls = 0
        if watch.underpriced:  # refused for its fees: only new fees can help
            if self.resign is not None and watch.replacements < self.config.max_replacements:
                return "replace"
            return "rebroadcast"
        if known is False:
            logger.warning("%s (nonce %s) is not known to the node: dropped, sending the same bytes again",
                           tx.tx_hash, tx.nonce)
            tx.tx_state = TxState.dropped
            self.stats.rebroadcasts += 1
            return "rebroadcast"
        if (self.resign is not None and now - watch.last_sent >= self.config.stuck_after
                and watch.replacements < self.config.max_replacements):
            return "replace"
        return None

    def _on_nonce_consumed(self, tx: BlockchainTransaction, mined_nonce: int) -> None:
        self.stats.nonce_consumed += 1
        error = NonceConsumedError(
            f"Nonce {tx.nonce} of {tx.from_address} was used by another transaction (the account has mined "
            f"{mined_nonce} transactions) and none of ours ({', '.join(tx.get_all_tx_hashes())}) has a "
            "receipt: this transaction can never land. Was the key used elsewhere? Re-plan the trade.")
        logger.error("%s", error)
        tx.tx_state = TxState.replaced
        tx.revert_reason = str(error)
        self.persist(tx)

    def _replace(self, txs: list[BlockchainTransaction]) -> None:
        assert self.resign is not None
        market = fetch_fees(self.client, self.chain_id or txs[0].chain_id or 0)
        for tx in txs:
            watch = self._watch(tx)
            previous = FeeQuote(tx.max_fee_per_gas, tx.max_priority_fee_per_gas, tx.gas_price)
            old_hash = tx.tx_hash
            self.resign(tx, bump_fees(previous, market))
            watch.replacements += 1
            watch.underpriced = False
            self.stats.replacements += 1
            logger.warning("%s stuck (nonce %s): replaced by %s with max fee %s", old_hash, tx.nonce,
                           tx.tx_hash, tx.max_fee_per_gas or tx.gas_price)
            self.persist(tx)  # write-ahead: the new bytes are stored before they are sent

    def _decode_failures(self, txs: list[BlockchainTransaction]) -> None:
        for tx in txs:
            try:
                decoded = fetch_revert(self.client, str(tx.tx_hash), self.errors)
            except (RPCReplyError, ValueError) as exc:
                logger.warning("cannot decode why %s failed: %s", tx.tx_hash, exc)
                continue
            tx.revert_reason = str(decoded)
            tx.revert_data = "0x" + decoded.raw.hex()
            tx.revert_reason_approximate = decoded.approximate
            self.persist(tx)


def _matches(error: RPCReplyError, needles: tuple[str, ...]) -> bool:
    text = error.rpc_message.lower()
    return any(n in text for n in needles)
