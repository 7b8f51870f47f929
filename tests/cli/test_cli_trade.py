"""`vaultexec trade` (dry run, confirmation, execution), then `status`, `export-csv`, `resume`, `repair`."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

from cli_helpers import assert_one_line_error, nonce, run_cli
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.store import open_store
from vaultexec.testing.world import World

BUY_V3 = ["trade", "WETH/USDC", "buy", "1000", "--venue", "v3", "--fee", "500"]


def with_config(config: Path, args: list[str]) -> list[str]:
    return [*args, "--config", str(config)]


def test_dry_run_prints_plan_and_sends_nothing(cli_env: dict[str, str], world_config: Path, web3: Web3,
                                               world: World, vault: Contract, asset_manager: LocalAccount,
                                               store_url: str) -> None:
    before_nonce, block = nonce(web3, asset_manager.address), web3.eth.block_number
    usdc_before = world.usdc.functions.balanceOf(vault.address).call()
    result = run_cli(with_config(world_config, [*BUY_V3, "--dry-run"]), cli_env)
    assert result.code == 0, result.output
    assert "pre-flight" in result.stdout and "ok (" in result.stdout
    assert "1000.000000 USDC" in result.stdout  # what the vault spends
    assert "minimum receive" in result.stdout
    # the title shows no 40-digit price (rich pads it to the table's width)
    assert "Plan of trade #1: buy WETH-USDC" in [line.rstrip() for line in result.stdout.splitlines()]
    assert max(len(line) for line in result.stdout.splitlines()) <= 100
    assert "nothing was signed or sent" in result.stderr
    assert nonce(web3, asset_manager.address) == before_nonce
    assert web3.eth.block_number == block
    assert world.usdc.functions.balanceOf(vault.address).call() == usdc_before
    assert open_store(store_url, vault.address).count() == 0


def test_declined_confirmation_sends_nothing(cli_env: dict[str, str], world_config: Path, web3: Web3,
                                             asset_manager: LocalAccount) -> None:
    before = nonce(web3, asset_manager.address)
    result = run_cli(with_config(world_config, BUY_V3), cli_env, input_text="n\n")
    assert result.code == 1, result.output
    assert "Aborted: nothing was sent." in result.stderr
    assert "Traceback" not in result.output
    assert nonce(web3, asset_manager.address) == before


def test_trade_then_status_and_export(cli_env: dict[str, str], world_config: Path, web3: Web3, world: World,
                                      vault: Contract, asset_manager: LocalAccount, store_url: str,
                                      tmp_path: Path) -> None:
    weth_before = world.weth.functions.balanceOf(vault.address).call()
    sell = ["trade", "WBTC/USDC", "sell", "0.05", "--via", "WETH", "--fee", "3000", "--via-fee", "500"]
    assert run_cli(with_config(world_config, [*BUY_V3, "--yes"]), cli_env).code == 0
    result = run_cli(with_config(world_config, [*sell, "--yes"]), cli_env)
    assert result.code == 0, result.output
    assert "WBTC-WETH-USDC" in result.stdout and "success" in result.stdout
    assert nonce(web3, asset_manager.address) == 2

    store = open_store(store_url, vault.address)
    buy, sell_trade = store.export_all()
    assert buy.is_success() and sell_trade.is_success()
    assert buy.executed_quantity is not None
    received = world.weth.functions.balanceOf(vault.address).call() - weth_before
    assert buy.executed_quantity == buy.pair.base.convert_to_decimal(received)

    status = run_cli(["status", "--json"], cli_env)
    assert status.code == 0, status.output
    document = json.loads(status.stdout)
    assert document["trades_by_state"] == {"success": 2}
    assert document["run_state"]["trades_succeeded"] == 2
    assert document["onchain"]["asset_manager"] == asset_manager.address

    out = tmp_path / "trades.csv"
    export = run_cli(["export-csv", "--output", str(out)], cli_env)
    assert export.code == 0, export.output
    rows = list(csv.DictReader(out.open()))
    assert [row["trade_id"] for row in rows] == ["1", "2"]
    assert rows[0]["executed_quantity"] == f"{buy.executed_quantity:f}"
    assert "Export of 2 trades" in export.stderr

    assert buy.opened_at is not None
    day = f"{buy.opened_at:%Y-%m-%d}"
    piped = run_cli(["export-csv", "--output", "-", "--since", day, "--until", day], cli_env)
    assert piped.code == 0 and len(piped.stdout.splitlines()) == 3, piped.output
    if buy.opened_at.date() == datetime.now(UTC).date():  # not across midnight
        yesterday = run_cli(["export-csv", "--output", "-", "--yesterday"], cli_env)
        assert yesterday.code == 0 and yesterday.stdout.splitlines() == [piped.stdout.splitlines()[0]]
    bad_day = run_cli(["export-csv", "--since", "21/11/2026"], cli_env)
    assert bad_day.code == 2 and "expected a date as YYYY-MM-DD" in bad_day.stderr


def test_resume_and_repair_with_nothing_to_do(cli_env: dict[str, str], web3: Web3,
                                              asset_manager: LocalAccount) -> None:
    resume = run_cli(["resume"], cli_env)
    assert resume.code == 0, resume.output
    assert "nothing to resume" in resume.stderr
    repair = run_cli(["repair"], cli_env)
    assert repair.code == 0, repair.output
    assert "Nothing to repair" in repair.stderr
    asked = run_cli(["repair", "--trade-id", "42"], cli_env)
    assert asked.code == 13, asked.output
    assert "trade #42 not repaired" in asked.stderr
    assert nonce(web3, asset_manager.address) == 0


def test_refused_trade_still_shows_what_was_asked(cli_env: dict[str, str], world_config: Path, world: World,
                                                  web3: Web3, asset_manager: LocalAccount) -> None:
    result = run_cli(with_config(world_config, ["trade", "WETH/USDC", "buy", "2000000", "--fee", "500", "--yes"]),
                     cli_env)
    assert_one_line_error(result, 7, "needs 2000000.000000 USDC")
    shown = " ".join(result.stdout.split())
    assert "Trade #1 as asked (not planned)" in shown
    assert f"router {world.swap_router.address}" in shown
    assert f"{world.v3_pool('USDC', 'WETH', 500)} (fee 500)" in shown
    assert "vault spends │ 2000000 USDC" in shown and "USDC -> WETH" in shown
    assert nonce(web3, asset_manager.address) == 0


def test_dry_run_direct_plans_execute_direct_through_the_pool(cli_env: dict[str, str], world_config: Path,
                                                              web3: Web3, world: World, vault: Contract) -> None:
    pool = world.v3_pool("WETH", "USDC", 500)
    vault.functions.setDirectPoolAllowed(world.uniswap_v3_factory.address, 2, world.weth.address,
                                         world.usdc.address, 500, True).transact({"from": world.deployer})
    result = run_cli(with_config(world_config, [*BUY_V3, "--direct", "--dry-run"]), cli_env)
    assert result.code == 0, result.output
    flat = " ".join(result.stdout.split())
    assert "direct through pool" in flat and pool[:10] in flat, result.stdout
    assert "pre-flight" in result.stdout and "ok (" in result.stdout
    # Without a flag the direct path is taken because the vault allows the pool; --via-router asks for the router.
    result = run_cli(with_config(world_config, [*BUY_V3, "--dry-run"]), cli_env)
    assert result.code == 0 and "direct through pool" in " ".join(result.stdout.split())
    result = run_cli(with_config(world_config, [*BUY_V3, "--via-router", "--dry-run"]), cli_env)
    flat = " ".join(result.stdout.split())
    assert result.code == 0 and "direct through pool" not in flat and "via UNISWAP_V3_SWAP_ROUTER" in flat, flat
