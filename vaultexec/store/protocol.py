"""The store protocol the execution pipeline writes through; SQLite and Redis implement it alike.

One store instance serves one vault: records are keyed by (vault address, trade id). A record is the
whole `TradeExecution`; the same record is the write-ahead entry (created with its signed transactions
before they are broadcast) and, once settled, the execution report. See docs/store.md.

Both backends also refuse a transaction hash or a (chain, wallet, nonce) that another trade holds
(`TransactionClaimedError`, see `store.claims`) and answer `highest_nonce(chain_id, wallet)` and
`nonce_holder(chain_id, wallet, nonce)`; those two are not part of the protocol (a store without them, e.g. a
test double, simply gets no nonce-floor check), nor are leases (`store.lease`, by backend).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from vaultexec.model.trade import TradeExecution


@dataclass(frozen=True, slots=True)
class Transition:
    """One accepted write of a trade: state before (None on create), state after, when, and why."""

    trade_id: int
    from_status: str | None
    to_status: str
    at: datetime
    reason: str | None = None


@runtime_checkable
class ExecutionStore(Protocol):
    """Durable, append-only store of one vault's trades; every write is on disk before it returns."""

    @property
    def vault(self) -> str:
        """The vault address this store serves, lower-case."""
        ...

    def create(self, trade: TradeExecution) -> None:
        """Persist a new trade; DuplicateRecordError if its id is already stored."""
        ...

    def update(self, trade: TradeExecution) -> None:
        """Replace a stored trade with a later state of it; StoreTransitionError if it moves backwards or
        drops a transaction hash the stored record holds (replaced hashes included)."""
        ...

    def create_many(self, trades: Sequence[TradeExecution]) -> None:
        """Persist new trades in one durable write, all or nothing: DuplicateRecordError (nothing written)
        if any id is already stored; BadInputError if the batch holds an id twice."""
        ...

    def update_many(self, trades: Sequence[TradeExecution]) -> None:
        """Update stored trades in one durable write, all or nothing, each checked as by `update()`."""
        ...

    def revert_to_broadcasted(self, trade: TradeExecution, reason: str) -> None:
        """Store a success/failed trade rolled back to broadcasted by a reorg; `reason` is kept in history."""
        ...

    def load(self, trade_id: int) -> TradeExecution:
        """The stored trade; RecordNotFoundError if absent, CorruptRecordError if it does not load,
        BadInputError if `trade_id` is not a non-negative int."""
        ...

    def iterate_by_time(self, start: datetime | None = None, end: datetime | None = None,
                        descending: bool = False) -> Iterator[TradeExecution]:
        """Trades with `start <= opened_at <= end` (either bound optional), ties broken by trade id."""
        ...

    def first(self) -> TradeExecution | None:
        """The earliest-opened trade, or None."""
        ...

    def last(self) -> TradeExecution | None:
        """The latest-opened trade, or None."""
        ...

    def list_by_status(self, *statuses: str) -> list[TradeExecution]:
        """Trades in any of `statuses` (TradeStatus values), oldest first, each once, read at one instant;
        BadInputError for a status the lifecycle does not know."""
        ...

    def export_all(self) -> list[TradeExecution]:
        """Every trade of this vault, oldest first."""
        ...

    def get_metadata(self, key: str) -> str | None:
        """A small record about this vault's store (e.g. "chain", see store.chainbinding), None when unset."""
        ...

    def set_metadata_if_absent(self, key: str, value: str) -> str:
        """Set the record `key` unless it is set (atomically); returns the stored value, old or new."""
        ...

    def max_trade_id(self) -> int | None:
        """The highest trade id stored for this vault, or None when it has none. Reads the ids only: no
        record is decoded, so it is cheap and a corrupt record does not stop it."""
        ...

    def history(self, trade_id: int) -> list[Transition]:
        """Every accepted write of the trade, oldest first."""
        ...

    def count(self) -> int:
        ...

    def list_vaults(self) -> list[str]:
        """Every vault address with at least one trade in this backend (not only this store's)."""
        ...

    def close(self) -> None:
        ...
