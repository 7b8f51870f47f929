"""`vaultexec deploy-vault` and `vaultexec configure`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from web3 import Web3

from vaultexec.cli.app import cli
from vaultexec.cli.chainread import missing_settings, require_owner, token_decimals, token_symbol
from vaultexec.cli.failures import stderr_console
from vaultexec.cli.session import Session
from vaultexec.cli.vaultconfig import ConfigRequest, config_from_flags, load_config_file, resolve_config
from vaultexec.errors import BadInputError
from vaultexec.vault.deploy import VaultConfig, configure_vault, deploy_vault


def config_table(config: VaultConfig, title: str,
                 token: Callable[[str], tuple[str, int]] | None = None) -> Table:
    """The settings as rows; `token(address)` gives (symbol, decimals) to show spend limits in token units."""
    table = Table(title=title, title_justify="left")
    table.add_column("setting")
    table.add_column("value")
    for asset in config.assets:
        table.add_row("asset", asset)
    for router, kind in config.routers.items():
        table.add_row("router", f"{router} {kind.name.lower()}")
    for pool in config.pools:
        table.add_row("pool", f"{pool.router} {pool.token_a}/{pool.token_b} fee {pool.fee}")
    for limit in config.spend_limits:
        if token is None:
            table.add_row("spend limit", f"{limit.asset} {limit.capacity} raw / {limit.refill_period}s")
        else:
            symbol, decimals = token(limit.asset)
            human = Decimal(limit.capacity).scaleb(-decimals).normalize()
            table.add_row("spend limit", f"{limit.asset} {human:f} {symbol} per {limit.refill_period} s "
                                         f"({limit.capacity} raw)")
    return table


def count_settings(config: VaultConfig) -> int:
    return len(config.assets) + len(config.routers) + len(config.pools) + len(config.spend_limits)


def apply_config(session: Session, request: ConfigRequest, vault_address: str, dry_run: bool) -> int:
    """Send what is missing of `request` on the vault; returns the number of owner transactions sent."""
    web3, err = session.web3(), stderr_console()
    config = resolve_config(request, lambda token: token_decimals(web3, token))
    vault = session.vault() if session.vault_address else None
    if vault is None or vault.address != Web3.to_checksum_address(vault_address):
        session.vault_address = vault_address
        vault = session.vault()
    require_owner(vault, session.account().address)
    pending = missing_settings(vault, config)
    todo = count_settings(pending)
    if todo == 0:
        err.print(f"Vault {vault.address} already has all {count_settings(config)} settings; nothing sent.")
        return 0
    symbols = {Web3.to_checksum_address(a): s for s, a in request.tokens.items() if Web3.is_address(a)}

    def token(address: str) -> tuple[str, int]:
        address = Web3.to_checksum_address(address)
        return symbols.get(address) or token_symbol(web3, address), token_decimals(web3, address)

    err.print(config_table(pending, f"{todo} of {count_settings(config)} settings to send", token))
    if dry_run:
        err.print("--dry-run: nothing sent.")
        return 0
    with err.status(f"configuring vault {vault.address} ({todo} owner transactions)"):
        configure_vault(web3, vault, session.account(), pending)
    err.print(f"Vault {vault.address} configured: {todo} transactions sent.")
    return todo


_config_options = [
    click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="TOML or JSON file with tokens, assets, routers, pools, spend_limits (`vaultexec docs cli`)."),
    click.option("--token", "tokens", multiple=True, metavar="SYMBOL=0xADDR",
                 help="Declare a token symbol usable in the other flags."),
    click.option("--asset", "assets", multiple=True, metavar="TOKEN", help="Allow this asset."),
    click.option("--router", "routers", multiple=True, metavar="0xADDR=KIND",
                 help="Allow a router: uniswap_v2, uniswap_v3_swap_router, uniswap_v3_swap_router02."),
    click.option("--pool", "pools", multiple=True, metavar="0xROUTER:A:B:FEE",
                 help="Allow a pool on a router (fee 0 for V2)."),
    click.option("--spend-limit", "spend_limits", multiple=True, metavar="TOKEN:CAPACITY:SECONDS",
                 help="Rolling spend limit in human units, refilled over SECONDS."),
]


def config_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_config_options):
        fn = option(fn)
    return fn


def request_from(config_file: Path | None, tokens: tuple[str, ...], assets: tuple[str, ...],
                 routers: tuple[str, ...], pools: tuple[str, ...], spend_limits: tuple[str, ...]) -> ConfigRequest:
    request = load_config_file(config_file) if config_file else ConfigRequest()
    return request.merge(config_from_flags(tokens, assets, routers, pools, spend_limits))


@cli.command("deploy-vault")
@click.option("--asset-manager", metavar="ADDRESS",
              help="Hot wallet allowed to trade (default: the signing key's address).")
@config_options
@click.pass_obj
def deploy_vault_command(session: Session, asset_manager: str | None, config_file: Path | None,
                         tokens: tuple[str, ...], assets: tuple[str, ...], routers: tuple[str, ...],
                         pools: tuple[str, ...], spend_limits: tuple[str, ...]) -> None:
    """Deploy a new vault owned by the signing key; print its address on stdout.

    With configuration options (--config, --asset, ...) the vault is configured right after.
    """
    request = request_from(config_file, tokens, assets, routers, pools, spend_limits)
    manager = asset_manager or session.account().address
    if not Web3.is_address(manager):
        raise BadInputError(f"--asset-manager {manager!r} is not an address (0x + 40 hex digits)")
    web3, err = session.web3(), stderr_console()
    if not request.is_empty():  # validate everything before the first transaction
        resolve_config(request, lambda token: token_decimals(web3, token))
    with err.status("deploying the vault"):
        vault = deploy_vault(web3, session.account(), manager)
    err.print(f"Vault deployed at {vault.address} on chain {session.chain_id} "
              f"(owner {session.account().address}, asset manager {Web3.to_checksum_address(manager)}).")
    if not request.is_empty():
        apply_config(session, request, vault.address, dry_run=False)
    sys.stdout.write(f"{vault.address}\n")


@cli.command("configure")
@config_options
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send nothing.")
@click.pass_obj
def configure_command(session: Session, config_file: Path | None, tokens: tuple[str, ...],
                      assets: tuple[str, ...], routers: tuple[str, ...], pools: tuple[str, ...],
                      spend_limits: tuple[str, ...], dry_run: bool) -> None:
    """Allow assets, routers and pools and set spend limits on the vault (owner only).

    Settings already in place are skipped, so running the same configuration twice sends nothing.
    """
    request = request_from(config_file, tokens, assets, routers, pools, spend_limits)
    if request.is_empty():
        raise BadInputError("Nothing to configure: give --config FILE or --asset/--router/--pool/--spend-limit.")
    apply_config(session, request, session.require_vault_address(), dry_run)
