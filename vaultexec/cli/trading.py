"""Shared by `trade`, `resume`, `repair` and the demo: build trades, the executor, and show plans."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from rich.table import Table
from web3 import Web3

from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.cli.vaultconfig import parse_decimal
from vaultexec.errors import BadInputError
from vaultexec.execution.executor import ExecutorConfig, RoutingPlanner, VaultExecutionModel
from vaultexec.execution.plan import TradePlan
from vaultexec.execution.routing import VaultRouting
from vaultexec.model.identifiers import TradingPairIdentifier
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


def next_trade_id(store: ExecutionStore) -> int:
    return max((trade.trade_id for trade in store.export_all()), default=0) + 1


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
                   ) -> tuple[VaultExecutionModel, RoutingPlanner]:
    routing = VaultRouting(web3, vault, wallet.address, list(pairs), client=client)
    planner = RoutingPlanner(routing)
    model = VaultExecutionModel(client, vault, planner, wallet, store, run_state or RunState(),
                                ExecutorConfig())
    return model, planner


def plan_table(trade: TradeExecution, plan: TradePlan) -> Table:
    """What will be sent: route, amounts and bounds, prices, fees, gas and the pre-flight verdict."""
    spend, receive = plan.asset_deltas
    table = Table(title=f"Plan of trade #{trade.trade_id}: {trade.get_human_description()}",
                  title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value")
    sim = plan.simulation
    verdict = "not simulated" if sim is None else (
        f"ok ({sim.method}, gas used {sim.gas_used})" if sim.success else f"REVERTS: {sim.revert}")
    rows = [
        ("route", plan.route.describe()),
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
        table.add_row(what, value)
    return table
