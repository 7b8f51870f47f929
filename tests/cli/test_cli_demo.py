"""`vaultexec demo` end to end: it completes, stops anvil, and its table matches the stored reports."""

from __future__ import annotations

import re
from pathlib import Path

from cli_helpers import run_cli

from vaultexec.cli.tables import TABLE_WIDTH, short_number
from vaultexec.demo import DEMO_STORE_URL
from vaultexec.store import open_store
from vaultexec.store.export import trade_row


def table_rows(stdout: str) -> dict[str, str]:
    """Lines of the trades table by trade id (the first cell)."""
    rows = {}
    for line in stdout.splitlines():
        first = line.split(maxsplit=1)
        if len(first) == 2 and first[0].isdigit() and first[0] not in rows:
            rows[first[0]] = line
    return rows


def test_demo_runs_and_its_table_matches_the_store(tmp_path: Path) -> None:
    # Its own store in the current folder: not --store's default, not VAULTEXEC_STORE (`world` users' store).
    result = run_cli(["demo"], {"VAULTEXEC_STORE": f"sqlite:///{tmp_path}/world.db"}, cwd=tmp_path)
    assert result.code == 0, result.output
    assert "Traceback" not in result.output
    assert f"Reports stored in {DEMO_STORE_URL}\nfor vault" in result.stdout
    assert not (tmp_path / "world.db").exists() and not (tmp_path / "vaultexec.db").exists()
    store_url = f"sqlite:///{tmp_path}/vaultexec-demo.db"
    match = re.search(r"for vault (0x[0-9a-fA-F]{40})\.", result.stdout)
    assert match, result.stdout
    trades = open_store(store_url, match.group(1)).export_all()
    assert len(trades) == 7
    assert [t.get_status().value for t in trades].count("success") == 6, result.stdout
    assert {t.pair.get_ticker() for t in trades} >= {"WETH-USDC", "WBTC-WETH-USDC", "DAI-USDC"}
    assert {t.pair.kind.value for t in trades} == {"uniswap_v2", "uniswap_v3"}

    assert max(len(line) for line in result.stdout.splitlines()) <= TABLE_WIDTH, result.stdout
    assert "…" not in result.stdout
    assert "+ = worse for the vault" in " ".join(result.stdout.split())  # the legend of slip.
    rows = table_rows(result.stdout)
    assert sorted(rows, key=int) == [str(t.trade_id) for t in trades]
    for trade in trades:
        stored = trade_row(trade)
        row = rows[stored["trade_id"]]
        quote = trade.pair.quote.token_symbol
        assert f" {stored['side']} {stored['pair']} " in row and row.rstrip().endswith(stored["status"])
        if trade.is_success():
            assert f"{short_number(stored['executed_price'])} {quote}" in row  # with its unit
            assert f"{short_number(stored['lp_fees_paid'])} {quote}" in row
            assert f"{int(stored['gas_used']):,}" in row
    failed = next(t for t in trades if t.is_failed())
    # The demo vault swaps through the pools (direct path): the route's own minimum-output check refuses it.
    assert "RouteOutputTooLow" in (failed.get_revert_reason() or "")
    assert all(t.blockchain_transactions[0].function_selector == "executeDirect" for t in trades)
    # Why, on screen (a long reason wraps at the table width).
    assert f"#{failed.trade_id} failed: {failed.get_revert_reason()}" in " ".join(result.stdout.split())
    assert failed.blockchain_transactions[0].block_number is not None  # it reverted on chain, not in pre-flight


def test_demo_store_given_after_the_command_is_used(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path}/chosen.db"
    result = run_cli(["demo", "--store", store_url], {}, cwd=tmp_path)
    assert result.code == 0, result.output
    assert f"Reports stored in {store_url}" in result.stdout
    assert (tmp_path / "chosen.db").exists() and not (tmp_path / "vaultexec-demo.db").exists()
