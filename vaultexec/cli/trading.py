"""Shared by `trade`, `resume`, `repair` and the demo: build trades, the executor, and show plans."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

import click
from rich.table import Table
from rich.text import Text
from web3 import Web3

from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.cli.confirmed import ConfirmedPlanner
from vaultexec.cli.failures import EXIT_ABORTED, EXIT_INTERRUPTED, NOTHING_SENT_MESSAGE, CommandStopped, was_interrupted
from vaultexec.cli.vaultconfig import parse_decimal
from vaultexec.dex.deployments import Deployment
from vaultexec.errors import BadInputError
from vaultexec.execution.executor import ExecutorConfig, VaultExecutionModel, default_tracker_config
from vaultexec.execution.plan import TradePlan
from vaultexec.execution.routing import VaultRouting
from vaultexec.execution.routing_direct import Venue
from vaultexec.execution.routing_input import MAX_UINT256
from vaultexec.model.identifiers import AssetIdentifier, TradingPairIdentifier
from vaultexec.model.run_state import RunState, utc_now
from vaultexec.model.trade import TradeExecution, TradeType
from vaultexec.store.protocol import ExecutionStore

#: Largest slippage tolerance the CLI accepts, in percent (the model refuses >= 100 %).
MAX_SLIPPAGE_PERCENT = Decimal(50)
#: Stand-in for the side routing fills from its quote (buy: quantity; sell: reserve) before planning.
UNQUOTED = Decimal(1)


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


def next_trade_id(store: ExecutionStore) -> int:
    """One above the highest stored id (1 for an empty store); reads ids only, never a stored record."""
    highest = store.max_trade_id()
    return 1 if highest is None else highest + 1


def make_trade(trade_id: int, pair: TradingPairIdentifier, buy: bool, amount: Decimal,
               slippage: Decimal) -> TradeExecution:
    """A planned trade: a buy spends `amount` of quote, a sell sells `amount` of base.

    The other side and the prices are placeholders until routing quotes the trade.
    """
    return TradeExecution(
        trade_id=trade_id, position_id=trade_id, trade_type=TradeType.rebalance, pair=pair,
        opened_at=utc_now(), planned_quantity=UNQUOTED if buy else -amount,
        planned_reserve=amount if buy else UNQUOTED, planned_price=UNQUOTED, reserve_currency=pair.quote,
        slippage_tolerance=slippage)


def build_executor(client: RPCClient, web3: Web3, vault: str, wallet: HotWallet, store: ExecutionStore,
                   pairs: Sequence[TradingPairIdentifier], run_state: RunState | None = None,
                   timeout: int | None = None,
                   deployment: Deployment | None = None,
                   venue: Venue = Venue.AUTO) -> tuple[VaultExecutionModel, ConfirmedPlanner]:
    """The executor and its planner (`planner.routing` plans a trade to show it, `planner.confirm(plan)` holds
    the trade to that plan); `timeout` (seconds) bounds the wait for each transaction; `deployment` gives
    routers and quoters no registered deployment knows; `venue` the router path or the direct path."""
    routing = VaultRouting(web3, vault, wallet.address, list(pairs), client=client, deployment=deployment,
                           venue=venue)
    planner = ConfirmedPlanner(routing)
    tracker = None
    if timeout is not None:
        tracker = replace(default_tracker_config(wallet.chain_id), timeout=float(timeout))
    model = VaultExecutionModel(client, vault, planner, wallet, store, run_state or RunState(),
                                ExecutorConfig(tracker=tracker))
    return model, planner


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
    table = Table(title=Text(f"Plan of trade #{trade.trade_id}: {trade.get_human_description()}"),
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
