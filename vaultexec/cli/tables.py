"""Rich tables of trades, built from the same fields the CSV export writes (so screen and files agree).

Tables fit 100 columns: one line per trade with units in the cells, a legend under the table, and the
reason of each failed trade on its own line below (a revert reason is too long for a cell).
Every cell is a `Text`, never markup: token symbols and revert reasons come from the chain and are shown
exactly as they are (`[/x]` or `:abc:` in them is neither markup nor an emoji).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from vaultexec.model.safetext import escape_text
from vaultexec.model.trade import TradeExecution
from vaultexec.store.export import trade_fields

#: Significant digits shown for amounts and prices (stored values stay exact: export-csv, --json).
DISPLAY_DIGITS = 6
#: Widest a table may be: a 100-column terminal shows it whole.
TABLE_WIDTH = 100
LEGEND = ("price: quote token per base token. slip.: executed price vs planned, + = worse for the vault. "
          "LP fee: in the quote token. gas: gas units used.")


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
    return "" if fraction is None else f"{fraction * 100:+.2f}%"


def _amount(value: Decimal | None, symbol: str) -> str:
    return "" if value is None else f"{short_number(str(abs(value)))} {symbol}"


def trade_cells(trade: TradeExecution) -> tuple[str, ...]:
    """#, trade, spent, received, price, slip., LP fee, gas, status: what the vault spent and received,
    executed amounts once known (else the planned spend)."""
    fields = trade_fields(trade)
    base, quote = trade.pair.base.token_symbol, trade.pair.quote.token_symbol
    executed = trade.executed_quantity is not None
    if trade.is_buy():
        spent = _amount(trade.executed_reserve if executed else trade.planned_reserve, quote)
        received = _amount(trade.executed_quantity, base) if executed else ""
    else:
        spent = _amount(trade.executed_quantity if executed else trade.planned_quantity, base)
        received = _amount(trade.executed_reserve, quote) if executed else ""
    price = f"{short_number(fields['executed_price'])} {quote}" if fields["executed_price"] else ""
    fees = f"{short_number(fields['lp_fees_paid'])} {quote}" if fields["lp_fees_paid"] else ""
    gas = f"{int(fields['gas_used']):,}" if fields["gas_used"] else ""
    return (fields["trade_id"], f"{fields['side']} {fields['pair']}", spent, received, price,
            percent(realised_slippage(trade)), fees, gas, fields["status"])


def trades_table(trades: Iterable[TradeExecution], title: str) -> RenderableType:
    """One line per trade (see `trade_cells`), the legend, then one line per failed trade with its reason."""
    trades = list(trades)
    table = Table(title=Text(title), title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 0),
                  caption=Text(LEGEND), caption_justify="left")
    for name, justify in (("#", "right"), ("trade", "left"), ("spent", "right"), ("received", "right"),
                          ("price", "right"), ("slip.", "right"), ("LP fee", "right"), ("gas", "right"),
                          ("status", "left")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for trade in trades:
        *cells, status = trade_cells(trade)
        style = {"success": "green", "failed": "red"}.get(status, "yellow")
        # symbols and reasons are chain text: escaped, so a revert string cannot forge lines or repaint
        table.add_row(*(Text(escape_text(cell)) for cell in cells), Text(status, style=style))
    reasons = [Text(f"#{trade.trade_id} {trade.get_status().value}: {escape_text(trade.get_revert_reason() or '')}")
               for trade in trades if trade.get_revert_reason()]
    return Group(table, *reasons)


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
