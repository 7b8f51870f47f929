"""`vaultexec trade`, `vaultexec resume`, `vaultexec repair`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.core import ParameterSource
from rich.console import Console
from rich.text import Text

from vaultexec.cli.app import cli
from vaultexec.cli.failures import EXIT_REPAIR_REFUSED, EXIT_TRADE_FAILED, stderr_console
from vaultexec.cli.fees import check_fee_options, fee_options, policy_from_options
from vaultexec.cli.jsonout import command_document, plan_document, trade_document, write_document
from vaultexec.cli.markets import (
    MarketRequest,
    MarketResolver,
    check_router_option,
    parse_pair,
    register_config_deployment,
)
from vaultexec.cli.session import Session
from vaultexec.cli.tables import trades_table
from vaultexec.cli.trading import (
    build_executor,
    check_raw_amount,
    confirm_sending,
    make_trade,
    next_trade_id,
    parse_amount,
    parse_side,
    parse_slippage_percent,
    parse_timeout,
    plan_table,
    request_table,
)
from vaultexec.cli.vaultconfig import ConfigRequest, config_from_flags, load_config_file
from vaultexec.errors import BadInputError, TransactionTimeoutError, VaultExecError
from vaultexec.execution.confirmed import failure_reason, raise_if_refused, was_sent
from vaultexec.execution.executor import BatchRouting
from vaultexec.execution.plan import TradePlan
from vaultexec.execution.routing_direct import Venue
from vaultexec.model.trade import TradeExecution


@cli.command("trade")
@click.argument("pair")
@click.argument("side")
@click.argument("amount")
@click.option("--slippage", default="0.5", show_default=True, metavar="PERCENT",
              help="Slippage tolerance in percent (0.5 = 0.5 %).")
@click.option("--venue", type=click.Choice(["v2", "v3"]), default="v3", show_default=True)
@click.option("--fee", type=int, default=3000, show_default=True, help="V3 fee tier (500 = 0.05 %).")
@click.option("--via", metavar="TOKEN", help="Three-way route through this token (BASE -> VIA -> QUOTE).")
@click.option("--via-fee", type=int, help="V3 fee tier of the VIA/QUOTE hop (default: --fee).")
@click.option("--router", metavar="ADDRESS", help="Router to use (default: the deployment's).")
@click.option("--direct/--via-router", "direct", default=None,
              help="Swap straight through the pools (the vault's executeDirect: no router, no approval; the "
              "owner allows the pools with setDirectPoolAllowed) or approve + router call. Default: through "
              "the pools where the vault allows it, the router otherwise.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML/JSON file with [tokens] and [deployment] (`vaultexec docs cli`).")
@click.option("--token", "tokens", multiple=True, metavar="SYMBOL=0xADDR", help="Declare a token symbol.")
@click.option("--timeout", type=int, metavar="SECONDS", help="Wait at most this long for the transaction "
              "(default 300); a trade still in flight is left for `vaultexec resume` (exit 9).")
@click.option("--dry-run", is_flag=True, help="Plan and pre-flight only; send nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (the plan, and the trade once "
              "sent) instead of tables; schema: `vaultexec docs cli`.")
@fee_options
@click.pass_context
def trade_command(ctx: click.Context, pair: str, side: str, amount: str, slippage: str, venue: str, fee: int,
                  via: str | None, via_fee: int | None, router: str | None, direct: bool | None,
                  config_file: Path | None, tokens: tuple[str, ...], timeout: int | None, dry_run: bool, yes: bool,
                  as_json: bool, min_tip: int | None = None, max_fee: int | None = None,
                  legacy: bool | None = None) -> int:
    """Trade once: PAIR is BASE/QUOTE (e.g. WETH/USDC), SIDE buy or sell, AMOUNT in quote for a buy
    (what the vault spends) and in base for a sell.

    Prints the plan and the pre-flight result; --dry-run stops there. Asks for confirmation unless --yes.
    The trade is then quoted again just before it is signed: if it would spend more or may receive less
    than the plan shown, nothing is sent (exit 14).
    """
    session: Session = ctx.obj
    check_fee_options(min_tip, max_fee)
    base, quote = parse_pair(pair)
    if venue == "v2" and ctx.get_parameter_source("fee") is ParameterSource.COMMANDLINE:
        raise BadInputError(f"--fee {fee} is a Uniswap V3 fee tier; a V2 pool has one fee (0.3 %). Drop --fee "
                            "or use --venue v3.")
    buy, human_amount, tolerance = parse_side(side), parse_amount(amount), parse_slippage_percent(slippage)
    timeout = parse_timeout(timeout)
    market_request = MarketRequest(base, quote, venue, fee, via, via_fee, check_router_option(router))
    request = load_config_file(config_file) if config_file else ConfigRequest()
    request = request.merge(config_from_flags(tokens, (), (), (), ()))
    vault = session.require_vault_address()
    register_config_deployment(request.deployment, session.chain_id)
    web3, client = session.web3(), session.client()
    session.vault()  # refuses an address without a contract
    market = MarketResolver(web3, session.chain_id, request.tokens).pair(market_request)
    check_raw_amount(human_amount, market.quote if buy else market.base)
    wallet = session.wallet()
    store = session.store()
    trade = make_trade(next_trade_id(store), market, buy, human_amount, tolerance)
    model, planner = build_executor(client, web3, vault, wallet, store, [market], timeout=timeout,
                                    venue=Venue.AUTO if direct is None else Venue.DIRECT if direct else Venue.ROUTER,
                                    fee_policy=policy_from_options(session.chain_id, min_tip, max_fee, legacy))
    err = stderr_console()
    plan = plan_or_show_request(session, planner.routing, trade, err, as_json)
    if as_json:
        plan_json = plan_document(trade, plan)
    else:
        session.console.print(plan_table(trade, plan))
    if dry_run:
        if as_json:
            write_document(command_document("trade", dry_run=True, sent=False, plan=plan_json, trade=None))
        err.print("--dry-run: nothing was signed or sent.")
        return 0
    if not yes:
        confirm_sending(f"Send this trade from {wallet.address} through vault {vault}?")
    planner.confirm(plan)
    with err.status("executing"):
        done = model.execute_trades([trade])
    result = done[0]
    if as_json:
        write_document(command_document("trade", dry_run=False, sent=was_sent(result), plan=plan_json,
                                        trade=trade_document(result)))
    else:
        session.console.print(trades_table(done, "Result"))
    if result.is_pending():
        raise TransactionTimeoutError(f"Trade #{result.trade_id} is still {result.get_status().value}; run "
                                      "`vaultexec resume` to finish it.")
    raise_if_refused(result, planner.refusals)  # failed before anything was sent: that error and its exit code
    if result.is_failed():
        err.print(Text(f"Trade #{result.trade_id} failed: {failure_reason(result)}"))
        return EXIT_TRADE_FAILED
    return 0


def plan_or_show_request(session: Session, routing: BatchRouting, trade: TradeExecution,
                         err: Console, as_json: bool = False) -> TradePlan:
    """Plan and pre-flight `trade`; when refused, show what was asked before the error line (not with --json:
    stdout then stays empty and the error is on stderr)."""
    try:
        with err.status("planning and simulating"):
            return routing.plan_trades([trade]).plans[0]
    except VaultExecError:
        if not as_json:
            session.console.print(request_table(trade))
        raise


@cli.command("resume")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of tables; schema: "
              "`vaultexec docs cli`.")
@fee_options
@click.pass_obj
def resume_command(session: Session, as_json: bool, min_tip: int | None = None, max_fee: int | None = None,
                   legacy: bool | None = None) -> None:
    """Finish trades a previous run left started or broadcasted (re-sends stored bytes, never re-signs)."""
    check_fee_options(min_tip, max_fee)
    model, _ = build_executor(session.client(), session.web3(), session.require_vault_address(),
                              session.wallet(), session.store(), [],
                              fee_policy=policy_from_options(session.chain_id, min_tip, max_fee, legacy))
    pending = model.get_pending_trades()
    if not pending:
        if as_json:
            write_document(command_document("resume", settled=[], still_in_flight=[]))
        stderr_console().print("No trade in flight; nothing to resume.")
        return
    with stderr_console().status(f"resuming {len(pending)} trades"):
        settled = model.resume()
    still = model.get_pending_trades()
    if as_json:
        write_document(command_document("resume", settled=[trade_document(t) for t in settled],
                                        still_in_flight=[t.trade_id for t in still]))
    else:
        session.console.print(trades_table(settled, f"Resumed: {len(settled)} of {len(pending)} trades settled"))
    if still:
        ids = ", ".join(str(t.trade_id) for t in still)
        raise TransactionTimeoutError(f"{len(still)} trades still in flight ({ids}); run `vaultexec resume` "
                                      "again later.")


@cli.command("repair")
@click.option("--trade-id", "trade_ids", type=int, multiple=True, help="Only these trades (default: all).")
@click.option("--note", help="Note stored on each repaired trade.")
@click.option("--force", is_flag=True, help="Also close trades whose transaction landed but cannot be settled "
              "(record what they did yourself); needs --trade-id and --note.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of tables; schema: "
              "`vaultexec docs cli`.")
@fee_options
@click.pass_obj
def repair_command(session: Session, trade_ids: tuple[int, ...], note: str | None, force: bool,
                   as_json: bool, min_tip: int | None = None, max_fee: int | None = None,
                   legacy: bool | None = None) -> int:
    """Close trades that cannot settle by themselves (failed, or their nonce used by another transaction);
    with --force, also those that landed but cannot be settled (the note and the receipt are recorded)."""
    if force and (not trade_ids or not (note or "").strip()):
        raise BadInputError("--force closes landed trades by hand: name each with --trade-id and say what you "
                            "checked with --note. Nothing was changed.")
    check_fee_options(min_tip, max_fee)
    model, _ = build_executor(session.client(), session.web3(), session.require_vault_address(),
                              session.wallet(), session.store(), [],
                              fee_policy=policy_from_options(session.chain_id, min_tip, max_fee, legacy))
    result = model.repair(list(trade_ids) or None, note, force=force)
    if as_json:
        write_document(command_document(
            "repair", repaired=[trade_document(t) for t in result.repaired],
            settled=[trade_document(t) for t in result.settled],
            refused=[{"trade_id": trade_id, "reason": reason} for trade_id, reason in result.refused.items()]))
        return EXIT_REPAIR_REFUSED if result.refused else 0
    if result.repaired:
        session.console.print(trades_table(result.repaired, "Repaired"))
    if result.settled:
        session.console.print(trades_table(result.settled, "Found landed and settled"))
    for trade_id, reason in result.refused.items():
        sys.stderr.write(f"trade #{trade_id} not repaired: {reason}\n")
    if not (result.repaired or result.settled or result.refused):
        sys.stderr.write("Nothing to repair.\n")
    if result.refused:
        return EXIT_REPAIR_REFUSED
    return 0
