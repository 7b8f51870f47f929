"""`vaultexec demo`: the whole mission on the local world, with progress and a final table."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from vaultexec.cli.app import cli
from vaultexec.cli.session import Session
from vaultexec.cli.tables import trades_table
from vaultexec.demo import DEMO_STEPS, LocalWorld, run_demo, serve_world


@cli.command("demo")
@click.pass_obj
def demo_command(session: Session) -> None:
    """Start a local world, deploy a vault, run buys and sells and one doomed trade, report, stop.

    Needs no RPC URL and no key: anvil and a fresh asset-manager key are created for the run. Reports
    go to --store (default sqlite:///vaultexec.db).
    """
    err = Console(stderr=True, highlight=False)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/"
               "{task.total}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task("demo", total=DEMO_STEPS)

        def report(message: str, done: int) -> None:
            progress.update(task, description=message, completed=done)

        result = run_demo(session.store_url, report)
    session.console.print(trades_table(result.trades, f"Demo trades of vault {result.vault}"))
    counts = Counter(trade.get_status().value for trade in result.trades)
    summary = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
    session.console.print(f"{len(result.trades)} trades ({summary}) in {result.seconds:.1f}s; reports stored "
                          f"in {result.store_url} for vault {result.vault}. Anvil stopped.")


@cli.command("world")
@click.option("--port", type=int, help="Port for anvil (default: a free one).")
@click.option("--config-out", type=click.Path(dir_okay=False, path_type=Path), default=Path("world.json"),
              show_default=True, help="Where to write the world's config file (tokens, deployment, pools).")
@click.pass_obj
def world_command(session: Session, port: int | None, config_out: Path) -> None:
    """Serve the local world until Ctrl-C: anvil, Uniswap V2/V3, tokens, and a configured, funded vault.

    The vault's asset manager is the address of your key (--private-key-env / --keystore), funded with
    ETH for gas; the world's deployer (anvil's first dev account) owns the vault.
    """
    manager = session.account().address
    err = Console(stderr=True, highlight=False)

    def ready(world: LocalWorld) -> None:
        config_out.write_text(json.dumps(world.config, indent=2) + "\n")
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
    serve_world(manager, port, ready, wait)
