"""CSV export of settled trades: rows, amounts, caption, ordering; from both backends."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from store_samples import CHAIN_ID, T0, USDC, WETH, broadcasted, failed, make_trade, started, succeeded

from vaultexec.model.identifiers import AssetIdentifier, ExchangeKind, TradingPairIdentifier
from vaultexec.model.safetext import escape_text
from vaultexec.store.export import (
    CSV_COLUMNS,
    export_csv,
    generate_export,
    neutralise_formula,
    raw_units,
    trade_row,
)
from vaultexec.store.protocol import ExecutionStore


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_from_store_has_one_row_per_settled_trade_by_time(store: ExecutionStore) -> None:
    win = succeeded(broadcasted(started(make_trade(opened_at=T0 + timedelta(days=2)))))
    loss = failed(broadcasted(started(make_trade(opened_at=T0, buy=False))))
    pending = broadcasted(started(make_trade(opened_at=T0 + timedelta(days=1))))
    for trade in (win, loss, pending):
        store.create(trade)
    stream = io.StringIO()
    result = generate_export(store, stream, now=datetime(2024, 4, 1))
    assert result == (f"trade-export-{store.vault[:10]}-2024-04-01.csv",
                      "Export of 2 trades in 2024-03-01 - 2024-03-03")
    rows = _rows(stream.getvalue())
    assert [r["trade_id"] for r in rows] == [str(loss.trade_id), str(win.trade_id)]
    assert list(rows[0]) == list(CSV_COLUMNS)

    bad, good = rows
    assert bad["status"] == "failed" and bad["side"] == "sell"
    assert bad["revert_reason"] == "Too little received"
    assert bad["executed_quantity"] == "" and bad["gas_used"] == "60000"
    assert bad["gas_cost_wei"] == str(60_000 * 2 * 10**9) and bad["gas_cost_native"] == "0.000120000000000000"
    assert good["status"] == "success" and good["pair"] == "WETH-USDC"
    assert good["executed_quantity"] == "0.499750124937531234"
    assert good["executed_quantity_raw"] == "499750124937531234"
    assert good["executed_reserve"] == "-1500" and good["executed_reserve_raw"] == "-1500000000"
    assert good["executed_price"] == "3001.5" and good["lp_fees_paid"] == "4.5"
    assert good["tx_hashes"] == win.blockchain_transactions[0].tx_hash
    assert good["settled_at"] == "2024-03-03 12:00:14"


def test_nothing_settled_gives_no_caption(store: ExecutionStore) -> None:
    store.create(make_trade())
    assert generate_export(store, io.StringIO()) is None
    stream = io.StringIO()
    assert export_csv([], stream) is None
    assert stream.getvalue().strip() == ",".join(CSV_COLUMNS)


def test_sell_raw_amounts_have_vault_signs() -> None:
    trade = succeeded(broadcasted(started(make_trade(buy=False))))
    row = trade_row(trade)
    assert row["executed_quantity_raw"] == "-499750124937531234"
    assert row["executed_reserve_raw"] == "1500000000"


@given(st.integers(min_value=-(10**30), max_value=10**30), st.sampled_from([USDC, WETH]))
def test_raw_column_round_trips_chain_amounts(raw: int, asset: AssetIdentifier) -> None:
    assert raw_units(asset, asset.convert_to_decimal(raw)) == str(raw)


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=24, allow_nan=False))
def test_raw_column_never_overstates_a_magnitude(amount: Decimal) -> None:
    raw = int(raw_units(USDC, amount))
    exact, stored = Fraction(amount), Fraction(raw, 10**USDC.decimals)  # Fractions: no context rounding
    assert abs(stored) <= abs(exact)
    assert abs(exact) - abs(stored) < Fraction(1, 10**USDC.decimals)
    assert raw * exact >= 0


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_text_cells_cannot_become_spreadsheet_formulas(payload: str) -> None:
    """Token symbols and revert reasons are chain data anyone can write: quoted; numbers never are."""
    evil = AssetIdentifier(CHAIN_ID, "0x" + "09" * 20, payload, 18)
    trade = make_trade()
    trade.pair = TradingPairIdentifier(evil, USDC, "0x" + "03" * 20, "0x" + "04" * 20, 3000,
                                       ExchangeKind.uniswap_v3)
    failed(broadcasted(started(trade)), reason=payload)
    stream = io.StringIO()
    export_csv([trade], stream)
    rows = _rows(stream.getvalue())
    assert len(rows) == 1  # a CR inside a cell is quoted, not a line break
    row = rows[0]
    assert row["base"] == "'" + payload
    assert row["pair"] == "'" + trade.pair.get_ticker()
    # the reason is also escaped chain text (issue 13): a tab or CR shows as \t, \r
    assert row["revert_reason"] == neutralise_formula(escape_text(payload))
    assert row["quote"] == "USDC"


def test_negative_amounts_stay_numbers() -> None:
    row = trade_row(succeeded(broadcasted(started(make_trade()))))
    assert row["executed_reserve"] == "-1500" and row["executed_reserve_raw"] == "-1500000000"
    assert neutralise_formula("-1500") == "'-1500"  # what a text column would get: hence numbers are exempt
