"""Every field is checked on construction, and the writer refuses what the strict loader would refuse."""

from __future__ import annotations

import copy
import dataclasses
import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_samples import T0, USDC, WETH, WETH_USDC, make_trade

from vaultexec.errors import BadInputError, SerialisationError
from vaultexec.model import (
    AssetDelta,
    BlockchainTransaction,
    RunState,
    TradeExecution,
    TradePricing,
    TradingPairIdentifier,
    TxState,
    VersionInfo,
    dump_json,
    load_json,
)

AWARE = T0.replace(tzinfo=datetime.UTC)
HASH = "0x" + "ab" * 32


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("planned_quantity", None, r"TradeExecution\.planned_quantity: expected a Decimal, got NoneType"),
        ("planned_price", None, r"TradeExecution\.planned_price: expected a Decimal"),
        ("planned_reserve", None, r"TradeExecution\.planned_reserve: expected a Decimal"),
        ("planned_price", 2000.5, "float 2000.5 refused"),
        ("notes", 5, r"TradeExecution\.notes: expected a str, got int 5"),
        ("retry_of", 1.5, r"TradeExecution\.retry_of: expected an int, got float"),
        ("repaired_trade_id", True, r"TradeExecution\.repaired_trade_id: expected an int, got bool"),
        ("blockchain_transactions", None, r"TradeExecution\.blockchain_transactions: expected a list"),
        ("blockchain_transactions", [{}], r"blockchain_transactions\[0\]: expected a BlockchainTransaction"),
        ("price_structure", {"price": 1}, r"TradeExecution\.price_structure: expected a TradePricing"),
        ("trade_type", "rebalance", r"TradeExecution\.trade_type: expected a TradeType"),
        ("opened_at", T0.date(), r"TradeExecution\.opened_at: expected a naive UTC datetime"),
        ("executed_at", AWARE, "timezone-aware"),
        ("executor_extra", {}, r"TradeExecution\.executor_extra: expected a ExecutorExtra"),
        ("lp_fees_paid", Decimal("1E+2000"), "outside the supported range"),
    ],
)
def test_trade_fields_checked_on_construction(field: str, value: object, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        make_trade(**{field: value})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_fee_per_gas", 3e10, r"BlockchainTransaction\.max_fee_per_gas: expected an int, got float"),
        ("nonce", True, r"BlockchainTransaction\.nonce: expected an int, got bool"),
        ("status", "false", r"BlockchainTransaction\.status: expected a bool, got str"),
        ("tx_state", "confirmed", r"BlockchainTransaction\.tx_state: expected a TxState"),
        ("details", ["to"], r"BlockchainTransaction\.details: expected a dict"),
        ("details", {1: "x"}, r"BlockchainTransaction\.details key: expected a str"),
        ("asset_deltas", [None], r"asset_deltas\[0\]: expected a AssetDelta"),
        ("gas_limit", -1, "gas_limit -1 is not a uint256"),
        ("nonce", 2**256, "is not a uint256"),
        ("chain_id", 0, "chain_id 0 must be positive"),
        ("tx_hash", "0x01", "tx_hash '0x01' is not 0x \\+ 64 hex digits"),
        ("block_hash", "ab" * 32, "block_hash .* is not 0x"),
        ("signed_bytes", "0xzz", "signed_bytes .* is not 0x"),
        ("from_address", "0x1234", "from_address .* is not 0x \\+ 40 hex digits"),
        ("replaced_tx_hashes", ["0x01"], r"replaced_tx_hashes\[0\]"),
        ("broadcasted_at", AWARE, "timezone-aware"),
    ],
)
def test_transaction_fields_checked_on_construction(field: str, value: object, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        BlockchainTransaction(**{field: value})


def test_transaction_reverted_only_by_a_real_false() -> None:
    assert BlockchainTransaction(status=False).is_reverted()
    with pytest.raises(BadInputError):
        BlockchainTransaction(status=0)  # type: ignore[arg-type]


def test_set_signed_checks_its_arguments_first() -> None:
    tx = BlockchainTransaction()
    for args in (("0x01", "0xdead", 1), (HASH, "dead", 1), (HASH, "0xdead", -1), (HASH, "0xdead", 1.0)):
        with pytest.raises(BadInputError, match="set_signed"):
            tx.set_signed(*args)  # type: ignore[arg-type]
    assert tx.tx_hash is None and tx.tx_state == TxState.unsigned


def test_pricing_token_amounts_become_decimals_and_floats_are_refused() -> None:
    pricing = TradePricing(price=1, mid_price="2", token_in=5, token_out="0.25")  # type: ignore[arg-type]
    assert pricing.token_in == Decimal(5) and isinstance(pricing.token_in, Decimal)
    assert pricing.token_out == Decimal("0.25")
    for field, value in (("token_in", 0.5), ("side", "buy"), ("path", [WETH]), ("read_at", AWARE), ("lp_fee", "1")):
        with pytest.raises(BadInputError, match=f"TradePricing.{field}"):
            TradePricing(price=Decimal(1), mid_price=Decimal(1), **{field: value})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cycles", "7", r"RunState\.cycles: expected an int"),
        ("executor_running", 1, r"RunState\.executor_running: expected a bool"),
        ("market_data_feed_lag", 5, r"RunState\.market_data_feed_lag: expected a timedelta"),
        ("last_errors", {"3": "boom"}, r"RunState\.last_errors key: expected an int"),
        ("last_errors", {3: 4}, r"RunState\.last_errors\[3\]: expected a str"),
        ("version", None, r"RunState\.version: expected a VersionInfo"),
        ("crashed_at", AWARE, "timezone-aware"),
        ("trades_failed", -1, "trades_failed -1 must not be negative"),
    ],
)
def test_run_state_fields_checked_on_construction(field: str, value: object, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        RunState(**{field: value})
    with pytest.raises(BadInputError, match="tag"):
        VersionInfo(tag=1)  # type: ignore[arg-type]


def test_identifier_parts_are_checked_with_a_clear_error() -> None:
    with pytest.raises(BadInputError, match=r"TradingPairIdentifier\.base: expected a AssetIdentifier"):
        TradingPairIdentifier("WETH", USDC, WETH_USDC.pool_address, WETH_USDC.exchange_address, 500,  # type: ignore[arg-type]
                              WETH_USDC.kind)
    with pytest.raises(BadInputError, match=r"AssetDelta\.asset: expected a AssetIdentifier"):
        AssetDelta("USDC", 5)  # type: ignore[arg-type]
    with pytest.raises(BadInputError, match=r"AssetIdentifier\.token_symbol: expected a str"):
        dataclasses.replace(USDC, token_symbol=None)


# ---------------------------------------------------------------- the writer refuses what would not load


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: setattr(t, "notes", 5), r"TradeExecution\.notes: expected a string, got int 5"),
        (lambda t: setattr(t, "planned_price", None), r"TradeExecution\.planned_price: expected a Decimal"),
        (lambda t: setattr(t, "planned_price", 2000.0), r"TradeExecution\.planned_price: expected a Decimal"),
        (lambda t: setattr(t, "planned_reserve", Decimal(-5)), "fails its own validation.*planned_reserve -5"),
        (lambda t: setattr(t, "trade_id", 10**15), "fails its own validation.*outside"),
        (lambda t: setattr(t, "opened_at", AWARE), "timezone-aware"),
        (lambda t: setattr(t, "blockchain_transactions", None), r"blockchain_transactions: expected a list"),
        (lambda t: setattr(t.blockchain_transactions[0], "status", "false"),
         r"TradeExecution\.blockchain_transactions\[0\]\.status: expected a boolean"),
        (lambda t: setattr(t.blockchain_transactions[0], "max_fee_per_gas", 3e10),
         r"blockchain_transactions\[0\]\.max_fee_per_gas: expected an integer"),
        (lambda t: setattr(t.blockchain_transactions[0], "tx_hash", "0x01"), "tx_hash '0x01' is not"),
        (lambda t: t.blockchain_transactions[0].details.update(value=1.5),  # type: ignore[union-attr]
         r"blockchain_transactions\[0\]\.details\['value'\]: float"),
        (lambda t: setattr(t, "price_structure", TradePricing(Decimal(1), Decimal(1), path=[USDC])),  # type: ignore[list-item]
         "TradePricing.path: expected a TradingPairIdentifier"),
    ],
)
def test_dump_refuses_an_object_changed_into_one_that_would_not_load(change: Any, message: str) -> None:
    trade = make_trade(blockchain_transactions=[BlockchainTransaction(tx_hash=HASH, details={"value": 1})])
    try:
        change(trade)
    except BadInputError as e:  # refused when it was built: fine too
        assert "TradePricing" in str(e)
        return
    with pytest.raises(SerialisationError, match=message):
        dump_json(trade)
    with pytest.raises(SerialisationError, match=message):
        trade.to_dict()


