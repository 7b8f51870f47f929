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
from vaultexec.cli.chainread import missing_settings, require_owner, token_decimals, token_symbol, unbounded_on_vault
from vaultexec.cli.failures import stderr_console
from vaultexec.cli.session import Session
from vaultexec.cli.vaultconfig import ConfigRequest, config_from_flags, load_config_file, resolve_config
from vaultexec.errors import BadInputError
from vaultexec.vault.deploy import VaultConfig, configure_vault, deploy_vault, unbounded_assets

UNBOUNDED_RISK = (
    "nothing would bound how it is spent: no spend limit and no price under a loss bound. A leaked "
    "asset-manager key could then sell all of it at a price it manipulated in an allowed pool (a sandwich "
    "turned 300 WETH into almost nothing on the test world). Give it --spend-limit, or --price-feed and "
    "--loss-bound, or pass --allow-unbounded to accept that risk (the vault records the opt-in as an event)")


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
    for feed in config.price_feeds:
        table.add_row("price feed", f"{feed.asset} {feed.feed} heartbeat {feed.heartbeat}s")
    for twap in config.price_twaps:
        table.add_row("price TWAP", f"{twap.asset} pool {twap.pool} window {twap.window}s")
    if config.loss_bound is not None:
        bound = config.loss_bound
        table.add_row("loss bound", f"cap {bound.cap_bps} bps, budget {bound.capacity} (18 decimals) / "
                                    f"{bound.refill_period}s")
    for asset in config.unbounded:
        table.add_row("UNBOUNDED spend", asset)
    return table


def count_settings(config: VaultConfig) -> int:
    return (len(config.assets) + len(config.routers) + len(config.pools) + len(config.spend_limits)
            + len(config.price_feeds) + len(config.price_twaps) + (config.loss_bound is not None)
            + len(config.unbounded))


def refuse_unbounded(unbounded: list[str], allow_unbounded: bool) -> list[str]:
    """The assets to opt in as unbounded; BadInputError (nothing sent) when there are some and the user
    did not pass --allow-unbounded."""
    if unbounded and not allow_unbounded:
        raise BadInputError(f"Refusing to configure spendable asset(s) {', '.join(unbounded)}: "
                            f"{UNBOUNDED_RISK}. Nothing was sent.")
    return unbounded


def apply_config(session: Session, request: ConfigRequest, vault_address: str, dry_run: bool,
                 allow_unbounded: bool = False) -> int:
    """Send what is missing of `request` on the vault; returns the number of owner transactions sent."""
    web3, err = session.web3(), stderr_console()
    config = resolve_config(request, lambda token: token_decimals(web3, token))
    vault = session.vault() if session.vault_address else None
    if vault is None or vault.address != Web3.to_checksum_address(vault_address):
        session.vault_address = vault_address
        vault = session.vault()
    require_owner(vault, session.account().address)
    config.unbounded = refuse_unbounded(unbounded_on_vault(vault, config), allow_unbounded)
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
    click.option("--price-feed", "price_feeds", multiple=True, metavar="TOKEN:0xFEED:HEARTBEAT",
                 help="Price the token with a Chainlink-style USD feed; answers older than HEARTBEAT seconds "
                      "are refused."),
    click.option("--loss-bound", "loss_bound", metavar="CAP_BPS:BUDGET:SECONDS",
                 help="Oracle-priced loss bound: per-trade cap in bps of the value spent, and a rolling "
                      "budget (USD) refilled over SECONDS."),
    click.option("--allow-unbounded", is_flag=True,
                 help="Accept spendable assets that no spend limit or priced loss bound bounds (a leaked key "
                      "could sell them at a manipulated price)."),
]


def config_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_config_options):
        fn = option(fn)
    return fn


def request_from(config_file: Path | None, tokens: tuple[str, ...], assets: tuple[str, ...],
                 routers: tuple[str, ...], pools: tuple[str, ...], spend_limits: tuple[str, ...],
                 price_feeds: tuple[str, ...] = (), loss_bound: str | None = None) -> ConfigRequest:
    request = load_config_file(config_file) if config_file else ConfigRequest()
    return request.merge(config_from_flags(tokens, assets, routers, pools, spend_limits, price_feeds, loss_bound))


@cli.command("deploy-vault")
@click.option("--asset-manager", metavar="ADDRESS",
              help="Hot wallet allowed to trade (default: the signing key's address).")
@config_options
@click.pass_obj
def deploy_vault_command(session: Session, asset_manager: str | None, config_file: Path | None,
                         tokens: tuple[str, ...], assets: tuple[str, ...], routers: tuple[str, ...],
                         pools: tuple[str, ...], spend_limits: tuple[str, ...], price_feeds: tuple[str, ...],
                         loss_bound: str | None, allow_unbounded: bool) -> None:
    """Deploy a new vault owned by the signing key; print its address on stdout.

    With configuration options (--config, --asset, ...) the vault is configured right after. A spendable
    asset that nothing bounds (no spend limit, no price under a loss bound) is refused unless
    --allow-unbounded is given.
    """
    request = request_from(config_file, tokens, assets, routers, pools, spend_limits, price_feeds, loss_bound)
    manager = asset_manager or session.account().address
    if not Web3.is_address(manager):
        raise BadInputError(f"--asset-manager {manager!r} is not an address (0x + 40 hex digits)")
    web3, err = session.web3(), stderr_console()
    if not request.is_empty():  # validate everything before the first transaction
        config = resolve_config(request, lambda token: token_decimals(web3, token))
        refuse_unbounded(unbounded_assets(config), allow_unbounded)
    with err.status("deploying the vault"):
        vault = deploy_vault(web3, session.account(), manager)
    err.print(f"Vault deployed at {vault.address} on chain {session.chain_id} "
              f"(owner {session.account().address}, asset manager {Web3.to_checksum_address(manager)}).")
    if not request.is_empty():
        apply_config(session, request, vault.address, dry_run=False, allow_unbounded=allow_unbounded)
    sys.stdout.write(f"{vault.address}\n")


@cli.command("configure")
@config_options
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send nothing.")
@click.pass_obj
def configure_command(session: Session, config_file: Path | None, tokens: tuple[str, ...],
                      assets: tuple[str, ...], routers: tuple[str, ...], pools: tuple[str, ...],
                      spend_limits: tuple[str, ...], price_feeds: tuple[str, ...], loss_bound: str | None,
                      allow_unbounded: bool, dry_run: bool) -> None:
    """Allow assets, routers and pools, set spend limits, prices and the loss bound (owner only).

    Settings already in place are skipped, so running the same configuration twice sends nothing. A
    spendable asset that nothing bounds is refused unless --allow-unbounded is given.
    """
    request = request_from(config_file, tokens, assets, routers, pools, spend_limits, price_feeds, loss_bound)
    if request.is_empty():
        raise BadInputError("Nothing to configure: give --config FILE or --asset/--router/--pool/--spend-limit/"
                            "--price-feed/--loss-bound.")
    apply_config(session, request, session.require_vault_address(), dry_run, allow_unbounded)
