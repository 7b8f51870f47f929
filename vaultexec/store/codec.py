"""The one place the store touches the trade model: a trade to a stored row and back, strictly.

A row is the trade's full JSON (model serialisation, strict on load) plus the few columns the store
indexes: trade id, opening time and status.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from vaultexec.errors import BadInputError, CorruptRecordError, SerialisationError
from vaultexec.model.serialisation import dump_json, load_json
from vaultexec.model.trade import TradeExecution

_EPOCH = datetime(1970, 1, 1)
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


@dataclass(frozen=True, slots=True)
class StoredRow:
    """What a backend writes for one trade."""

    trade_id: int
    opened_at_us: int
    status: str
    body: str


def normalise_vault(vault: str) -> str:
    """Lower-case 0x address: the store's key for a vault (so checksum and plain spellings match)."""
    if not isinstance(vault, str) or not _ADDRESS.match(vault):
        raise BadInputError(f"Vault address {vault!r} is not a 0x-prefixed 20-byte hex address.")
    return vault.lower()


def to_time_key(moment: datetime) -> int:
    """Microseconds since the epoch of a naive-UTC (or aware) datetime: the store's time index."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def from_time_key(micros: int) -> datetime:
    """Inverse of `to_time_key`, naive UTC."""
    return _EPOCH + timedelta(microseconds=micros)


def status_of(trade: TradeExecution) -> str:
    return str(trade.get_status().value)


def encode(trade: TradeExecution) -> StoredRow:
    """Serialise a trade for storage; refuses a trade without id or opening time."""
    if not isinstance(trade.trade_id, int) or trade.trade_id < 0:
        raise BadInputError(f"Cannot store a trade with id {trade.trade_id!r}: ids are non-negative ints.")
    if trade.opened_at is None:
        raise BadInputError(f"Cannot store trade {trade.trade_id}: it has no opened_at time to index by.")
    return StoredRow(trade.trade_id, to_time_key(trade.opened_at), status_of(trade), dump_json(trade))


def encode_batch(trades: Sequence[TradeExecution]) -> list[StoredRow]:
    """Serialise a batch for one write; BadInputError if it holds a trade id twice (nothing is written)."""
    rows = [encode(trade) for trade in trades]
    seen: set[int] = set()
    for row in rows:
        if row.trade_id in seen:
            raise BadInputError(f"Trade {row.trade_id} appears twice in one batch write; write each trade once.")
        seen.add(row.trade_id)
    return rows


def decode(body: str | bytes, vault: str, trade_id: int, where: str) -> TradeExecution:
    """Load a stored trade strictly; any problem raises CorruptRecordError naming vault, trade and place."""
    try:
        text = body.decode() if isinstance(body, bytes) else body
        trade = load_json(TradeExecution, text)
    except (SerialisationError, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
        raise CorruptRecordError(
            f"Stored trade {trade_id} of vault {vault} in {where} cannot be loaded: {exc}. "
            "Inspect or remove that record; the other records are unaffected."
        ) from exc
    if trade.trade_id != trade_id:
        raise CorruptRecordError(
            f"Stored trade {trade_id} of vault {vault} in {where} holds the JSON of trade {trade.trade_id}."
        )
    return trade
