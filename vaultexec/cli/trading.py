"""Shared by `trade`, `resume`, `repair`: parse what the user typed, show plans (building trades and the executor
lives in `vaultexec.execution.assembly`, re-exported here)."""

from __future__ import annotations

from decimal import Decimal

import click
from rich.table import Table
from rich.text import Text

from vaultexec.cli.failures import EXIT_ABORTED, EXIT_INTERRUPTED, NOTHING_SENT_MESSAGE, CommandStopped, was_interrupted
from vaultexec.cli.vaultconfig import parse_decimal
from vaultexec.errors import BadInputError
from vaultexec.execution.assembly import UNQUOTED, build_executor, make_trade, next_trade_id
from vaultexec.execution.plan import TradePlan
from vaultexec.execution.routing_input import MAX_UINT256
from vaultexec.model.identifiers import AssetIdentifier, TradingPairIdentifier
from vaultexec.model.trade import TradeExecution

__all__ = ["UNQUOTED", "build_executor", "make_trade", "next_trade_id"]  # re-exported, see module doc

#: Largest slippage tolerance the CLI accepts, in percent (the model refuses >= 100 %).
MAX_SLIPPAGE_PERCENT = Decimal(50)



def parse_side(text: str) -> bool:
    """True for buy, False for sell."""
    side = text.strip().lower()
    if side not in ("buy", "sell"):
        raise BadInputError(f"Side {text!r}: write buy or sell")
    return side == "buy"


def parse_amount(text: str) -> Decimal:
    return parse_decimal(text, "Amount")


def parse_slippage_percent(text: str) -> Decimal:
    """"0.5" or "0.5%" -> Decimal("0.005")."""
    value = parse_decimal(text.strip().removesuffix("%"), "Slippage tolerance (percent)")
    if value >= MAX_SLIPPAGE_PERCENT:
        raise BadInputError(f"Slippage tolerance {text}% is too wide: give a percentage below "
                            f"{MAX_SLIPPAGE_PERCENT}, e.g. 0.5")
    return value / 100


def check_raw_amount(amount: Decimal, asset: AssetIdentifier) -> int:
    """`amount` of `asset` in raw units; refused when it is below one raw unit or beyond a uint256."""
    raw = asset.convert_to_raw_floor(amount)
    if raw < 1:
        raise BadInputError(f"Amount {amount} {asset.token_symbol} is less than the token's smallest unit "
                            f"(it has {asset.decimals} decimals)")
    if raw > MAX_UINT256:
        raise BadInputError(f"Amount {amount:.6g} {asset.token_symbol} is more than any token can hold "
                            f"(a uint256 of raw units with {asset.decimals} decimals); check the amount")
    return raw


def parse_timeout(seconds: int | None) -> int | None:
    if seconds is not None and seconds <= 0:
        raise BadInputError(f"--timeout {seconds}: give a number of seconds above 0")
    return seconds


def confirm_sending(question: str) -> None:
    """Ask `question`; anything but yes (or Ctrl-C, or no input) stops the command: nothing was sent."""
    try:
        accepted = click.confirm(question, err=True)
    except click.exceptions.Abort as exc:  # Ctrl-C or end of input at the prompt
        code = EXIT_INTERRUPTED if was_interrupted(exc) else EXIT_ABORTED
        raise CommandStopped(NOTHING_SENT_MESSAGE, code) from exc
    if not accepted:
        raise CommandStopped(NOTHING_SENT_MESSAGE, EXIT_ABORTED)


def route_description(pair: TradingPairIdentifier, buy: bool) -> str:
    """The route as chosen before any quote: venue, router, and each hop's pool and fee tier."""
    hops = pair.get_route_pools(buy)
    pools = ", ".join(f"{pool} (fee {fee})" for pool, fee in hops)
    return f"{pair.kind.value} via router {pair.exchange_address}, {len(hops)} hop(s): {pools}"


def request_table(trade: TradeExecution) -> Table:
    """What is known of a trade before routing quotes it: shown when planning or pre-flight refuses it."""
    table = Table(title=Text(f"Trade #{trade.trade_id} as asked (not planned)"), title_justify="left",
                  show_header=False)
    table.add_column("what")
    table.add_column("value")
    pair = trade.pair
    spend = (f"{trade.planned_reserve} {pair.quote.token_symbol}" if trade.is_buy()
             else f"{-trade.planned_quantity} {pair.base.token_symbol}")
    rows = [
        ("side", f"{'buy' if trade.is_buy() else 'sell'} {pair.base.token_symbol} for {pair.quote.token_symbol}"),
        ("route", route_description(pair, trade.is_buy())),
        ("path", " -> ".join(a.token_symbol for a in pair.get_route_assets(trade.is_buy()))),
        ("vault spends", spend),
        ("slippage tolerance", f"{(trade.slippage_tolerance or 0) * 100:f} %"),
    ]
    for what, value in rows:
        table.add_row(Text(what), Text(value))
    return table


def plan_table(trade: TradeExecution, plan: TradePlan) -> Table:
    """What will be sent: route, amounts and bounds, prices, fees, gas and the pre-flight verdict."""
    spend, receive = plan.asset_deltas
    side = "buy" if trade.is_buy() else "sell"
    table = Table(title=Text(f"Plan of trade #{trade.trade_id}: {side} {trade.pair.get_ticker()}"),
                  title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value")
    sim = plan.simulation
    verdict = "not simulated" if sim is None else (
        f"ok ({sim.method}, gas used {sim.gas_used})" if sim.success else f"REVERTS: {sim.revert}")
    rows = [
        ("route", plan.route.describe_direct() if plan.direct_route is not None else plan.route.describe()),
        ("path", " -> ".join(a.token_symbol for a in trade.pair.get_route_assets(trade.is_buy()))),
        ("vault spends (max)", f"{spend.asset.convert_to_decimal(-spend.raw_amount)} {spend.asset.token_symbol}"),
        ("expected to receive", f"{receive.asset.convert_to_decimal(plan.expected_out_raw)} "
                                f"{receive.asset.token_symbol}"),
        ("minimum receive", f"{receive.asset.convert_to_decimal(receive.raw_amount)} {receive.asset.token_symbol}"),
        ("planned price", f"{trade.planned_price:.8g} {trade.pair.quote.token_symbol}/{trade.pair.base.token_symbol}"),
        ("mid price", "" if trade.planned_mid_price is None else f"{trade.planned_mid_price:.8g}"),
        ("slippage tolerance", f"{(trade.slippage_tolerance or 0) * 100:f} %"),
        ("estimated LP fees", "" if trade.lp_fees_estimated is None
         else f"{trade.lp_fees_estimated:.8g} {trade.pair.quote.token_symbol}"),
        ("gas limit", str(plan.gas_limit)),
        ("quoted at block", str(plan.quoted_at_block)),
        ("pre-flight", verdict),
    ]
    for what, value in rows:
        table.add_row(Text(what), Text(value))
    return table
