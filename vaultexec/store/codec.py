"""The one place the store touches the trade model: a trade to a stored row and back, strictly.

A row is the trade's full JSON (model serialisation, strict on load) plus the few columns the store
indexes: trade id, opening time and status. Anything that fails while loading stored data (a body, an
index member, a history entry) becomes a CorruptRecordError naming the record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeGuard

from vaultexec.errors import BadInputError, CorruptRecordError, SerialisationError, VaultExecError
from vaultexec.model.serialisation import dump_json, load_json
from vaultexec.model.trade import TradeExecution
from vaultexec.store.protocol import Transition

_EPOCH = datetime(1970, 1, 1)
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
#: Deepest JSON nesting a stored record may have (a trade is ~6 levels; executor extras add a few).
MAX_JSON_DEPTH = 100
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


#: (chain id, lower-case wallet address, nonce): a nonce one trade's transaction uses.
NonceClaim = tuple[int, str, int]


@dataclass(frozen=True, slots=True)
class StoredRow:
    """What a backend writes for one trade."""

    trade_id: int
    opened_at_us: int
    status: str
    body: str
    tx_hashes: frozenset[str]
    #: (chain id, lower-case sender, nonce) of every signed transaction of the trade.
    nonces: frozenset[NonceClaim] = frozenset()


def normalise_vault(vault: str) -> str:
    """Lower-case 0x address: the store's key for a vault (so checksum and plain spellings match)."""
    if not isinstance(vault, str) or not _ADDRESS.match(vault):
        raise BadInputError(f"Vault address {vault!r} is not a 0x-prefixed 20-byte hex address.")
    return vault.lower()


def is_trade_id(value: object) -> TypeGuard[int]:
    """A non-negative int, and not a bool (True would be stored as trade 1)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_trade_id(trade_id: object) -> int:
    """A trade id given to a store method, else BadInputError."""
    if not is_trade_id(trade_id):
        raise BadInputError(f"Trade id {trade_id!r} is not a trade id: ids are non-negative ints.")
    return trade_id


def to_time_key(moment: datetime) -> int:
    """Microseconds since the epoch of a naive-UTC (or aware) datetime: the store's time index."""
    if not isinstance(moment, datetime):
        raise BadInputError(f"Time bound {moment!r} is not a datetime.")
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def from_time_key(micros: int) -> datetime:
    """Inverse of `to_time_key`, naive UTC."""
    return _EPOCH + timedelta(microseconds=micros)


def status_of(trade: TradeExecution) -> str:
    return str(trade.get_status().value)


def tx_hashes_of(trade: TradeExecution) -> frozenset[str]:
    """Every hash signed for the trade (replaced ones included), lower-case."""
    return frozenset(h.lower() for tx in trade.blockchain_transactions for h in tx.get_all_tx_hashes())


def check_storable(trade: TradeExecution) -> None:
    """BadInputError unless the trade has every field the store indexes by (id, opened_at).

    The executor calls it before planning, so such a trade is refused before anything is signed.
    """
    if not is_trade_id(trade.trade_id):
        raise BadInputError(f"Cannot store a trade with id {trade.trade_id!r}: ids are non-negative ints. "
                            "Give each trade a new non-negative int id.")
    if trade.opened_at is None:
        raise BadInputError(f"Cannot store trade #{trade.trade_id}: trade #{trade.trade_id} has no opened_at "
                            "time to index by. Set opened_at (naive UTC) when you create the trade.")
#: Statuses in which a trade whose transaction was never mined gives its nonce up (the nonce never ran for it:
#: refused at broadcast, dropped, or used by another transaction), so a later trade may sign it.
_NONCE_RELEASED = frozenset({"failed", "repaired", "expired"})


def nonces_of(trade: TradeExecution) -> frozenset[NonceClaim]:
    """(chain id, sender, nonce) of every signed transaction of the trade (an unsigned one claims nothing, nor
    one never mined of a trade that is closed: see `_NONCE_RELEASED`)."""
    closed = status_of(trade) in _NONCE_RELEASED
    return frozenset((tx.chain_id, tx.from_address.lower(), tx.nonce) for tx in trade.blockchain_transactions
                     if tx.tx_hash is not None and tx.nonce is not None and tx.chain_id is not None
                     and tx.from_address is not None and not (closed and tx.block_number is None))


def encode(trade: TradeExecution) -> StoredRow:
    """Serialise a trade for storage; refuses a trade without id or opening time."""
    check_storable(trade)
    assert trade.opened_at is not None  # checked above
    return StoredRow(trade.trade_id, to_time_key(trade.opened_at), status_of(trade), dump_json(trade),
                     tx_hashes_of(trade), nonces_of(trade))


