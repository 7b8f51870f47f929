"""Broadcast signed transactions and track them to a final state, with batched requests only.

One `broadcast()` sends a whole batch of raw transactions in one HTTP round trip. Each `poll()` asks,
in one batched request, for the head block and each sender's mined nonce, then, in a second one, for
the receipts of every hash (old replaced hashes too) of transactions whose nonce is mined (an included one
waiting for confirmations only when its block changed: the first request reads the hash of each inclusion
block, a handful at most; a first look at many in a few blocks reads those blocks' receipts instead, see
chain.block_receipts), and looks up by hash at most
`drop_checks_per_poll` of the others (lowest nonces first, each at most once per `drop_check_after`), so
a poll's cost does not grow with the batch. From the answers it detects:

- included / confirmed: a receipt, and `confirmations` blocks on top of it;
- reorged out: a receipt seen before is gone (or moved block): back to broadcasted, never left final;
- dropped: the node does not know the transaction and its nonce is unused: the same bytes are sent again;
- stuck: still pending `stuck_after` seconds after it was sent *and* after the sender's mined nonce last
  moved (a batch larger than a block drains over several blocks on purpose: while its queue moves,
  nothing in it is stuck): re-signed with the same nonce and bumped fees through the `resign` callback
  (the wallet), both hashes kept, whichever lands is settled. The bump is capped to what the sender's
  balance pays; when even the least accepted bump is beyond it, the transaction is left as it is;
- idle dev chain (`mine_when_idle_after`, automining anvil only): transactions waiting in the pool with no
  new block get one block asked for (`evm_mine`);
- nonce consumed: the sender's nonce moved past ours and no hash of ours has a receipt, for at least
  `nonce_consumed_after` seconds and `nonce_consumed_blocks` new blocks, and no hash of ours is known
  to the node with a block number (a lagging node answers the nonce before the receipt): final, with
  `NonceConsumedError`'s explanation.

A node refusing a send is handled as chain.refusals describes: never final when some version of the
transaction may be in a pool (resume() marks every stored transaction so with `assume_sent`); `failed`
for a definite refusal of a first broadcast (its nonce gap closed by the optional `NonceGapFiller`);
looked up by hash for any other refusal.

Final states: `confirmed` (status True), `failed` (reverted, or refused at its first broadcast: status
None), `replaced` (nonce consumed by another transaction). Every state change is handed to `persist`
before anything depends on it; a replacement is persisted before it is broadcast (write-ahead).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from vaultexec.chain import block_receipts
from vaultexec.chain.block_receipts import BlockScan
from vaultexec.chain.gaps import NonceGapFiller
from vaultexec.chain.gas import FeeQuote
from vaultexec.chain.receipts import apply_receipt, clear_receipt
from vaultexec.chain.refusals import SendAnswers
from vaultexec.chain.replacement import plan_replacements
from vaultexec.chain.revert import ErrorRegistry, record_revert
from vaultexec.chain.rpc import Reply, RPCClient
from vaultexec.chain.tracking import (
    Persist,
    PollAnswers,
    Progress,
    SignedVersion,
    TrackerConfig,
    TrackerStats,
    Watch,
    mine_idle_dev_chain,
)
from vaultexec.errors import BroadcastError, NonceConsumedError, TransactionTimeoutError, VaultExecError
from vaultexec.model.transaction import BlockchainTransaction, TxState

__all__ = ["FINAL_STATES", "Persist", "Resign", "TrackerConfig", "TrackerStats", "TransactionTracker"]

logger = logging.getLogger(__name__)

FINAL_STATES = frozenset({TxState.confirmed, TxState.failed, TxState.replaced})
#: Re-signs a transaction in place with the given fees and the same nonce (e.g. `HotWallet.resign_with_fees`).
Resign = Callable[[BlockchainTransaction, FeeQuote], BlockchainTransaction]


class TransactionTracker(SendAnswers):
    """Sends batches of signed `BlockchainTransaction`s and follows them until final."""

    def __init__(self, client: RPCClient, config: TrackerConfig | None = None, resign: Resign | None = None,
                 persist: Persist | None = None, errors: ErrorRegistry | None = None,
                 chain_id: int | None = None, gaps: NonceGapFiller | None = None) -> None:
        self.client = client
        self.config = config or TrackerConfig()
        self.resign = resign
        self.persist = persist or (lambda btx: None)
        self.errors = errors
        self.chain_id = chain_id
        self.gaps = gaps
        self.stats = TrackerStats()
        #: The latest receipt (raw JSON-RPC dict, logs included) of each included transaction, by the
        #: landed hash: settlement reads its logs from here, with no second request.
        self.receipts: dict[str, dict[str, Any]] = {}
        #: Keyed by (sender, nonce): stable when the caller reloads transactions from its store.
        self._watches: dict[tuple[str | None, int | None], Watch] = {}
        #: Each sender's mined nonce and since when it has not moved.
        self._progress: dict[str, Progress] = {}
        self._scan = BlockScan()

    def receipts_after(self, block: int) -> None:
        """The transactions about to be sent land after `block` (e.g. the block their fees were quoted at): a
        first look at many of them in a few blocks may then read whole blocks' receipts (`block_receipts`)."""
        if self.config.receipts_by_block:
            self._scan = BlockScan(block)

    # -- sending ------------------------------------------------------------------------------------

    def broadcast(self, txs: Sequence[BlockchainTransaction]) -> None:
        """Send every transaction's `signed_bytes` in one batched request (see the module doc for refusals)."""
        txs = [tx for tx in txs if tx.tx_state not in FINAL_STATES]
        if not txs:
            return
        for tx in txs:
            if not tx.signed_bytes or not tx.tx_hash or tx.nonce is None:
                raise BroadcastError(f"{tx} is not signed: sign it (and store it) before broadcasting")
        replies = self.client.batch([("eth_sendRawTransaction", [tx.signed_bytes]) for tx in txs])
        refused = self._record_answers(txs, replies, time.monotonic())
        if refused:
            self._close_gaps(refused)

    def assume_sent(self, txs: Sequence[BlockchainTransaction]) -> None:
        """Take each transaction's current version as possibly in a pool, though nothing in this process sent
        it: a later refusal to (re-)send it is then never final. For transactions loaded from a store after
        a crash, which may have come between the send and the write that records it."""
        for tx in txs:
            if tx.tx_state not in FINAL_STATES and tx.tx_hash:
                self._watch(tx).accepted = SignedVersion.of(tx)

    def _close_gaps(self, refused: list[BlockchainTransaction]) -> None:
        """Best effort: a failure to fill or release a refused nonce never stops the batch."""
        if self.gaps is None:
            return
        try:
            self.gaps.close(refused, self._accepted_nonces(self.gaps.wallet.address))
        except VaultExecError as exc:
            logger.error("could not close the nonce gap of %s: %s; the batch goes on",
                         ", ".join(str(tx.nonce) for tx in refused), exc)

    def _accepted_nonces(self, sender: str) -> set[int]:
        return {nonce for (address, nonce), watch in self._watches.items()
                if nonce is not None and watch.accepted is not None and (address or "").lower() == sender.lower()}

    def _watch(self, tx: BlockchainTransaction) -> Watch:
        key = (tx.from_address, tx.nonce)
        watch = self._watches.get(key)
        if watch is None:
            watch = self._watches[key] = Watch(last_sent=time.monotonic())
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
        for transactions whose nonce is mined (or that were included before, to catch reorgs), lookups
        by hash for the others once they waited `drop_check_after`, and for every hash of a transaction
        about to be declared "nonce consumed". So each receipt is asked about roughly once, however
        slowly the chain mines.
        """
        live = [tx for tx in txs if tx.tx_state not in FINAL_STATES]
        if not live:
            return []
        self.stats.polls += 1
        now = time.monotonic()
        senders = sorted({str(tx.from_address) for tx in live if tx.from_address})
        heights = sorted({tx.block_number for tx in live if tx.block_number is not None})
        first = self.client.batch([("eth_blockNumber", []),
                                   *[("eth_getTransactionCount", [s, "latest"]) for s in senders],
                                   *[("eth_getBlockByNumber", [hex(h), False]) for h in heights]])
        head = int(first[0].value(), 16)
        mined_nonce = {s: int(r.value(), 16) for s, r in zip(senders, first[1:1 + len(senders)], strict=True)}
        blocks = [r.value() for r in first[1 + len(senders):]]
        block_hashes = {h: b.get("hash") if isinstance(b, dict) else None for h, b in zip(heights, blocks, strict=True)}
        for sender, nonce in mined_nonce.items():
            progress = self._progress.get(sender)
            if progress is None or progress.mined_nonce != nonce:
                self._progress[sender] = Progress(nonce, now)
        answers = self._look_up(live, mined_nonce, block_hashes, head, now)

        to_rebroadcast: list[BlockchainTransaction] = []
        to_replace: list[BlockchainTransaction] = []
        failed: list[BlockchainTransaction] = []
        for tx in live:
            receipt = answers.receipts.get(id(tx))
            if receipt is not None:
                if self._on_receipt(tx, receipt, head) and tx.status is False:
                    failed.append(tx)
                continue
            if tx.block_number is not None:
                self._on_reorged_out(tx)
            action = self._without_receipt(tx, mined_nonce.get(str(tx.from_address)), answers, head, now)
            if action == "rebroadcast":
                to_rebroadcast.append(tx)
            elif action == "replace":
                to_replace.append(tx)
        if failed and self.config.decode_reverts:
            self._decode_failures(failed)
        if to_replace:
            to_replace = self._replace(to_replace, live, now)
        if to_rebroadcast or to_replace:
            self.broadcast(to_rebroadcast + to_replace)
        still = [tx for tx in live if tx.tx_state not in FINAL_STATES]
        self._mine_if_idle(still, mined_nonce, now)
        return still

    def _mine_if_idle(self, pending: list[BlockchainTransaction], mined_nonce: dict[str, int], now: float) -> None:
        """Automining dev chains only: a sender's transactions wait unmined while no block comes (anvil can
        leave part of a large batch in its pool until another transaction arrives): ask for a block."""
        idle_after = self.config.mine_when_idle_after
        if idle_after is None:
            return
        waiting = {str(tx.from_address) for tx in pending if tx.nonce is not None
                   and mined_nonce.get(str(tx.from_address), tx.nonce + 1) <= tx.nonce}
        if any(now - self._progress[s].since >= idle_after for s in waiting if s in self._progress) \
                and mine_idle_dev_chain(self.client, self.config):
            self.stats.idle_mines += 1
            logger.info("transactions wait in the dev chain's pool with no new block: mined one")

    def _look_up(self, live: list[BlockchainTransaction], mined_nonce: dict[str, int],
                 block_hashes: dict[int, str | None], head: int, now: float) -> PollAnswers:
        """The poll's second batched request: receipts, drop checks and nonce-consumed checks."""
        answers = PollAnswers()
        receipt_slots: list[tuple[BlockchainTransaction, str]] = []
        lookup_slots: list[BlockchainTransaction] = []
        landed_slots: list[tuple[BlockchainTransaction, str]] = []
        for tx in live:
            watch = self._watch(tx)
            sender_nonce = mined_nonce.get(str(tx.from_address))
            nonce_mined = sender_nonce is None or tx.nonce is None or sender_nonce > tx.nonce
            cached = None
            if tx.block_number is not None and block_hashes.get(tx.block_number) == tx.block_hash:
                cached = self.receipts.get(str(tx.tx_hash))
            if cached is not None:
                answers.receipts[id(tx)] = cached  # its block is still there: the receipt seen before
            elif nonce_mined or tx.block_number is not None:
                receipt_slots += [(tx, tx_hash) for tx_hash in tx.get_all_tx_hashes()]
                if nonce_mined and tx.block_number is None and watch.nonce_used_long_enough(
                        self.config.nonce_consumed_after, self.config.nonce_consumed_blocks, head, now):
                    landed_slots += [(tx, tx_hash) for tx_hash in tx.get_all_tx_hashes()]
            elif (now - watch.last_sent >= self.config.drop_check_after and now >= watch.hold_until
                  and now - watch.drop_checked >= self.config.drop_check_after):
                lookup_slots.append(tx)
        lookup_slots = sorted(lookup_slots, key=lambda tx: (self._watch(tx).drop_checked, tx.nonce or 0)
                              )[:self.config.drop_checks_per_poll]
        for tx in lookup_slots:
            self._watch(tx).drop_checked = now
        self.stats.drop_checks += len(lookup_slots)
        scan_slots = [(tx, h) for tx, h in receipt_slots if not self._watch(tx).scanned]
        blocks = self._scan.blocks(self.client, len({id(tx) for tx, _ in scan_slots}), head)
        if blocks:
            receipt_slots = [(tx, h) for tx, h in receipt_slots if self._watch(tx).scanned]
        replies = self.client.batch(block_receipts.requests(blocks)
                                    + [("eth_getTransactionReceipt", [h]) for _, h in receipt_slots]
                                    + [("eth_getTransactionByHash", [tx.tx_hash]) for tx in lookup_slots]
                                    + [("eth_getTransactionByHash", [h]) for _, h in landed_slots])
        if blocks:
            self._answer_from_blocks(scan_slots, replies[:len(blocks)], answers)
            replies = replies[len(blocks):]
        receipt_replies = replies[:len(receipt_slots)]
        lookup_replies = replies[len(receipt_slots):len(receipt_slots) + len(lookup_slots)]
        landed_replies = replies[len(receipt_slots) + len(lookup_slots):]
        for (tx, _), reply in zip(receipt_slots, receipt_replies, strict=True):
            if reply.value() is not None:
                answers.receipts.setdefault(id(tx), reply.result)
        for tx, reply in zip(lookup_slots, lookup_replies, strict=True):
            answers.known[id(tx)] = reply.value() is not None
        for (tx, _), reply in zip(landed_slots, landed_replies, strict=True):
            found = reply.value()
            in_block = isinstance(found, dict) and found.get("blockNumber") is not None
            answers.landed[id(tx)] = answers.landed.get(id(tx), False) or in_block
        return answers

    def _answer_from_blocks(self, slots: list[tuple[BlockchainTransaction, str]], replies: Sequence[Reply],
                            answers: PollAnswers) -> None:
        """Receipts of `slots` found in the scanned blocks; every one of them was looked for (by hash next)."""
        found = block_receipts.receipts_by_hash(self.client, replies)
        for tx, tx_hash in slots:
            self._watch(tx).scanned = True
            receipt = found.get(tx_hash.lower())
            if receipt is not None:
                answers.receipts.setdefault(id(tx), receipt)

    def _on_receipt(self, tx: BlockchainTransaction, receipt: dict[str, Any], head: int) -> bool:
        """Record a receipt; True when this made the transaction final."""
        self._watch(tx).nonce_used_since = None
        landed, block_hash = str(receipt["transactionHash"]), str(receipt["blockHash"])
        if tx.block_hash is not None and tx.block_hash != block_hash:
            self.stats.reorgs += 1
            logger.warning("%s moved from block %s to %s (reorg)", landed, tx.block_hash, block_hash)
        if landed != tx.tx_hash:
            logger.info("an earlier fee version %s of nonce %s landed, not %s", landed, tx.nonce, tx.tx_hash)
        before = tx.tx_state
        apply_receipt(tx, receipt, head, self.config.confirmations)
        self.receipts[landed] = receipt
        if tx.tx_state != before:
            self.persist(tx)
        return tx.tx_state in FINAL_STATES

    def _on_reorged_out(self, tx: BlockchainTransaction) -> None:
        self.stats.reorgs += 1
        logger.warning("receipt of %s in block %s (%s) is gone: reorged out, back to pending",
                       tx.tx_hash, tx.block_number, tx.block_hash)
        for tx_hash in tx.get_all_tx_hashes():
            self.receipts.pop(tx_hash, None)
        clear_receipt(tx)
        self.persist(tx)

    def _without_receipt(self, tx: BlockchainTransaction, mined_nonce: int | None, answers: PollAnswers,
                         head: int, now: float) -> str | None:
        """Decide about a transaction with no receipt: None (wait), "rebroadcast" or "replace"."""
        watch = self._watch(tx)
        assert tx.nonce is not None
        if mined_nonce is not None and mined_nonce > tx.nonce:
            self._on_nonce_used(tx, watch, mined_nonce, answers.landed.get(id(tx)), head, now)
            return None
        watch.nonce_used_since = None
        can_replace = (self.resign is not None and watch.replacements < self.config.max_replacements
                       and now >= watch.hold_until)
        if watch.underpriced:  # refused for its fees: only new fees can help
            if can_replace:
                return "replace"
            return "rebroadcast" if now >= watch.hold_until else None
        if answers.known.get(id(tx)) is False:
            logger.warning("%s (nonce %s) is not known to the node: dropped, sending the same bytes again",
                           tx.tx_hash, tx.nonce)
            tx.tx_state = TxState.dropped
            self.stats.rebroadcasts += 1
            return "rebroadcast"
        progress = self._progress.get(str(tx.from_address))
        waited_since = max(watch.last_sent, progress.since if progress is not None else watch.last_sent)
        if can_replace and now - waited_since >= self.config.stuck_after:
            return "replace"
        return None

    def _on_nonce_used(self, tx: BlockchainTransaction, watch: Watch, mined_nonce: int, landed: bool | None,
                       head: int, now: float) -> None:
        """The nonce is mined and no receipt of ours was seen: wait, or (once checked) nonce consumed."""
        if watch.nonce_used_since is None:
            watch.nonce_used_since, watch.nonce_used_head = now, head
        elif landed:
            logger.info("nonce %s of %s: a hash of ours is in a block but its receipt is not served yet "
                        "(lagging node); waiting for it", tx.nonce, tx.from_address)
        elif landed is False:
            self._on_nonce_consumed(tx, mined_nonce)

    def _on_nonce_consumed(self, tx: BlockchainTransaction, mined_nonce: int) -> None:
        self.stats.nonce_consumed += 1
        error = NonceConsumedError(
            f"Nonce {tx.nonce} of {tx.from_address} was used by another transaction (the account has mined "
            f"{mined_nonce} transactions) and none of ours ({', '.join(tx.get_all_tx_hashes())}) has a "
            "receipt or a block: this transaction can never land. Was the key used elsewhere? Re-plan the "
            "trade.")
        logger.error("%s", error)
        tx.tx_state = TxState.replaced
        tx.revert_reason = str(error)
        self.persist(tx)

    def _replace(self, txs: list[BlockchainTransaction], live: list[BlockchainTransaction],
                 now: float) -> list[BlockchainTransaction]:
        """Re-sign `txs` with bumped fees the senders can pay; returns those re-signed (to broadcast)."""
        assert self.resign is not None
        replaced = []
        for tx, fees, left in plan_replacements(self.client, txs, live, self.chain_id or txs[0].chain_id or 0,
                                                self.config.fee_policy):
            watch = self._watch(tx)
            if fees is None:
                self.stats.replacements_unaffordable += 1
                watch.hold_until = now + self.config.stuck_after
                logger.warning("%s (nonce %s) is stuck, but %s cannot pay a replacement's gas (%d wei left "
                               "for it): keeping it as it is", tx.tx_hash, tx.nonce, tx.from_address, left)
                continue
            old_hash = tx.tx_hash
            if watch.accepted is None and not watch.underpriced:
                # sent before (by this run, or by one that crashed before storing it) and waited unmined:
                # it may be in a pool, so it is what a refused replacement falls back to
                watch.accepted = SignedVersion.of(tx)
            self.resign(tx, fees)
            watch.replacements += 1
            watch.underpriced = False
            self.stats.replacements += 1
            logger.warning("%s stuck (nonce %s): replaced by %s with max fee %s", old_hash, tx.nonce,
                           tx.tx_hash, tx.max_fee_per_gas or tx.gas_price)
            self.persist(tx)  # write-ahead: the new bytes are stored before they are sent
            replaced.append(tx)
        return replaced

    def _decode_failures(self, txs: list[BlockchainTransaction]) -> None:
        for tx in txs:
            if record_revert(self.client, tx, self.errors):
                self.persist(tx)

