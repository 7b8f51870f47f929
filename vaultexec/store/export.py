"""CSV export of settled trades for the people who read the numbers (one row per trade, by time).

Human amounts are exact decimals in fixed-point notation (never exponent form). Raw amounts are the
human amounts in token units, magnitude rounded down (exact for amounts read from chain), sign kept:
positive = the vault received, negative = it spent. Gas cost is what all of the trade's transactions
paid, in wei and in the native token (18 decimals).

Text cells (pair, symbols, revert reason...) come from chain data anyone can write: one starting with
= + - @ tab or CR gets a leading single quote, so a spreadsheet shows it as text instead of running it as
a formula. Number cells are never quoted (a negative amount stays a number). Lines end in CRLF (RFC 4180).

The settlement's price check (`model.price_check`, read back from the trade's notes): `sandwich_suspected`
yes / no (empty: not checked), the loss against the start of the trade's block in reserve units and in USD
at the vault's oracle, the difference executed vs the vault's oracle in bps and USD (empty without an
oracle), and the note line itself (`price_check`, the chain's symbol escaped).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TextIO

from vaultexec.model.identifiers import AssetIdentifier
from vaultexec.model.price_check import price_checks
from vaultexec.model.trade import TradeExecution
from vaultexec.store.lifecycle import SETTLED
from vaultexec.store.protocol import ExecutionStore

NATIVE_DECIMALS = 18
CSV_COLUMNS = (
    "trade_id", "opened_at", "settled_at", "status", "side", "pair", "base", "quote",
    "planned_quantity", "executed_quantity", "executed_quantity_raw", "executed_reserve",
    "executed_reserve_raw", "executed_price", "lp_fees_paid", "gas_used", "gas_cost_wei",
    "gas_cost_native", "revert_reason", "tx_hashes",
    "sandwich_suspected", "price_check_loss", "price_check_loss_usd", "oracle_difference_bps",
    "oracle_difference_usd", "price_check",
)
#: Columns holding free text rather than numbers or times: quoted against formula injection.
TEXT_COLUMNS = frozenset({"status", "side", "pair", "base", "quote", "revert_reason", "tx_hashes", "price_check"})
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """`text` with a leading single quote if a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _human(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:f}"


def raw_units(asset: AssetIdentifier, amount: Decimal | None) -> str:
    """Raw token units of a human amount as text: magnitude rounded down, sign kept ("" for None)."""
    if amount is None:
        return ""
    magnitude = asset.convert_to_raw_floor(amount.copy_abs())  # abs() would round to 28 digits
    return str(-magnitude if amount < 0 else magnitude)


def _time(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat(sep=" ")


def trade_row(trade: TradeExecution) -> dict[str, str]:
    """One CSV row; the vault's view of signs: a buy receives base and spends reserve. Text cells are
    formula-neutralised (module doc)."""
    row = trade_fields(trade)
    return {name: neutralise_formula(value) if name in TEXT_COLUMNS else value for name, value in row.items()}


def trade_fields(trade: TradeExecution) -> dict[str, str]:
    """The exported fields of a trade as exact text, not formula-neutralised (for JSON; CSV uses trade_row)."""
    txs = trade.blockchain_transactions
    paid = [fee for fee in (tx.get_gas_fee_paid() for tx in txs) if fee is not None]
    gas_wei = sum(paid) if paid else None
    gas_used = [tx.realised_gas_units_consumed for tx in txs if tx.realised_gas_units_consumed is not None]
    spent_reserve = trade.executed_reserve
    if spent_reserve is not None and trade.is_buy():
        spent_reserve = spent_reserve.copy_negate()  # exact, unlike unary minus
    return {
        "trade_id": str(trade.trade_id),
        "opened_at": _time(trade.opened_at),
        "settled_at": _time(trade.executed_at or trade.failed_at or trade.repaired_at),
        "status": trade.get_status().value,
        "side": "buy" if trade.is_buy() else "sell" if trade.is_sell() else "adjust",
        "pair": trade.pair.get_ticker(),
        "base": trade.pair.base.token_symbol,
        "quote": trade.pair.quote.token_symbol,
        "planned_quantity": _human(trade.planned_quantity),
        "executed_quantity": _human(trade.executed_quantity),
        "executed_quantity_raw": raw_units(trade.pair.base, trade.executed_quantity),
        "executed_reserve": _human(spent_reserve),
        "executed_reserve_raw": raw_units(trade.reserve_currency, spent_reserve),
        "executed_price": _human(trade.executed_price),
        "lp_fees_paid": _human(trade.lp_fees_paid),
        "gas_used": str(sum(gas_used)) if gas_used else "",
        "gas_cost_wei": "" if gas_wei is None else str(gas_wei),
        "gas_cost_native": "" if gas_wei is None else _human(Decimal(gas_wei).scaleb(-NATIVE_DECIMALS)),
        "revert_reason": trade.get_revert_reason() or "",
        "tx_hashes": " ".join(tx.tx_hash for tx in txs if tx.tx_hash),
        **_price_check_fields(trade),
    }


def _price_check_fields(trade: TradeExecution) -> dict[str, str]:
    """The trade's last recorded price check as export cells (module doc)."""
    checks = price_checks(trade.notes)
    if not checks:
        return dict.fromkeys(("sandwich_suspected", "price_check_loss", "price_check_loss_usd",
                              "oracle_difference_bps", "oracle_difference_usd", "price_check"), "")
    line, check = checks[-1]
    oracle = check.oracle
    return {
        "sandwich_suspected": "yes" if check.flagged else "no",
        "price_check_loss": _human(check.loss),
        "price_check_loss_usd": _human(oracle.loss_usd) if oracle is not None and check.flagged else "",
        "oracle_difference_bps": _human(oracle.bps) if oracle is not None else "",
        "oracle_difference_usd": _human(oracle.usd) if oracle is not None else "",
        "price_check": line,
    }


def settled_by_time(trades: Iterable[TradeExecution]) -> list[TradeExecution]:
    """Settled trades (success, failed, repaired...) sorted by opening time, then id."""
    chosen = [t for t in trades if t.get_status().value in SETTLED]
    return sorted(chosen, key=lambda t: (t.opened_at or datetime.min, t.trade_id))


def export_csv(trades: Iterable[TradeExecution], stream: TextIO) -> str | None:
    """Write settled trades as CSV to `stream`; returns the caption, or None when none is settled.

    Caption: "Export of N trades in 2024-03-01 - 2024-03-09" (opening dates of first and last row).
    """
    rows = settled_by_time(trades)
    # CRLF line ends (RFC 4180) also make the writer quote a cell holding a bare CR, which "\n" would not.
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for trade in rows:
        writer.writerow(trade_row(trade))
    if not rows:
        return None
    first, last = rows[0].opened_at, rows[-1].opened_at
    span = f"{first:%Y-%m-%d} - {last:%Y-%m-%d}" if first and last else "unknown dates"
    return f"Export of {len(rows)} trades in {span}"


def generate_export(store: ExecutionStore, stream: TextIO,
                    now: datetime | None = None) -> tuple[str, str] | None:
    """Export a store's settled trades: (file name, caption), or None when there is nothing to export."""
    caption = export_csv(store.export_all(), stream)
    if caption is None:
        return None
    day = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    return f"trade-export-{store.vault[:10]}-{day}.csv", caption
