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
#: The float fields set in that record (JSON numbers there).
FLOAT_FIELDS = ("planned_price", "reserve_currency_exchange_rate", "planned_mid_price", "planned_max_slippage",
                "executed_price", "slippage_tolerance", "fee_tier", "lp_fees_paid", "lp_fees_estimated",
                "lp_fee_exchange_rate", "native_token_price")


def exact(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def test_older_record_with_number_decimals_loads_exactly_and_is_rewritten_as_strings() -> None:
    """The record stores trade-executor's float fields as JSON numbers (our format before every Decimal
    was a string): they load exactly, and are written back as strings with the same digits."""
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
    old, new = exact(text), exact(written)
    changed = {key for key in old if new[key] != old[key]}
    assert changed == {*FLOAT_FIELDS, "price_structure"}
    for key in FLOAT_FIELDS:
        assert new[key] == str(old[key])  # the same digits, now a string
    assert new["planned_price"] == "2256.579261127734"
    assert new["price_structure"]["lp_fee"] == [str(fee) for fee in old["price_structure"]["lp_fee"]]
    assert TradeExecution.from_json(written) == trade


def test_every_decimal_field_is_a_string() -> None:
    trade = make_trade(planned_price=Decimal("2000.10"), planned_mid_price=Decimal("-0"), fee_tier=Decimal("0.0005"))
    data = json.loads(dump_json(trade))
    assert data["planned_quantity"] == "0.5"
    assert data["planned_reserve"] == "1000"
    assert data["planned_price"] == "2000.10"  # trade-executor's float field: a string in our JSON
    assert data["planned_mid_price"] == "-0"
    assert data["fee_tier"] == "0.0005" and data["slippage_tolerance"] == "0.01"
    assert data["opened_at"] == 1704164645.0
    assert data["trade_type"] == "rebalance"
    assert data["pair"]["kind"] == "uniswap_v3"


def test_negative_zero_round_trips_exactly() -> None:
    trade = make_trade(planned_price=Decimal("-0"), lp_fees_paid=Decimal("-0.00"))
    loaded = load_json(TradeExecution, dump_json(trade))
    assert str(loaded.planned_price) == "-0" and loaded.planned_price.is_signed()
    assert str(loaded.lp_fees_paid) == "-0.00"
    # as a JSON number (older records, free-form values) too: "-0" is not read as the integer 0
    data = base_dict()
    data["planned_price"] = parse_json_text("-0")
    assert str(load_dict(TradeExecution, data).planned_price) == "-0"
    tx = BlockchainTransaction(details={"value": Decimal("-0")})
    details = load_json(BlockchainTransaction, dump_json(tx)).details
    assert details is not None and str(details["value"]) == "-0"


def test_older_number_decimals_load_exactly() -> None:
    text = dump_json(make_trade()).replace('"planned_price": "2000"', '"planned_price": 2000.100000000000000000001')
    assert load_json(TradeExecution, text).planned_price == Decimal("2000.100000000000000000001")


def test_round_trip_full_trade() -> None:
    trade = make_trade(pair=WBTC_USDC_VIA_WETH, planned_quantity=Decimal("0.02"))
    trade.mark_started(T0 + datetime.timedelta(microseconds=1))
    tx = BlockchainTransaction(
        chain_id=1,
        tx_hash="0x" + "01" * 32,
        asset_deltas=trade.calculate_asset_deltas(),
        details={"value": Decimal("1.5"), "data": "0x"},
        transaction_args=[1, "a"],
    )
    tx.set_signed("0x" + "02" * 32, "0xdead", 3)
    trade.set_blockchain_transactions([tx])
    trade.price_structure = TradePricing(price=Decimal(1), mid_price=Decimal(2), lp_fee=[Decimal("0.1")])
    loaded = load_json(TradeExecution, dump_json(trade))
    assert loaded == trade
    assert loaded.blockchain_transactions[0].get_all_tx_hashes() == ["0x" + "01" * 32, "0x" + "02" * 32]
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
        ("planned_quantity", "NaN", "expected a decimal string"),
        ("planned_quantity", "1_000", "expected a decimal string"),
        ("planned_quantity", " 1", "expected a decimal string"),
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
