"""`vaultexec status` and `vaultexec export-csv`: read the execution store (and the vault, when reachable)."""

from __future__ import annotations

import io
import json
import sys
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from vaultexec.cli.app import cli
from vaultexec.cli.chainread import vault_view
from vaultexec.cli.failures import redact_urls
from vaultexec.cli.files import write_atomically
from vaultexec.cli.jsonout import command_document, trade_document, write_document
from vaultexec.cli.session import Session
from vaultexec.cli.tables import counts_table, status_counts, trades_table
from vaultexec.errors import BadInputError
from vaultexec.model.price_check import PriceCheckRecord, price_checks
from vaultexec.model.run_state import RunState
from vaultexec.model.safetext import escape_text
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.store.export import export_csv, generate_export

#: How many recent settled trades `status` lists.
RECENT_TRADES = 10


def run_state_from_trades(trades: list[TradeExecution], executor_id: str) -> RunState:
    """A RunState summarising the stored trades (RunState itself is in-memory only, never stored)."""
    state = RunState(executor_id=executor_id, executor_running=False)
    for trade in trades:
        status = trade.get_status()
        if trade.broadcasted_at is not None:
            state.record_trade_broadcast()
        if status is TradeStatus.success:
            state.record_trade_success(trade.trade_id)
        elif status is TradeStatus.failed:
            state.record_trade_failure(trade.trade_id, trade.get_revert_reason() or "failed")
        elif status is TradeStatus.repaired:
            state.record_trade_repair(trade.trade_id)
    return state


def vault_facts(session: Session, assets: list[str] | None = None) -> dict[str, Any] | None:
    """Owner, asset manager, pause flag, the loss bound with its remaining budget (USD, as strings) and the
    spend limits of `assets` (raw units), read from chain; None when no RPC URL is given."""
    if not session.rpc_url:
        return None
    vault = session.vault()
    facts: dict[str, Any] = {"chain_id": session.chain_id, "owner": vault_view(vault, "owner"),
                             "asset_manager": vault_view(vault, "assetManager"), "paused": vault_view(vault, "paused")}
    active, cap_bps, capacity, period = vault_view(vault, "lossBound")
    facts["loss_bound"] = {"active": active, "cap_bps": cap_bps, "budget": _usd(capacity),
                           "refill_period": period,
                           "budget_left": _usd(vault_view(vault, "availableLossBudget"))}
    limits: dict[str, Any] = {}
    for asset in assets or []:
        capacity, period = vault.functions.spendLimit(asset).call()
        if capacity:
            # raw units as strings, like every amount of the JSON output (exact beyond 2**53)
            limits[asset] = {"capacity": str(capacity), "refill_period": period,
                             "available": str(vault.functions.availableSpend(asset).call())}
    facts["spend_limits"] = limits
    return facts


def _usd(raw: int) -> str:
    """18-decimal valuation units as a plain decimal string ("250000", "12.5")."""
    return f"{Decimal(raw).scaleb(-18).normalize():f}"


def _traded_assets(trades: list[TradeExecution]) -> list[str]:
    return sorted({asset.address for t in trades for asset in (t.pair.base, t.pair.quote)})


def status_document(session: Session, trades: list[TradeExecution]) -> dict[str, Any]:
    """What `status` reports, as one dict: --json prints it, the tables render it (docs/cli.md, "JSON output").

    Add a new fact as a new key here, then show it in `print_status`.
    """
    state = run_state_from_trades(trades, session.require_vault_address())
    open_trades = [t for t in trades if t.is_pending() or t.is_planned()]
    settled = [t for t in trades if not (t.is_pending() or t.is_planned())][-RECENT_TRADES:]
    return command_document(
        "status", vault=session.require_vault_address(), store=redact_urls(session.store_url),
        trades_by_state=dict(sorted(status_counts(trades).items())),
        onchain=vault_facts(session, _traded_assets(trades)),
        run_state=json.loads(state.make_exportable_copy().to_json()),
        open_trades=[trade_document(t) for t in open_trades], recent_trades=[trade_document(t) for t in settled],
        sandwiches_suspected=[suspected_document(t, line, record) for t in trades
                              for line, record in price_checks(t.notes) if record.flagged])


def suspected_document(trade: TradeExecution, line: str, record: PriceCheckRecord) -> dict[str, Any]:
    """One flagged trade in `status --json`: the note and its numbers as decimal strings (null: no oracle)."""
    oracle = record.oracle
    return {"trade_id": trade.trade_id, "note": line, "loss": f"{record.loss:f}",
            "reserve": trade.reserve_currency.token_symbol,
            "loss_usd": f"{oracle.loss_usd:f}" if oracle is not None else None,
            "oracle_difference_bps": f"{oracle.bps:f}" if oracle is not None else None,
            "oracle_difference_usd": f"{oracle.usd:f}" if oracle is not None else None}


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (counts, open and recent trades, "
              "RunState) only; schema: `vaultexec docs cli`.")
