"""`vaultexec demo`: the whole mission on the local world, with progress and a final table."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

import click
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from vaultexec.cli.app import cli
from vaultexec.cli.failures import EXIT_INTERRUPTED, CommandStopped, redact_urls, stderr_console
from vaultexec.cli.globalopts import given_on_command_line
from vaultexec.cli.session import Session
from vaultexec.cli.signals import stop_signals_interrupt
from vaultexec.cli.tables import trades_table
from vaultexec.demo import DEMO_STEPS, DEMO_STORE_URL, LocalWorld, run_demo, serve_world
from vaultexec.errors import BadInputError


@cli.command("demo")
@click.pass_context
def demo_command(ctx: click.Context) -> None:
    """Start a local world, deploy a vault, run buys and sells and one doomed trade, report, stop.

    Needs no RPC URL and no key: anvil and a fresh asset-manager key are created for the run. Reports
    go to their own store, sqlite:///vaultexec-demo.db, unless --store is given on the command line
    (VAULTEXEC_STORE is not used: demo trades never mix with those of `vaultexec world` or your vault).
    """
    session: Session = ctx.obj
    store_url = session.store_url if given_on_command_line(ctx, "store_url") else DEMO_STORE_URL
    err = stderr_console()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/"
               "{task.total}"), TimeElapsedColumn())
    try:
        with stop_signals_interrupt(), Progress(*columns, console=err, transient=False) as progress:
            task = progress.add_task("demo", total=DEMO_STEPS)

            def report(message: str, done: int) -> None:
                progress.update(task, description=message, completed=done)

            result = run_demo(store_url, report)
    except KeyboardInterrupt:
        raise CommandStopped("Demo interrupted; its anvil is stopped. Run `vaultexec demo` again for a fresh "
                             "one.", EXIT_INTERRUPTED) from None
    session.console.print(trades_table(result.trades, f"Demo trades of vault {result.vault}"))
    counts = Counter(trade.get_status().value for trade in result.trades)
    summary = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
    out = session.console
    out.print(f"{len(result.trades)} trades ({summary}) in {result.seconds:.1f}s. Anvil stopped.")
    out.print(f"Reports stored in {redact_urls(result.store_url)}", soft_wrap=True)
    out.print(f"for vault {result.vault}.")
