"""Strict JSON: exact decimals, naive-UTC timestamps, trade-executor compatibility, refusals."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from model_samples import T0, USDC, WBTC_USDC_VIA_WETH, make_trade

from vaultexec.errors import SerialisationError
from vaultexec.model import (
    AssetDelta,
    BlockchainTransaction,
    TradeExecution,
    TradePricing,
    TradeStatus,
    TxState,
    dump_json,
    load_dict,
    load_json,
)
from vaultexec.model.serialisation import parse_json_text

EXECUTOR_TRADE = Path(__file__).parent / "data" / "trade_executor_trade.json"


def exact(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def test_trade_executor_json_loads_and_writes_back_unchanged() -> None:
    text = EXECUTOR_TRADE.read_text()
    trade = TradeExecution.from_json(text)
    assert trade.get_status() == TradeStatus.success
    assert trade.planned_price == Decimal("2256.579261127734")
    assert trade.planned_quantity == Decimal("-0.731250000000000000")
    assert trade.started_at == datetime.datetime(2024, 1, 2, 3, 4, 11, 283719)
    assert trade.blockchain_transactions[0].tx_state == TxState.confirmed
    assert trade.price_structure is not None
    assert trade.price_structure.market_feed_delay == datetime.timedelta(seconds=12.5)
    written = trade.to_json()
    assert exact(written) == exact(text)
    # not only equal numbers: the same JSON types (floats stay numbers, decimals stay strings)
    assert json.loads(written) == json.loads(text)


def test_decimals_are_strings_and_float_fields_numbers() -> None:
    data = json.loads(dump_json(make_trade(planned_price=Decimal("2000.10"))))
    assert data["planned_quantity"] == "0.5"
    assert data["planned_reserve"] == "1000"
    assert isinstance(data["planned_price"], float)
    assert data["opened_at"] == 1704164645.0
    assert data["trade_type"] == "rebalance"
    assert data["pair"]["kind"] == "uniswap_v3"
    assert '"planned_price": 2000.10' in dump_json(make_trade(planned_price=Decimal("2000.10")))


def test_round_trip_full_trade() -> None:
    trade = make_trade(pair=WBTC_USDC_VIA_WETH, planned_quantity=Decimal("0.02"))
    trade.mark_started(T0 + datetime.timedelta(microseconds=1))
    tx = BlockchainTransaction(
        chain_id=1,
        tx_hash="0x01",
        asset_deltas=trade.calculate_asset_deltas(),
        details={"value": Decimal("1.5"), "data": "0x"},
        transaction_args=[1, "a"],
    )
    tx.set_signed("0x02", "0xdead", 3)
    trade.set_blockchain_transactions([tx])
    trade.price_structure = TradePricing(price=Decimal(1), mid_price=Decimal(2), lp_fee=[Decimal("0.1")])
    loaded = load_json(TradeExecution, dump_json(trade))
    assert loaded == trade
    assert loaded.blockchain_transactions[0].get_all_tx_hashes() == ["0x01", "0x02"]
    assert TradeExecution.from_dict(trade.to_dict()) == trade


def test_timestamps_exact_to_microsecond_and_utc() -> None:
    when = datetime.datetime(2262, 4, 11, 23, 47, 16, 854775)
    trade = make_trade(opened_at=when)
    assert load_json(TradeExecution, dump_json(trade)).opened_at == when
    before_epoch = datetime.datetime(1969, 12, 31, 23, 59, 59, 500000)
    assert '"opened_at": -0.5' in dump_json(make_trade(opened_at=before_epoch))
    assert load_json(TradeExecution, dump_json(make_trade(opened_at=before_epoch))).opened_at == before_epoch


def base_dict() -> dict[str, Any]:
    data: dict[str, Any] = parse_json_text(dump_json(make_trade()))
    return data


def test_unknown_field_refused() -> None:
    data = base_dict()
    data["foo"] = "bar"
    with pytest.raises(SerialisationError, match=r"unknown field.*foo.*TradeExecution"):
        load_dict(TradeExecution, data)
    data = base_dict()
    data["pair"]["base"]["colour"] = "blue"
    with pytest.raises(SerialisationError, match=r"TradeExecution.pair.base: unknown field\(s\) colour"):
        load_dict(TradeExecution, data)


def test_missing_required_field_refused() -> None:
    data = base_dict()
    del data["planned_reserve"]
    with pytest.raises(SerialisationError, match="missing required field planned_reserve of TradeExecution"):
        load_dict(TradeExecution, data)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("trade_id", "12", "TradeExecution.trade_id: expected an integer"),
        ("trade_id", True, "TradeExecution.trade_id: expected an integer"),
        ("planned_quantity", 0.5, "TradeExecution.planned_quantity: expected a JSON number"),
        ("planned_quantity", "half", "expected a decimal string"),
        ("planned_quantity", "NaN", "expected a finite decimal"),
        ("trade_type", "buy", "expected one of 'rebalance'"),
        ("opened_at", "2024-01-01T00:00:00", "TradeExecution.opened_at: expected a JSON number"),
        ("blockchain_transactions", {}, "expected a list"),
        ("pair", [], "expected an object for TradingPairIdentifier"),
        ("notes", 5, "expected a string"),
    ],
)
def test_wrong_type_refused(field: str, value: Any, message: str) -> None:
    data = base_dict()
    data[field] = value
    with pytest.raises(SerialisationError, match=message):
        load_dict(TradeExecution, data)


def test_model_validation_failures_become_serialisation_errors() -> None:
    data = base_dict()
    data["planned_reserve"] = "-5"
    with pytest.raises(SerialisationError, match=r"TradeExecution refused the stored values.*planned_reserve"):
        load_dict(TradeExecution, data)
    data = base_dict()
    data["pair"]["base"]["address"] = "0x1234"
    with pytest.raises(SerialisationError, match=r"pair.base: AssetIdentifier refused"):
        load_dict(TradeExecution, data)


def test_json_text_refusals() -> None:
    with pytest.raises(SerialisationError, match="NaN refused"):
        load_json(AssetDelta, '{"asset": null, "raw_amount": NaN}')
    with pytest.raises(SerialisationError, match="not valid JSON"):
        load_json(AssetDelta, "{")


def test_aware_datetime_and_float_not_serialised() -> None:
    trade = make_trade()
    trade.opened_at = T0.replace(tzinfo=datetime.UTC)
    with pytest.raises(SerialisationError, match="timezone-aware"):
        dump_json(trade)
    tx = BlockchainTransaction(details={"value": 1.5})
    with pytest.raises(SerialisationError, match="float"):
        dump_json(tx)


def test_asset_delta_round_trip() -> None:
    delta = AssetDelta(USDC, -5)
    assert AssetDelta.from_json(delta.to_json()) == delta