def claims_row(trade: TradeExecution) -> StoredRow:
    """The claim-bearing fields of a stored trade (hashes, nonces), without serialising it again."""
    return StoredRow(trade.trade_id, 0, status_of(trade), "", tx_hashes_of(trade), nonces_of(trade))


def encode_batch(trades: Sequence[TradeExecution]) -> list[StoredRow]:
    """Serialise a batch for one write; BadInputError if it holds a trade id twice (nothing is written)."""
    rows = [encode(trade) for trade in trades]
    seen: set[int] = set()
    for row in rows:
        if row.trade_id in seen:
            raise BadInputError(f"Trade {row.trade_id} appears twice in one batch write; write each trade once.")
        seen.add(row.trade_id)
    return rows


def decode(body: str | bytes | None, vault: str, trade_id: int, where: str) -> TradeExecution:
    """Load a stored trade strictly; any problem raises CorruptRecordError naming vault, trade and place."""
    try:
        if body is None:
            raise SerialisationError("the record has no body")
        text = body.decode() if isinstance(body, bytes) else body
        check_nesting(text)
        trade = load_json(TradeExecution, text)
    except Exception as exc:  # whatever the stored bytes make the loader raise, the record is at fault
        raise CorruptRecordError(
            f"Stored trade {trade_id} of vault {vault} in {where} cannot be loaded: {describe(exc)}. "
            "Inspect or remove that record; the other records are unaffected."
        ) from exc
    if trade.trade_id != trade_id:
        raise CorruptRecordError(
            f"Stored trade {trade_id} of vault {vault} in {where} holds the JSON of trade {trade.trade_id}."
        )
    return trade


def check_nesting(text: str) -> None:
    """SerialisationError if the JSON `text` nests deeper than MAX_JSON_DEPTH, checked before parsing.

    The C JSON parser recurses once per level; in a process that raised the recursion limit (py_ecc, loaded
    with web3, sets 100,000) a deep enough record overflows the C stack and kills the process.
    """
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:  # cannot be deeper: the usual, cheap case
        return
    depth = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            raise SerialisationError(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels")


def describe(exc: BaseException) -> str:
    """An exception as message text; the type is named unless it is one of our own errors."""
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, VaultExecError) else f"{type(exc).__name__}: {text}"


def trade_id_of_member(member: bytes | str, vault: str, where: str) -> int:
    """The trade id of a Redis index member (zero-padded digits); CorruptRecordError naming it otherwise."""
    text = member.decode(errors="replace") if isinstance(member, bytes) else member
    if not (text.isascii() and text.isdigit()):
        raise CorruptRecordError(
            f"Vault {vault}: {where} holds member {text!r}, which is not a trade id. Remove that member; "
            "the trade records are unaffected.")
    return int(text)


def decode_transition(entry: str | bytes, vault: str, trade_id: int, where: str) -> Transition:
    """One Redis history entry (JSON); CorruptRecordError naming the trade if it does not load."""
    try:
        text = entry.decode() if isinstance(entry, bytes) else entry
        check_nesting(text)
        item = json.loads(text)
        fields = item["from"], item["to"], item["at_us"], item["reason"]
    except Exception as exc:  # not JSON, not an object, a key missing
        raise _corrupt_history(trade_id, vault, where, entry, exc) from exc
    return make_transition(trade_id, *fields, vault=vault, where=where)


def make_transition(trade_id: int, from_status: object, to_status: object, at_us: object, reason: object,
                    vault: str, where: str) -> Transition:
    """A Transition from stored fields, type-checked; CorruptRecordError naming the trade otherwise."""
    try:
        if not (isinstance(from_status, str | None) and isinstance(to_status, str)
                and isinstance(reason, str | None)):
            raise SerialisationError("from, to and reason must be text")
        if not isinstance(at_us, int) or isinstance(at_us, bool):
            raise SerialisationError(f"time {at_us!r:.40} is not an integer")
        return Transition(trade_id, from_status, to_status, from_time_key(at_us), reason)
    except Exception as exc:  # wrong types, time out of range
        fields = (from_status, to_status, at_us, reason)
        raise _corrupt_history(trade_id, vault, where, fields, exc) from exc


def _corrupt_history(trade_id: int, vault: str, where: str, entry: object, exc: Exception) -> CorruptRecordError:
    return CorruptRecordError(
        f"History of trade {trade_id} of vault {vault} in {where} holds an entry that cannot be loaded "
        f"({describe(exc)}): {entry!r:.120}. Remove that entry; the trade record itself is unaffected.")
