"""Rich tables of trades, built from the same row the CSV export writes (so screen and files agree).

Every cell is a `Text`, never markup: token symbols and revert reasons come from the chain and are shown
exactly as they are (`[/x]` or `:abc:` in them is neither markup nor an emoji).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

from rich.table import Table
from rich.text import Text

from vaultexec.model.safetext import escape_text
from vaultexec.model.trade import TradeExecution
from vaultexec.store.export import trade_row

#: Significant digits shown for amounts and prices (stored values stay exact).
DISPLAY_DIGITS = 8


def realised_slippage(trade: TradeExecution) -> Decimal | None:
    """How much worse than planned the executed price was, as a fraction (negative = better).

    Buy: paid more quote per base than planned; sell: received less.
    """
    if trade.executed_price is None or not trade.planned_price:
        return None
    change = (trade.executed_price - trade.planned_price) / trade.planned_price
    return change if trade.is_buy() else -change


def short_number(text: str) -> str:
    """An exact decimal string shortened for the screen (empty stays empty)."""
    if not text:
        return ""
    value = Decimal(text)
    if value == 0:
        return "0"
    digits = value.adjusted() - DISPLAY_DIGITS + 1
    rounded = value.quantize(Decimal(1).scaleb(min(digits, 0)), rounding=ROUND_HALF_EVEN)
    return f"{rounded.normalize():f}"


def percent(fraction: Decimal | None) -> str:
    return "" if fraction is None else f"{fraction * 100:.3f}%"


def trades_table(trades: Iterable[TradeExecution], title: str) -> Table:
    """One row per trade: pair, side, planned vs executed amounts, price, slippage, fees, gas, status, reason."""
    table = Table(title=Text(title), title_justify="left", show_lines=False)
    for name, justify in (("id", "right"), ("pair", "left"), ("side", "left"), ("planned", "right"),
                          ("executed", "right"), ("price", "right"), ("slippage", "right"),
                          ("LP fees", "right"), ("gas", "right"), ("status", "left"), ("revert reason", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for trade in trades:
        row = trade_row(trade)
        base, quote = trade.pair.base.token_symbol, trade.pair.quote.token_symbol
        planned = (f"{short_number(str(trade.planned_reserve))} {quote}" if trade.is_buy()
                   else f"{short_number(str(abs(trade.planned_quantity)))} {base}")
        executed = ""
        if trade.executed_quantity is not None:
            executed = f"{short_number(str(abs(trade.executed_quantity)))} {base}"
            if trade.executed_reserve is not None:
                executed += f" / {short_number(str(abs(trade.executed_reserve)))} {quote}"
        status = row["status"]
        style = {"success": "green", "failed": "red"}.get(status, "yellow")
        cells = (row["trade_id"], row["pair"], row["side"], planned, executed, short_number(row["executed_price"]),
                 percent(realised_slippage(trade)), short_number(row["lp_fees_paid"]), row["gas_used"])
        # symbols and reasons are chain text: escaped, so a revert string cannot forge lines or repaint
        table.add_row(*(Text(escape_text(cell)) for cell in cells), Text(status, style=style),
                      Text(escape_text(row["revert_reason"])))
    return table


def status_counts(trades: Iterable[TradeExecution]) -> Counter[str]:
    return Counter(trade.get_status().value for trade in trades)


def counts_table(counts: Counter[str]) -> Table:
    table = Table(title="Trades by state", title_justify="left")
    table.add_column("state")
    table.add_column("trades", justify="right")
    for state, count in sorted(counts.items()):
        table.add_row(Text(state), str(count))
    table.add_row("total", str(sum(counts.values())), style="bold")
    return table
