"""Numbers out of range, huge exponents and deep nesting: typed errors naming the field, never a raw exception."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from model_samples import USDC, make_trade

from vaultexec.dex.deployments import executor_router_map
from vaultexec.errors import BadInputError, SerialisationError
from vaultexec.model import (
    BlockchainTransaction,
    RunState,
    TradeExecution,
    calculate_exact_spend,
    calculate_min_receive,
    dump_json,
    exact_mul,
    load_dict,
    load_json,
    to_decimal,
    trade_from_executor_dict,
)
from vaultexec.model.exact import exact_sub
from vaultexec.model.serialisation import MAX_JSON_DEPTH, parse_json_text

DATA = Path(__file__).parent / "data"
HUGE = ["1e12", "-1e12", "1e30", "-1e30", "1e999999999", "-1e999999999", "1e308"]


def trade_tree() -> dict[str, Any]:
    tree: dict[str, Any] = parse_json_text(dump_json(make_trade()))
    return tree


@pytest.mark.parametrize("number", HUGE)
def test_trade_timestamp_out_of_range_is_a_serialisation_error(number: str) -> None:
    text = dump_json(make_trade()).replace('"opened_at": 1704164645.0', f'"opened_at": {number}')
    with pytest.raises(SerialisationError, match=r"TradeExecution\.opened_at: expected epoch seconds within"):
        load_json(TradeExecution, text)


@pytest.mark.parametrize("number", HUGE)
def test_transaction_time_out_of_range(number: str) -> None:
    with pytest.raises(SerialisationError, match=r"BlockchainTransaction\.broadcasted_at: expected epoch"):
        load_json(BlockchainTransaction, f'{{"broadcasted_at": {number}}}')


@pytest.mark.parametrize("number", ["1e14", "-1e14", "1e30", "-1e30", "1e999999999"])
def test_run_state_lag_out_of_range(number: str) -> None:
    with pytest.raises(SerialisationError, match=r"RunState\.market_data_feed_lag: expected timedelta seconds"):
        load_json(RunState, f'{{"market_data_feed_lag": {number}}}')


def test_the_extreme_in_range_values_load() -> None:
    tree = trade_tree()
    tree["opened_at"] = Decimal("253402300799.999999")
    assert load_dict(TradeExecution, tree).opened_at == datetime.datetime.max
    tree["opened_at"] = Decimal(-62135596800)
    assert load_dict(TradeExecution, tree).opened_at == datetime.datetime.min
    lag = load_json(RunState, '{"market_data_feed_lag": -86399999913600}').market_data_feed_lag
    assert lag == datetime.timedelta.min
    # a tiny exponent rounds to the microsecond instead of expanding 10**999999999
    tree["opened_at"] = Decimal("1e-999999999")
    assert load_dict(TradeExecution, tree).opened_at == datetime.datetime(1970, 1, 1)


def test_executor_json_with_an_out_of_range_timestamp_is_refused() -> None:
    data = json.loads((DATA / "executor_v3_buy.json").read_text())
    data["opened_at"] = 1e300
    with pytest.raises(SerialisationError, match=r"TradeExecution\.opened_at"):
        trade_from_executor_dict(data, executor_router_map())
    data["opened_at"] = 1704164400.0
    data["blockchain_transactions"][0]["included_at"] = -1e30
    with pytest.raises(SerialisationError, match=r"BlockchainTransaction\.included_at"):
        trade_from_executor_dict(data, executor_router_map())


@pytest.mark.parametrize("amount", ["1E+10000000", "1E-10000000", "-1E+1001"])
def test_amounts_with_absurd_exponents_refused(amount: str) -> None:
    with pytest.raises(BadInputError, match="outside the supported range"):
        calculate_min_receive(Decimal(amount).copy_abs(), Decimal("0.01"), USDC)
    with pytest.raises(BadInputError, match="outside the supported range"):
        calculate_exact_spend(Decimal(amount).copy_abs(), USDC)
    with pytest.raises(BadInputError, match="outside the supported range"):
        to_decimal(amount, "amount")
    tree = trade_tree()
    tree["planned_quantity"] = amount
    with pytest.raises(SerialisationError, match=r"planned_quantity.*outside the supported range"):
        load_dict(TradeExecution, tree)


def test_exact_arithmetic_has_no_exponent_limit() -> None:
    assert exact_mul(Decimal("1E+10000000"), Decimal(3)) == Decimal("3E+10000000")
    assert exact_sub(Decimal("1E-10000000"), Decimal("1E-10000000")) == 0


def test_the_largest_supported_amounts_still_convert() -> None:
    assert USDC.convert_to_raw_floor(Decimal("1E+1000")) == 10**1006
    assert calculate_min_receive(Decimal("1E-1000") * 10**1000, Decimal(0), USDC) == 1_000_000


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, 100_000])
def test_deep_nesting_is_a_serialisation_error(depth: int) -> None:
    """Refused by a depth limit, not left to the recursion limit (py_ecc raises it to 100000: a segfault)."""
    deep = '"[{x' + "[" * depth + "]" * depth
    with pytest.raises(SerialisationError, match=f"nested deeper than {MAX_JSON_DEPTH} levels"):
        load_json(BlockchainTransaction, f'{{"notes": "[[[[", "details": {{"a": {deep}}}}}')
    nested: list[Any] = []
    for _ in range(depth):
        nested = [nested]
    path = r"BlockchainTransaction\.details\['a'\](\[0\])+"
    with pytest.raises(SerialisationError, match=path + ": free-form data nested"):
        dump_json(BlockchainTransaction(details={"a": nested}))
    with pytest.raises(SerialisationError, match="nested deeper"):
        load_dict(BlockchainTransaction, {"details": {"a": nested}})
    data = json.loads((DATA / "executor_v3_buy.json").read_text())
    data["route"] = nested
    with pytest.raises(SerialisationError, match="nested deeper"):
        trade_from_executor_dict(data, executor_router_map())


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    tx = BlockchainTransaction(notes="[{" * 2 * MAX_JSON_DEPTH, details={"a": [[[1]]]})
    assert load_json(BlockchainTransaction, dump_json(tx)) == tx


def test_integers_beyond_pythons_digit_limit_are_serialisation_errors() -> None:
    with pytest.raises(SerialisationError, match="not valid JSON"):
        load_json(TradeExecution, '{"trade_id": 1' + "0" * 5000 + "}")
    with pytest.raises(SerialisationError, match="BlockchainTransaction"):
        dump_json(BlockchainTransaction(details={"value": 10**5000}))


@pytest.mark.parametrize("key", ["--5", "+5", "5 ", "\u0665", "1_0"])
def test_malformed_integer_keys_refused(key: str) -> None:
    with pytest.raises(SerialisationError, match="is not an integer"):
        load_json(RunState, json.dumps({"last_errors": {key: "boom"}}))
