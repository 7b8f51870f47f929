"""`vaultexec export-csv -o FILE` replaces FILE only once the whole export is written."""

from __future__ import annotations

import csv
import sqlite3
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, run_cli

from vaultexec.model.identifiers import AssetIdentifier, ExchangeKind, TradingPairIdentifier
from vaultexec.model.trade import TradeExecution, TradeType
from vaultexec.model.transaction import BlockchainTransaction, TxState
from vaultexec.store.sqlite import SQLiteStore

VAULT = "0x" + "5a" * 20
T0 = datetime(2024, 3, 1, 12)
USDC = AssetIdentifier(31337, "0x" + "01" * 20, "USDC", 6)
WETH = AssetIdentifier(31337, "0x" + "02" * 20, "WETH", 18)
PAIR = TradingPairIdentifier(WETH, USDC, "0x" + "03" * 20, "0x" + "04" * 20, 3000, ExchangeKind.uniswap_v3)
OLD_CONTENT = "the export of last week, which must survive a failed export\n"


def settled_trade(trade_id: int, opened_at: datetime) -> TradeExecution:
    """A buy that succeeded on chain: what the export writes a row for."""
    trade = TradeExecution(trade_id=trade_id, position_id=1, trade_type=TradeType.rebalance, pair=PAIR,
                           opened_at=opened_at, planned_quantity=Decimal("0.5"), planned_reserve=Decimal(1500),
                           planned_price=Decimal(3000), reserve_currency=USDC, slippage_tolerance=Decimal("0.005"))
    tx = BlockchainTransaction(chain_id=31337, from_address="0x" + "0a" * 20, contract_address=VAULT,
                               function_selector="execute", gas_limit=300_000, max_fee_per_gas=30 * 10**9)
    tx.set_signed("0x" + f"{trade_id:064x}", "0x02f8" + "ab" * 50, trade_id)
    trade.set_blockchain_transactions([tx])
    trade.mark_started(opened_at + timedelta(seconds=1))
    trade.mark_broadcasted(opened_at + timedelta(seconds=2))
    tx.block_number, tx.status, tx.tx_state = 100, True, TxState.confirmed
    tx.realised_gas_units_consumed, tx.realised_gas_price = 150_000, 2 * 10**9
    trade.mark_success(opened_at + timedelta(seconds=14), Decimal(3000), Decimal("0.5"), Decimal(1500),
                       Decimal("4.5"), None)
    return trade


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    """A store holding 600 settled trades (more than one read page): no node needed to export them."""
    path = tmp_path / "store.db"
    store = SQLiteStore(path, VAULT)
    store.create_many([settled_trade(n, T0 + timedelta(minutes=n)) for n in range(1, 601)])
    store.close()
    return {"VAULTEXEC_VAULT": VAULT, "VAULTEXEC_STORE": f"sqlite:///{path}"}


def corrupt(env: dict[str, str], trade_id: int) -> None:
    """Break one stored record the way an out-of-range time would (the loader overflows)."""
    path = env["VAULTEXEC_STORE"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as raw:
        body = raw.execute("SELECT body FROM trades WHERE trade_id=?", (trade_id,)).fetchone()[0]
        start = body.index('"opened_at": ') + len('"opened_at": ')
        broken = body[:start] + "1e300" + body[body.index(",", start):]
        raw.execute("UPDATE trades SET body=? WHERE trade_id=?", (broken, trade_id))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_failed_export_keeps_the_old_file_and_exits_with_the_store_code(env: dict[str, str],
                                                                      tmp_path: Path) -> None:
    corrupt(env, 550)  # on the second page: the first rows are written before the failure
    out = tmp_path / "out" / "trades.csv"
    out.parent.mkdir()
    out.write_text(OLD_CONTENT)
    result = run_cli(["export-csv", "-o", str(out)], env)
    assert_one_line_error(result, 10, "error (store)", "Stored trade 550 of vault", "cannot be loaded")
    assert out.read_text() == OLD_CONTENT
    assert leftovers(out.parent) == []


def test_export_replaces_the_file_and_keeps_its_permissions(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "trades.csv"
    out.write_text(OLD_CONTENT)
    out.chmod(0o640)
    result = run_cli(["export-csv", "-o", str(out), "--since", "2024-03-01"], env)
    assert result.code == 0, result.output
    rows = list(csv.DictReader(out.open(newline="")))
    assert [row["trade_id"] for row in rows] == [str(n) for n in range(1, 601)]
    assert out.stat().st_mode & 0o777 == 0o640
    assert leftovers(tmp_path) == []


def test_default_file_name_is_written_whole(env: dict[str, str], tmp_path: Path) -> None:
    result = run_cli(["export-csv"], env, cwd=tmp_path)
    assert result.code == 0, result.output
    written = [p for p in tmp_path.iterdir() if p.name.startswith("trade-export-")]
    assert len(written) == 1 and len(written[0].read_text().splitlines()) == 601
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("where", ["missing/trades.csv", "."])
def test_unwritable_output_is_bad_input(env: dict[str, str], tmp_path: Path, where: str) -> None:
    result = run_cli(["export-csv", "-o", str(tmp_path / where)], env)
    assert_one_line_error(result, 2, "Cannot write")
