"""Which state updates the store accepts: forward only, with two documented exceptions.

Ranks: planned < started < broadcasted < success | failed < repaired. As the trade model allows, a
started, broadcasted or failed trade can be marked repaired; repair_entry (a counter trade) and expired
are final from creation.
- Same state again is allowed while the trade is in flight (planned, started, broadcasted): re-signing
  before broadcast, or a replacement transaction (speed-up, re-broadcast) recorded on a broadcasted trade.
- A settled trade (success, failed, repaired) is final for `update()`; a reorg that undoes its receipt
  goes through the explicit `revert_to_broadcasted()` (see `check_reorg`).
- Whatever the states, a write never drops a transaction hash the stored record holds (see
  `check_keeps_hashes`): a signed hash may be on chain, and the write-ahead record is how it is found.
Statuses are compared by their string value so the store does not depend on the enum's member names.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from vaultexec.errors import BadInputError, StoreTransitionError

PLANNED = "planned"
STARTED = "started"
BROADCASTED = "broadcasted"
SUCCESS = "success"
FAILED = "failed"
REPAIRED = "repaired"
REPAIR_ENTRY = "repair_entry"
EXPIRED = "expired"

STATUS_RANK: dict[str, int] = {
    PLANNED: 0, STARTED: 1, BROADCASTED: 2, SUCCESS: 3, FAILED: 3, REPAIR_ENTRY: 3, EXPIRED: 3, REPAIRED: 4,
}
IN_FLIGHT: frozenset[str] = frozenset({PLANNED, STARTED, BROADCASTED})
SETTLED: frozenset[str] = frozenset({SUCCESS, FAILED, REPAIRED, REPAIR_ENTRY, EXPIRED})
REPAIRABLE: frozenset[str] = frozenset({STARTED, BROADCASTED, FAILED})


def normalise_statuses(statuses: Iterable[object]) -> list[str]:
    """Status values (str or TradeStatus) checked against the lifecycle's, duplicates dropped, in order."""
    chosen: list[str] = []
    for status in statuses:
        value = status.value if isinstance(status, Enum) else status
        if not isinstance(value, str) or value not in STATUS_RANK:
            raise BadInputError(
                f"Status {status!r} is not a trade status; use one of {', '.join(STATUS_RANK)}.")
        if value not in chosen:
            chosen.append(value)
    return chosen


def _rank(status: str, trade_id: int) -> int:
    try:
        return STATUS_RANK[status]
    except KeyError:
        raise StoreTransitionError(
            f"Trade {trade_id}: status {status!r} is unknown to the store (known: {', '.join(STATUS_RANK)})."
        ) from None


def check_update(trade_id: int, stored: str, new: str) -> None:
    """Refuse an `update()` from `stored` to `new` unless it moves forward (see module doc)."""
    old_rank, new_rank = _rank(stored, trade_id), _rank(new, trade_id)
    if stored == new and stored in IN_FLIGHT:
        return
    if new == REPAIRED:
        if stored in REPAIRABLE:
            return
        raise StoreTransitionError(
            f"Trade {trade_id}: cannot move from {stored} to {new}; only a started, broadcasted or failed "
            "trade can be repaired."
        )
    if stored in SETTLED or new_rank <= old_rank:
        hint = " Use revert_to_broadcasted() for a reorg." if new == BROADCASTED and stored in SETTLED else ""
        raise StoreTransitionError(
            f"Trade {trade_id}: cannot move from {stored} to {new}; the store only accepts forward "
            f"transitions.{hint}"
        )


def check_reorg(trade_id: int, stored: str, new: str) -> None:
    """Refuse a `revert_to_broadcasted()` unless it takes a success or failed trade back to broadcasted."""
    if new != BROADCASTED:
        raise StoreTransitionError(
            f"Trade {trade_id}: revert_to_broadcasted() got a trade in state {new}; roll the trade back to "
            f"broadcasted before storing it."
        )
    if stored not in (SUCCESS, FAILED):
        raise StoreTransitionError(
            f"Trade {trade_id}: cannot revert from {stored} to {new}; only a success or failed trade "
            f"(a receipt a reorg removed) can go back to broadcasted."
        )


def check_keeps_hashes(trade_id: int, stored: frozenset[str], new: frozenset[str]) -> None:
    """Refuse a write whose record lost any transaction hash the stored record holds.

    A stored hash was signed and may have been broadcast: dropping it would hide a transaction that can
    still land. A replacement keeps the old hash in `replaced_tx_hashes` (`BlockchainTransaction.set_signed`).
    """
    dropped = sorted(stored - new)
    if dropped:
        raise StoreTransitionError(
            f"Trade {trade_id}: the update drops transaction hash(es) {', '.join(dropped)} that the stored "
            "record holds; a signed transaction may still land, so its hash is never removed. Re-sign with "
            "BlockchainTransaction.set_signed(), which keeps replaced hashes in replaced_tx_hashes."
        )
