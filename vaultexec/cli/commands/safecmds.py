"""`vaultexec safe-deploy-module`, `safe-configure`, `safe-status`: the trade guard as a module on an existing
Safe (deploy + enable, configure, status).

The module is owned by the Safe: enabling and configuring it are Safe transactions. When the signing key is
an owner of a threshold-1 Safe, the command executes them; otherwise it prints each Safe transaction (to,
value, data, operation, nonce and its safeTxHash) for the owners to sign and execute in their Safe app.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table
from web3 import Web3
from web3.contract import Contract

from vaultexec.cli.app import cli
from vaultexec.cli.chainread import missing_settings, token_decimals, unbounded_on_vault
from vaultexec.cli.commands.vaultcmds import (
    config_options,
    config_table,
    count_settings,
    refuse_unbounded,
    request_from,
)
from vaultexec.cli.failures import stderr_console
from vaultexec.cli.session import Session
from vaultexec.cli.vaultconfig import resolve_config
from vaultexec.errors import BadInputError, ConfigurationError
from vaultexec.model.safetext import escape_text
from vaultexec.vault.safe import CANONICAL_SAFE_1_4_1, SafeTx, exec_safe_tx, get_safe, sign_safe_tx
from vaultexec.vault.safe_module import (
    configure_module_tx,
    custody_of,
    deploy_module,
    enable_module_tx,
    get_module,
    module_status,
)


def _address(value: str, flag: str) -> str:
    if not Web3.is_address(value):
        raise BadInputError(f"{flag} {value!r} is not an address (0x + 40 hex digits).")
    return Web3.to_checksum_address(value)


def submit(session: Session, safe: Contract, tx: SafeTx, what: str) -> bool:
    """Execute `tx` when the signing key alone can (an owner of a threshold-1 Safe), else print it for the
    owners; returns whether it was executed."""
    err, signer = stderr_console(), session.account()
    if safe.functions.isOwner(signer.address).call() and safe.functions.getThreshold().call() == 1:
        with err.status(f"{what}: Safe transaction {tx.hash().hex()}"):
            exec_safe_tx(safe, tx, sign_safe_tx(tx, [signer]), signer)
        err.print(f"{what}: executed by owner {signer.address} (Safe {safe.address}, nonce {tx.nonce}).")
        return True
    err.print(f"{what}: a Safe transaction for the owners of {safe.address} to sign:")
    for field, value in (("to", tx.to), ("value", str(tx.value)), ("data", "0x" + tx.data.hex()),
                         ("operation", f"{int(tx.operation)} ({tx.operation.name.lower()})"),
                         ("nonce", str(tx.nonce)), ("chain id", str(tx.chain_id)),
                         ("safeTxHash", "0x" + tx.hash().hex())):
        err.print(f"  {field}: {value}", soft_wrap=True)  # one line each, to copy whole
    err.print(f"The signing key {signer.address} cannot execute it alone (not an owner, or threshold above 1): "
              "propose it in the Safe app (Transaction Builder) or sign the safeTxHash with the owners' keys.")
    return False


@cli.command("safe-deploy-module")
@click.option("--safe", "safe_address", required=True, metavar="ADDRESS", help="The Safe that holds the funds.")
@click.option("--asset-manager", metavar="ADDRESS", help="Hot wallet allowed to trade (default: the signing key).")
@click.pass_obj
def deploy_module_command(session: Session, safe_address: str, asset_manager: str | None) -> None:
    """Deploy the module for a Safe and enable it (or print the enabling Safe transaction); prints the
    module's address on stdout. Use it as --vault for trading; configure it with `vaultexec safe-configure`."""
    web3, err = session.web3(), stderr_console()
    safe = get_safe(web3, _address(safe_address, "--safe"))
    manager = _address(asset_manager or session.account().address, "--asset-manager")
    with err.status("deploying the Safe module"):
        module = deploy_module(web3, session.account(), safe.address, manager)
    err.print(f"Module deployed at {module.address} on chain {session.chain_id} (Safe {safe.address}, asset "
              f"manager {manager}).")
    submit(session, safe, enable_module_tx(safe, module.address), "enable the module")
    sys.stdout.write(f"{module.address}\n")


@cli.command("safe-configure")
@click.option("--module", "module_address", required=True, metavar="ADDRESS", help="The Safe module.")
@click.option("--multi-send", metavar="ADDRESS", default=CANONICAL_SAFE_1_4_1.multi_send_call_only,
              show_default=True, help="The chain's MultiSendCallOnly (Safe 1.4.1) that batches the settings.")
@config_options
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send nothing.")
@click.pass_obj
def configure_module_command(session: Session, module_address: str, multi_send: str, config_file: Path | None,
                             tokens: tuple[str, ...], assets: tuple[str, ...], routers: tuple[str, ...],
                             pools: tuple[str, ...], spend_limits: tuple[str, ...], price_feeds: tuple[str, ...],
                             loss_bound: str | None, allow_unbounded: bool, dry_run: bool) -> None:
    """Configure the module (the same settings as `vaultexec configure`) in one Safe transaction: a batch
    through MultiSendCallOnly. Settings already in place are skipped."""
    request = request_from(config_file, tokens, assets, routers, pools, spend_limits, price_feeds, loss_bound)
    if request.is_empty():
        raise BadInputError("Nothing to configure: give --config FILE or --asset/--router/--pool/--spend-limit/"
                            "--price-feed/--loss-bound.")
    web3, err = session.web3(), stderr_console()
    module = get_module(web3, _address(module_address, "--module"))
    safe = get_safe(web3, custody_of(web3, module.address))
    multi_send = _address(multi_send, "--multi-send")
    if not web3.eth.get_code(Web3.to_checksum_address(multi_send)):
        raise ConfigurationError(f"No MultiSendCallOnly at {multi_send} on chain {session.chain_id}: pass the "
                                 "chain's Safe 1.4.1 MultiSendCallOnly with --multi-send.")
    config = resolve_config(request, lambda token: token_decimals(web3, token))
    config.unbounded = refuse_unbounded(unbounded_on_vault(module, config), allow_unbounded)
    pending = missing_settings(module, config)
    if count_settings(pending) == 0:
        err.print(f"Module {module.address} already has all {count_settings(config)} settings; nothing to send.")
        return
    err.print(config_table(pending, f"{count_settings(pending)} of {count_settings(config)} settings to send"))
    if dry_run:
        err.print("--dry-run: nothing sent.")
        return
    submit(session, safe, configure_module_tx(safe, module, pending, multi_send), "configure the module")


@cli.command("safe-status")
@click.option("--module", "module_address", required=True, metavar="ADDRESS", help="The Safe module.")
@click.pass_obj
def status_command(session: Session, module_address: str) -> None:
    """Whether the module is enabled on its Safe, who trades, and the Safe's owners and modules."""
    status = module_status(session.web3(), _address(module_address, "--module"))
    table = Table(title=f"Safe module {status.module}", title_justify="left")
    table.add_column("")
    table.add_column("", overflow="fold")
    table.add_row("Safe (custody, owner)", status.safe)
    table.add_row("enabled on the Safe", "yes" if status.enabled else "NO: the owners have not enabled it")
    table.add_row("asset manager", status.asset_manager)
    table.add_row("paused", "yes" if status.paused else "no")
    table.add_row("Safe owners", f"{', '.join(status.safe_owners)} (threshold {status.safe_threshold})")
    table.add_row("Safe modules", escape_text(", ".join(status.safe_modules)) or "none")
    session.console.print(table)
