"""`vaultexec demo` end to end: it completes, stops anvil, and its table matches the stored reports."""

from __future__ import annotations

import re
from pathlib import Path

from cli_helpers import run_cli

from vaultexec.cli.tables import short_number
from vaultexec.demo import DEMO_STORE_URL
from vaultexec.store import open_store
from vaultexec.store.export import trade_row


def table_rows(stdout: str) -> dict[str, list[str]]:
    """Rows of the rich table by trade id: cells split on the box character."""
    rows = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells and cells[0].isdigit():
            rows[cells[0]] = cells
    return rows


def test_demo_runs_and_its_table_matches_the_store(tmp_path: Path) -> None:
    # Its own store in the current folder: not --store's default, not VAULTEXEC_STORE (`world` users' store).
    result = run_cli(["demo"], {"VAULTEXEC_STORE": f"sqlite:///{tmp_path}/world.db"}, cwd=tmp_path)
    assert result.code == 0, result.output
    assert "Traceback" not in result.output
    assert f"reports stored in {DEMO_STORE_URL} for vault" in " ".join(result.stdout.split())
    assert not (tmp_path / "world.db").exists() and not (tmp_path / "vaultexec.db").exists()
    store_url = f"sqlite:///{tmp_path}/vaultexec-demo.db"
    match = re.search(r"for vault (0x[0-9a-fA-F]{40})\. Anvil stopped\.", result.stdout)
    assert match, result.stdout
    trades = open_store(store_url, match.group(1)).export_all()
    assert len(trades) == 7
    assert [t.get_status().value for t in trades].count("success") == 6, result.stdout
    assert {t.pair.get_ticker() for t in trades} >= {"WETH-USDC", "WBTC-WETH-USDC", "DAI-USDC"}
    assert {t.pair.kind.value for t in trades} == {"uniswap_v2", "uniswap_v3"}

    rows = table_rows(result.stdout)
    assert sorted(rows, key=int) == [str(t.trade_id) for t in trades]
    for trade in trades:
        stored = trade_row(trade)
        _, pair, side, _, executed, price, _, fees, gas, status, reason = rows[stored["trade_id"]]
        assert (pair, side, status, gas) == (stored["pair"], stored["side"], stored["status"], stored["gas_used"])
        assert price == short_number(stored["executed_price"])
        assert fees == short_number(stored["lp_fees_paid"])
        assert reason == stored["revert_reason"]
        if trade.is_success():
            assert executed.startswith(short_number(str(abs(trade.executed_quantity or 0))))
    failed = next(t for t in trades if t.is_failed())
    assert "Too little received" in (failed.get_revert_reason() or "")
    assert failed.blockchain_transactions[0].block_number is not None  # it reverted on chain, not in pre-flight


def test_demo_store_given_after_the_command_is_used(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path}/chosen.db"
    result = run_cli(["demo", "--store", store_url], {}, cwd=tmp_path)
    assert result.code == 0, result.output
    assert f"reports stored in {store_url}" in " ".join(result.stdout.split())
    assert (tmp_path / "chosen.db").exists() and not (tmp_path / "vaultexec-demo.db").exists()