def test_pretty_print_of_a_broken_trade_still_prints() -> None:
    trade = make_trade()
    trade.notes = 5  # type: ignore[assignment]
    assert "not serialisable" in trade.pretty_print() and "notes=5" in trade.pretty_print()


def test_schema_is_refused_with_a_pointer_to_the_strict_api() -> None:
    with pytest.raises(SerialisationError, match=r"TradeExecution\.schema\(\).*from_json\(\)"):
        TradeExecution.schema()
    with pytest.raises(SerialisationError, match="from_dict"):
        RunState.schema(many=True)


# ---------------------------------------------------------------- property: written means loadable

#: Values of every kind, well- and ill-typed, to put into fields after construction.
ODD_VALUES = st.sampled_from(
    [None, 0, -1, 1.5, True, "x", "0x01", HASH, Decimal("-0"), Decimal(-5), Decimal("1E+2000"), Decimal("NaN"), T0,
     AWARE, datetime.timedelta(seconds=-1), [], [None], {}, {"k": 1.5}, {1: "x"}, TxState.failed, 2**256, USDC]
)
TRADE_FIELDS = [f.name for f in dataclasses.fields(TradeExecution)]
TX_FIELDS = [f.name for f in dataclasses.fields(BlockchainTransaction)]


def sample_trade() -> TradeExecution:
    tx = BlockchainTransaction(chain_id=1, tx_hash=HASH, nonce=1, details={"value": Decimal("1.5")})
    trade = make_trade(blockchain_transactions=[tx], price_structure=TradePricing(Decimal(1), Decimal(2)))
    trade.mark_started(T0)
    return trade


@settings(max_examples=300, deadline=None)
@given(
    changes=st.lists(
        st.tuples(st.sampled_from(["trade", "tx", "pricing"]), st.integers(min_value=0, max_value=100), ODD_VALUES),
        min_size=1,
        max_size=3,
    )
)
def test_whatever_dump_writes_loads_back_equal(changes: list[tuple[str, int, Any]]) -> None:
    trade = sample_trade()
    targets: dict[str, Any] = {"trade": trade, "tx": trade.blockchain_transactions[0], "pricing": trade.price_structure}
    for target, index, value in changes:
        obj = targets[target]
        names = [f.name for f in dataclasses.fields(obj)]
        object.__setattr__(obj, names[index % len(names)], copy.copy(value))
    try:
        text = dump_json(trade)
    except SerialisationError:
        return
    loaded = load_json(TradeExecution, text)
    assert dump_json(loaded) == text
    assert loaded == trade
