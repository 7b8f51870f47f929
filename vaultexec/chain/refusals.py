"""What the tracker makes of a node's answers to `eth_sendRawTransaction` (chain.broadcast sends them).

A node refusing a send:

- for its fees -> replaced with bumped fees (a re-send of bytes already refused for their fees waits
  `stuck_after` first); a replacement refused for its fees while an earlier version was accepted -> as below;
- a re-send or replacement of a transaction some version of which may be in a pool (accepted in this
  process, marked with `TransactionTracker.assume_sent` (resume() does so for every stored transaction),
  broadcast by an earlier run: `broadcasted_at` is stored, a replaced hash is stored, or it is about to be
  replaced after waiting unmined) -> not final: the accepted version stays the current one, every hash is
  kept, whichever lands is settled;
- a first broadcast refused with a definite reason (`DEFINITE_REFUSAL_MESSAGES`: insufficient funds,
  intrinsic gas, gas limit, sender, chain id, size, type...) -> `failed` ("nothing was executed"), and the
  nonce gap it leaves is closed, best effort, by the optional `NonceGapFiller` (chain.gaps);
- a first broadcast refused with any other answer -> the hash is looked up: known to the node -> in
  flight; unknown -> `dropped`, not final, sent again by the drop check after `stuck_after`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from vaultexec.chain.rpc import Reply, RPCClient
from vaultexec.chain.tracking import Persist, SignedVersion, TrackerConfig, TrackerStats, Watch
from vaultexec.errors import RPCError, RPCReplyError
from vaultexec.model.run_state import utc_now
from vaultexec.model.transaction import BlockchainTransaction, TxState

logger = logging.getLogger(__name__)

#: Node answers to eth_sendRawTransaction that mean "it is (or was) in the pool": fine.
ALREADY_KNOWN_MESSAGES = ("already known", "known transaction", "already imported", "already exists")
#: ... and those that mean "this nonce is already mined": ours or another; tracking decides which.
NONCE_USED_MESSAGES = ("nonce too low", "nonce has already been used", "old nonce")
#: ... and those that mean "the fees are too low for the market now": replace with bumped fees, not final.
UNDERPRICED_MESSAGES = ("less than block base fee", "underpriced", "fee too low", "fee cap less than",
                        "feecap", "max fee per gas less than")
#: ... and those that refuse the transaction for good: as signed it can never enter the pool (geth, anvil,
#: erigon, nethermind wordings). Any other refusal of a first broadcast is checked by hash before failing.
DEFINITE_REFUSAL_MESSAGES = ("insufficient funds", "intrinsic gas too low", "intrinsic gas too high",
                             "exceeds block gas limit", "exceeds the block gas limit", "gas limit reached",
                             "invalid sender", "invalid signature", "invalid chain id", "chain id mismatch",
                             "only replay-protected", "oversized data", "transaction type not supported",
                             "tx type not supported", "priority fee per gas higher than max fee",
                             "priority fee is greater than max fee", "tip above fee cap", "negative value",
                             "exceeds the configured cap", "failed to decode")

#: What `_after_send` made of one answer: in flight or not final, failed for good, or to be looked up.
_SENT, _REFUSED, _UNCLEAR = "sent", "refused", "unclear"


class SendAnswers:
    """The tracker's handling of send answers (mixed into `TransactionTracker`, which provides the state)."""

    client: RPCClient
    config: TrackerConfig
    stats: TrackerStats
    persist: Persist

    def _watch(self, tx: BlockchainTransaction) -> Watch:
        raise NotImplementedError

    def _record_answers(self, txs: Sequence[BlockchainTransaction], replies: Sequence[Reply],
                        now: float) -> list[BlockchainTransaction]:
        """Record the node's answer to each send; returns those refused for good at their first broadcast."""
        outcomes = [(tx, reply, self._after_send(tx, reply, now)) for tx, reply in zip(txs, replies, strict=True)]
        unclear = [(tx, reply.error) for tx, reply, outcome in outcomes if outcome == _UNCLEAR and reply.error]
        if unclear:
            self._look_up_unclear(unclear, now)
        return [tx for tx, _, outcome in outcomes if outcome == _REFUSED]

    def _after_send(self, tx: BlockchainTransaction, reply: Reply, now: float) -> str:
        """Record the node's answer: `_SENT` (in flight, or refused but not final), `_REFUSED` (refused for
        good at its first broadcast) or `_UNCLEAR` (an unknown refusal of a first broadcast: look it up)."""
        watch, error = self._watch(tx), reply.error
        watch.last_sent = now
        outcome = _SENT
        if error is None or _matches(error, ALREADY_KNOWN_MESSAGES + NONCE_USED_MESSAGES):
            if error is not None:
                logger.info("node says %s for %s: tracking decides", error.rpc_message, tx.tx_hash)
            self._on_accepted(tx, watch)
        elif _matches(error, UNDERPRICED_MESSAGES):
            self._on_underpriced(tx, watch, error, now)
        elif _sent_before(tx, watch):
            self._on_refused_again(tx, watch, error, now)
        elif _matches(error, DEFINITE_REFUSAL_MESSAGES):
            _fail_refused(tx, error)
            outcome = _REFUSED
        else:
            return _UNCLEAR  # stored once the lookup has decided
        self.persist(tx)
        return outcome

    @staticmethod
    def _on_accepted(tx: BlockchainTransaction, watch: Watch) -> None:
        if tx.tx_state in (TxState.signed, TxState.dropped, TxState.unsigned):
            tx.tx_state = TxState.broadcasted
        tx.broadcasted_at = tx.broadcasted_at or utc_now()
        watch.accepted = SignedVersion.of(tx)

    def _on_underpriced(self, tx: BlockchainTransaction, watch: Watch, error: RPCReplyError, now: float) -> None:
        """Refused for its fees: replace with bumped fees, unless an earlier accepted version may still land."""
        if watch.accepted is not None and watch.accepted.tx_hash != tx.tx_hash:
            self._on_refused_again(tx, watch, error, now)
            return
        logger.warning("node refused the fees of %s (nonce %s): %s; will replace with bumped fees",
                       tx.tx_hash, tx.nonce, error.rpc_message)
        if watch.underpriced:  # these bytes were refused for their fees before: no re-send every poll
            watch.hold_until = now + self.config.stuck_after
        tx.tx_state = TxState.dropped
        watch.underpriced = True

    def _on_refused_again(self, tx: BlockchainTransaction, watch: Watch, error: RPCReplyError,
                          now: float) -> None:
        """A version of this nonce may be in a pool and may still land: never final here."""
        self.stats.refused_resends += 1
        watch.hold_until = now + self.config.stuck_after
        accepted = watch.accepted
        if accepted is not None and accepted.tx_hash != tx.tx_hash:
            refused_hash = tx.tx_hash
            accepted.restore(tx)
            line = (f"replacement {refused_hash} refused by the node ({error.rpc_message}); the accepted "
                    f"{tx.tx_hash} stays in flight")
        else:
            line = (f"re-send of {tx.tx_hash} refused by the node ({error.rpc_message}); a version of nonce "
                    f"{tx.nonce} was sent before and may still land")
        tx.tx_state = TxState.broadcasted
        _note(tx, line)
        logger.warning("%s", line)

    def _look_up_unclear(self, refused: list[tuple[BlockchainTransaction, RPCReplyError]], now: float) -> None:
        """First broadcasts refused with an answer we do not recognise: known to the node by hash -> in
        flight; unknown -> dropped (not final): the drop check sends them again after `stuck_after`."""
        try:
            found = [reply.error is None and reply.result is not None for reply in self.client.batch(
                [("eth_getTransactionByHash", [tx.tx_hash]) for tx, _ in refused])]
        except RPCError as exc:
            logger.warning("cannot look up %d refused transactions (%s): taken as unknown", len(refused), exc)
            found = [False] * len(refused)
        for (tx, error), known in zip(refused, found, strict=True):
            watch = self._watch(tx)
            if known:
                logger.warning("node answered %r to %s but knows it: in flight", error.rpc_message, tx.tx_hash)
                self._on_accepted(tx, watch)
            else:
                watch.hold_until = now + self.config.stuck_after
                tx.tx_state = TxState.dropped
                _note(tx, f"send of {tx.tx_hash} refused with an answer not known to be final "
                          f"({error.rpc_message}); the node does not know it: sent again later")
                logger.warning("%s refused (%s) and unknown to the node: not final, sent again later",
                               tx.tx_hash, error.rpc_message)
            self.persist(tx)


def _matches(error: RPCReplyError, needles: tuple[str, ...]) -> bool:
    text = error.rpc_message.lower()
    return any(n in text for n in needles)


def _sent_before(tx: BlockchainTransaction, watch: Watch) -> bool:
    """Some version of `tx` may be in a pool: accepted in this process or assumed sent (`accepted` is set),
    recorded as broadcast (by an earlier run too: `broadcasted_at` is stored), or replaced (every replaced
    version was sent or stored)."""
    return watch.accepted is not None or tx.broadcasted_at is not None or bool(tx.replaced_tx_hashes)


def _fail_refused(tx: BlockchainTransaction, error: RPCReplyError) -> None:
    """Refused for good at its first broadcast: no version of it ever reached a pool."""
    tx.tx_state = TxState.failed
    tx.revert_reason = (f"refused by the node at broadcast: {error.rpc_message} "
                        f"(nonce {tx.nonce}); nothing was executed")
    logger.warning("broadcast of %s refused: %s", tx.tx_hash, error.rpc_message)


def _note(tx: BlockchainTransaction, line: str) -> None:
    tx.notes = line if not tx.notes else f"{tx.notes}\n{line}"
