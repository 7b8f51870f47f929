"""`--json` of trade, resume, repair and status: one document on stdout, the schema of docs/cli.md."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from cli_helpers import assert_one_line_error, run_cli
from web3.contract import Contract

from vaultexec.store import open_store

BUY = ["trade", "WETH/USDC", "buy", "1000", "--venue", "v3", "--fee", "500"]
#: Keys every trade document has (docs/cli.md, "JSON output").
TRADE_KEYS = {"trade_id", "opened_at", "settled_at", "status", "side", "pair", "base", "quote", "venue",
              "planned_quantity", "executed_quantity", "executed_quantity_raw", "executed_reserve",
              "executed_reserve_raw", "executed_price", "realised_slippage", "lp_fees_paid", "gas_used",
              "gas_cost_wei", "gas_cost_native", "revert_reason", "tx_hashes", "sandwich_suspected",
              "price_check_loss", "price_check_loss_usd", "oracle_difference_bps", "oracle_difference_usd",
              "price_check"}
PLAN_KEYS = {"trade_id", "side", "pair", "route", "path", "spend_max", "expected_receive", "minimum_receive",
             "planned_price", "mid_price", "slippage_tolerance", "estimated_lp_fees", "gas_limit",
             "quoted_at_block", "preflight"}


def document(stdout: str, command: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(stdout)  # the whole of stdout is the document
    assert (parsed["schema_version"], parsed["command"]) == (1, command)
    return parsed


def test_trade_status_resume_repair_as_json(cli_env: dict[str, str], world_config: Path, vault: Contract,
                                            store_url: str) -> None:
    config = ["--config", str(world_config)]
    dry = run_cli([*BUY, *config, "--dry-run", "--json"], cli_env)
    assert dry.code == 0, dry.output
    planned = document(dry.stdout, "trade")
    assert (planned["dry_run"], planned["sent"], planned["trade"]) == (True, False, None)
    plan = planned["plan"]
    assert set(plan) == PLAN_KEYS
    assert plan["spend_max"] == {"token": "USDC", "address": plan["spend_max"]["address"], "amount": "1000.000000",
                                 "raw": "1000000000"}
    assert plan["path"] == ["USDC", "WETH"] and plan["preflight"]["success"] is True
    assert Decimal(plan["minimum_receive"]["amount"]) < Decimal(plan["expected_receive"]["amount"])

    sent = run_cli([*BUY, *config, "--yes", "--json"], cli_env)
    assert sent.code == 0, sent.output
    done = document(sent.stdout, "trade")
    assert (done["dry_run"], done["sent"]) == (False, True)
    trade = done["trade"]
    assert set(trade) == TRADE_KEYS
    stored = open_store(store_url, vault.address).load(trade["trade_id"])
    assert trade["status"] == "success" and trade["executed_quantity"] == f"{stored.executed_quantity:f}"
    assert isinstance(trade["gas_used"], int) and len(trade["tx_hashes"]) == 1
    # the settlement's price check: clean against the start of its block, a fee's worth off the vault's oracle
    assert trade["sandwich_suspected"] == "no" and trade["price_check"].startswith("price check: ")
    assert Decimal(trade["oracle_difference_bps"]) > 4 and trade["price_check_loss_usd"] is None

    status = document(run_cli(["status", "--json"], cli_env).stdout, "status")
    assert status["trades_by_state"] == {"success": 1} and status["open_trades"] == []
    assert status["recent_trades"] == [trade]

    resume = run_cli(["resume", "--json"], cli_env)
    assert resume.code == 0, resume.output
    assert document(resume.stdout, "resume") | {} == {"schema_version": 1, "command": "resume", "settled": [],
                                                      "still_in_flight": []}
    repair = run_cli(["repair", "--trade-id", "999", "--json"], cli_env)
    assert repair.code == 13, repair.output
    refused = document(repair.stdout, "repair")["refused"]
    assert [r["trade_id"] for r in refused] == [999] and "no trade #999" in refused[0]["reason"]


def test_refused_trade_with_json_prints_no_document(cli_env: dict[str, str], world_config: Path) -> None:
    result = run_cli(["trade", "WETH/USDC", "buy", "2000000", "--fee", "500", "--yes", "--json",
                      "--config", str(world_config)], cli_env)
    assert result.code != 0 and result.stdout == ""
    assert "Traceback" not in result.output


def test_small_input_mistakes_get_one_clear_line(cli_env: dict[str, str]) -> None:
    negative = run_cli(["trade", "WETH/USDC", "buy", "-5"], cli_env)
    assert_one_line_error(negative, 2, "-5", "positive")
    v2_fee = run_cli(["trade", "WETH/USDC", "buy", "5", "--venue", "v2", "--fee", "500"], cli_env)
    assert_one_line_error(v2_fee, 2, "--fee 500", "V2")
