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


@cli.command("world")
@click.option("--port", type=int, help="Port for anvil (default: a free one).")
@click.option("--config-out", type=click.Path(dir_okay=False, path_type=Path), default=Path("world.json"),
              show_default=True, help="Where to write the world's config file (tokens, deployment, pools).")
@click.pass_obj
def world_command(session: Session, port: int | None, config_out: Path) -> None:
    """Serve the local world until Ctrl-C: anvil, Uniswap V2/V3, tokens, and a configured, funded vault.

    The vault's asset manager is the address of your key (--private-key-env / --keystore), funded with
    ETH for gas; the world's deployer (anvil's first dev account) owns the vault. SIGTERM and SIGHUP stop
    the world like Ctrl-C (anvil included).
    """
    if not config_out.parent.is_dir():
        raise BadInputError(f"Cannot write {config_out}: folder {config_out.parent} does not exist. "
                            "Choose another --config-out.")
    manager = session.account().address
    err = stderr_console()

    def ready(world: LocalWorld) -> None:
        try:
            config_out.write_text(json.dumps(world.config, indent=2) + "\n")
        except OSError as exc:
            raise BadInputError(f"Cannot write {config_out}: {exc.strerror or exc}. Choose another "
                                "--config-out.") from None
        err.print(f"World ready on chain {world.chain_id}; vault {world.vault} traded by {manager}.")
        err.print(f"Config written to {config_out}. In another shell:")
        sys.stdout.write(f"export VAULTEXEC_RPC_URL={world.rpc_url}\nexport VAULTEXEC_VAULT={world.vault}\n")
        sys.stdout.flush()
        err.print(f"then e.g. `vaultexec trade WETH/USDC buy 1000 --fee 500 --config {config_out} --dry-run`."
                  " Ctrl-C stops the world.")

    def wait() -> None:
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            err.print("Stopping the world.")

    err.print("Starting anvil and deploying the world...")
    try:
        with stop_signals_interrupt():  # SIGTERM/SIGHUP stop anvil too, like Ctrl-C
            serve_world(manager, port, ready, wait)
    except KeyboardInterrupt:  # before the world was ready
        raise CommandStopped("Interrupted while starting the world; anvil stopped.", EXIT_INTERRUPTED) from None