@click.pass_obj
def status_command(session: Session, as_json: bool) -> None:
    """Trades of the vault by state, open and recent trades, and a RunState summary as JSON."""
    trades = session.store().export_all()
    document = status_document(session, trades)
    if as_json:
        write_document(document)
        return
    print_status(session.console, document, {t.trade_id: t for t in trades})


def print_status(out: Console, document: dict[str, Any], trades: dict[int, TradeExecution]) -> None:
    """The status document as text and tables (the trades' tables are drawn from the trades themselves)."""
    out.print(f"Vault {document['vault']}  store {document['store']}")
    facts = document["onchain"]
    if facts:
        out.print(f"chain {facts['chain_id']}  owner {facts['owner']}  asset manager {facts['asset_manager']}"
                  f"  {'PAUSED' if facts['paused'] else 'active'}")
        bound = facts["loss_bound"]
        if bound["active"]:
            out.print(f"loss bound: cap {bound['cap_bps']} bps per trade, budget left {bound['budget_left']} of "
                      f"{bound['budget']} USD per {bound['refill_period']}s")
        else:
            out.print("loss bound: OFF (only spend limits and opted-in assets bound a leaked key)")
        for asset, limit in facts["spend_limits"].items():
            out.print(f"spend limit {asset}: {limit['available']} of {limit['capacity']} raw available "
                      f"(refill {limit['refill_period']}s)")
    out.print(counts_table(Counter(document["trades_by_state"])))
    open_trades = [trades[t["trade_id"]] for t in document["open_trades"]]
    if open_trades:
        out.print(trades_table(open_trades, "Open trades (run `vaultexec resume` to finish them)"))
    recent = [trades[t["trade_id"]] for t in document["recent_trades"]]
    if recent:
        out.print(trades_table(recent, f"Last {len(recent)} settled trades"))
    for suspected in document["sandwiches_suspected"]:
        # notes hold token symbols (chain text): escaped, and printed as plain text (no markup)
        out.print(f"SANDWICH trade #{suspected['trade_id']}: {escape_text(suspected['note'])}", markup=False,
                  highlight=False, soft_wrap=True)  # one line whatever the width: scripts grep for it
    out.print("RunState:")
    out.print_json(json.dumps(document["run_state"]))


def parse_day(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise BadInputError(f"{option} {text!r}: expected a date as YYYY-MM-DD") from None


@cli.command("export-csv")
@click.option("--output", "-o", metavar="FILE", help="Write here ('-' for stdout); default "
              "trade-export-<vault>-<date>.csv in the current directory.")
@click.option("--since", metavar="YYYY-MM-DD", help="Only trades opened on or after this day (UTC).")
@click.option("--until", metavar="YYYY-MM-DD", help="Only trades opened on or before this day (UTC).")
@click.option("--yesterday", is_flag=True, help="Only trades opened yesterday (UTC).")
@click.pass_obj
def export_csv_command(session: Session, output: str | None, since: str | None, until: str | None,
                       yesterday: bool) -> None:
    """Export settled trades as CSV (one row per trade, exact amounts)."""
    start, end = parse_day(since, "--since"), parse_day(until, "--until")
    if yesterday:
        day = datetime.combine(datetime.now(UTC).date() - timedelta(days=1), time())
        start, end = day, day
    if end is not None:
        end = end + timedelta(days=1) - timedelta(microseconds=1)
    store = session.store(check_chain=False)  # the file only: no node needed
    err = Console(stderr=True, highlight=False)
    if output == "-":
        caption = export_csv(store.iterate_by_time(start, end), sys.stdout)
        err.print(caption or "No settled trade to export.")
        return
    if output is None and start is None and end is None:
        buffer = io.StringIO()
        named = generate_export(store, buffer)
        if named is None:
            err.print("No settled trade to export; no file written.")
            return
        write_atomically(Path(named[0]), lambda stream: stream.write(buffer.getvalue()))
        err.print(f"{named[1]}: wrote {named[0]}")
        return
    target = Path(output or f"trade-export-{store.vault[:10]}-{datetime.now(UTC):%Y-%m-%d}.csv")
    caption = write_atomically(target, lambda stream: export_csv(store.iterate_by_time(start, end), stream))
    err.print(f"{caption or 'No settled trade in that period (header only)'}: wrote {target}")
