"""Hypothesis properties of the slippage bounds and the JSON round trip."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from vaultexec.model import (
    AssetDelta,
    AssetIdentifier,
    BlockchainTransaction,
    ExchangeKind,
    ExecutorExtra,
    ExecutorOverride,
    TradeExecution,
    TradePricing,
    TradeType,
    TradingPairIdentifier,
    TxState,
    calculate_exact_spend,
    calculate_min_receive,
    dump_json,
    load_json,
)
from vaultexec.model.identifiers import FEE_DENOMINATOR, MAX_DECIMALS
from vaultexec.model.trade import MAX_TRADE_ID

TOKEN_ADDRESS = "0x" + "d0" * 20


def decimals_st() -> st.SearchStrategy[int]:
    return st.integers(min_value=0, max_value=36)


def amount_st(max_exponent: int = 40) -> st.SearchStrategy[Decimal]:
    """Positive decimals with up to 40 digits and 0..40 fraction digits."""
    return st.builds(
        lambda mantissa, exponent: Decimal(mantissa).scaleb(-exponent),
        st.integers(min_value=1, max_value=10**40),
        st.integers(min_value=0, max_value=max_exponent),
    )


def tolerance_st() -> st.SearchStrategy[Decimal]:
    return st.builds(
        lambda numerator, places: Decimal(numerator).scaleb(-places),
        st.integers(min_value=0, max_value=10**6 - 1),
        st.just(6),
    ) | st.decimals(min_value=0, max_value=Decimal("0.999999999999"), places=12)


@settings(max_examples=400, deadline=None)
@given(decimals=decimals_st(), expected=amount_st(), tolerance=tolerance_st())
def test_min_receive_is_tight_and_never_loose(decimals: int, expected: Decimal, tolerance: Decimal) -> None:
    asset = AssetIdentifier(1, TOKEN_ADDRESS, "TKN", decimals)
    raw = calculate_min_receive(expected, tolerance, asset)
    back = Fraction(asset.convert_to_decimal(raw))
    bound = Fraction(expected) * (1 - Fraction(tolerance))
    unit = Fraction(1, 10**decimals)
    assert bound <= back < bound + unit


@settings(max_examples=400, deadline=None)
@given(decimals=decimals_st(), planned=amount_st())
def test_spend_never_exceeds_planned(decimals: int, planned: Decimal) -> None:
    asset = AssetIdentifier(1, TOKEN_ADDRESS, "TKN", decimals)
    assume(Fraction(planned) >= Fraction(1, 10**decimals))
    raw = calculate_exact_spend(planned, asset)
    back = Fraction(asset.convert_to_decimal(raw))
    assert Fraction(planned) - Fraction(1, 10**decimals) < back <= Fraction(planned)


timestamps = st.datetimes()  # year 1 to 9999: exact to the microsecond across the whole range


def signed_decimal_st() -> st.SearchStrategy[Decimal]:
    """Any sign (zero and -0 too), up to 30 digits, exponents -60..60."""
    return st.builds(
        lambda sign, mantissa, exponent: Decimal((sign, tuple(int(d) for d in str(mantissa)), exponent)),
        st.sampled_from([0, 1]),
        st.integers(min_value=0, max_value=10**30),
        st.integers(min_value=-60, max_value=60),
    )


optional_decimal = st.none() | signed_decimal_st()
hex_st = st.binary(max_size=40).map(lambda b: "0x" + b.hex())
hash_st = st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())
address_st = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
uint_st = st.integers(min_value=0, max_value=2**256 - 1)
trade_id_st = st.integers(min_value=0, max_value=MAX_TRADE_ID)
#: Free-form JSON (call arguments, details, executor extras): no floats, numbers exact.
json_st = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=8)
    | signed_decimal_st(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=4,
)


@st.composite
def assets(draw: st.DrawFn) -> AssetIdentifier:
    return AssetIdentifier(
        chain_id=1,
        address=draw(address_st),
        token_symbol=draw(st.text(max_size=6)),
        decimals=draw(st.integers(min_value=0, max_value=MAX_DECIMALS)),
        internal_id=draw(st.none() | st.integers(min_value=-5, max_value=10**12)),
        executor_extra=draw(st.none() | extras()),
    )


@st.composite
def pairs(draw: st.DrawFn, three_way: bool = True) -> TradingPairIdentifier:
    base, quote = draw(assets()), draw(assets())
    assume(base.address != quote.address)
    middle = None
    if three_way and draw(st.booleans()):
        via = draw(assets())
        assume(via.address not in (base.address, quote.address))
        middle = draw(pairs(three_way=False).map(lambda p: dataclasses.replace(p, base=via, quote=quote)))
    return TradingPairIdentifier(
        base=base,
        quote=quote,
        pool_address=draw(address_st),
        exchange_address=draw(address_st),
        fee=draw(st.integers(min_value=0, max_value=FEE_DENOMINATOR - 1)),
        kind=draw(st.sampled_from(ExchangeKind)),
        internal_id=draw(st.none() | st.integers(min_value=0, max_value=10**9)),
        exchange_name=draw(st.none() | st.text(max_size=8)),
        intermediary_pair=middle,
    )


@st.composite
def extras(draw: st.DrawFn) -> ExecutorExtra:
    keys = st.text(max_size=6)
    return ExecutorExtra(
        order=draw(st.lists(keys, max_size=3)),
        unknown=draw(st.dictionaries(keys, json_st, max_size=2)),
        overrides=draw(st.dictionaries(keys, st.builds(ExecutorOverride, json_st, json_st), max_size=2)),
        absent=draw(st.dictionaries(keys, json_st, max_size=2)),
    )


@st.composite
def transactions(draw: st.DrawFn, assets_of_trade: list[AssetIdentifier]) -> BlockchainTransaction:
    maybe = st.none
    return BlockchainTransaction(
        chain_id=draw(maybe() | st.integers(min_value=1, max_value=2**64)),
        from_address=draw(maybe() | address_st),
        contract_address=draw(maybe() | address_st),
        function_selector=draw(maybe() | st.text(max_size=10)),
        transaction_args=draw(maybe() | st.lists(json_st, max_size=3)),
        args=draw(maybe() | st.lists(json_st, max_size=3)),
        wrapped_args=draw(maybe() | st.lists(json_st, max_size=2)),
        wrapped_function_selector=draw(maybe() | st.text(max_size=10)),
        signed_bytes=draw(maybe() | hex_st),
        tx_hash=draw(maybe() | hash_st),
        nonce=draw(maybe() | uint_st),
        details=draw(maybe() | st.dictionaries(st.text(max_size=6), json_st, max_size=4)),
        asset_deltas=draw(st.lists(st.builds(
            AssetDelta, st.sampled_from(assets_of_trade), st.integers().filter(lambda raw: raw != 0)), max_size=2)),
        gas_limit=draw(maybe() | uint_st),
        max_fee_per_gas=draw(maybe() | uint_st),
        max_priority_fee_per_gas=draw(maybe() | uint_st),
        gas_price=draw(maybe() | uint_st),
        broadcasted_at=draw(maybe() | timestamps),
        included_at=draw(maybe() | timestamps),
        block_number=draw(maybe() | uint_st),
        block_hash=draw(maybe() | hash_st),
        status=draw(maybe() | st.booleans()),
        realised_gas_units_consumed=draw(maybe() | uint_st),
        realised_gas_price=draw(maybe() | uint_st),
        revert_reason=draw(maybe() | st.text(max_size=20)),
        revert_data=draw(maybe() | hex_st),
        revert_reason_approximate=draw(st.booleans()),
        stack_trace=draw(maybe() | st.text(max_size=20)),
        confirmations=draw(uint_st),
        tx_state=draw(st.sampled_from(TxState)),
        replaced_tx_hashes=draw(st.lists(hash_st, max_size=2)),
        notes=draw(maybe() | st.text(max_size=10)),
        executor_extra=draw(maybe() | extras()),
    )


@st.composite
def pricings(draw: st.DrawFn) -> TradePricing:
    fees = st.none() | st.lists(optional_decimal, max_size=3)
    return TradePricing(
        price=draw(signed_decimal_st()),
        mid_price=draw(signed_decimal_st()),
        lp_fee=draw(fees),
        pair_fee=draw(fees),
        market_feed_delay=draw(st.none() | st.timedeltas()),
        side=draw(st.none() | st.booleans()),
        path=draw(st.none() | st.lists(pairs(three_way=False), max_size=1)),
        read_at=draw(st.none() | timestamps),
        block_number=draw(st.none() | st.integers(min_value=0, max_value=10**10)),
        token_in=draw(optional_decimal),
        token_out=draw(optional_decimal),
        executor_extra=draw(st.none() | extras()),
    )


@st.composite
def trades(draw: st.DrawFn) -> TradeExecution:
    """Every TradeExecution field, with random assets, pairs, transactions and pricing."""
    trade_type = draw(st.sampled_from(TradeType))
    accounting = trade_type in (TradeType.repair, TradeType.accounting_correction)
    quantity = draw(amount_st(30) | (st.just(Decimal(0)) if accounting else st.nothing()))
    pair = draw(pairs())
    reserve = draw(st.sampled_from([pair.quote, draw(assets())]))
    optional_time = st.none() | timestamps
    return TradeExecution(
        trade_id=draw(trade_id_st),
        position_id=draw(st.integers(min_value=-(10**12), max_value=10**12)),
        trade_type=trade_type,
        pair=pair,
        opened_at=draw(optional_time),
        planned_quantity=quantity if draw(st.booleans()) else -quantity,
        planned_reserve=draw(amount_st(12) | (st.just(Decimal(0)) if accounting else st.nothing())),
        planned_price=draw(signed_decimal_st()),
        reserve_currency=reserve,
        reserve_currency_exchange_rate=draw(optional_decimal),
        planned_mid_price=draw(optional_decimal),
        planned_max_slippage=draw(optional_decimal),
        started_at=draw(optional_time),
        reserve_currency_allocated=draw(optional_decimal),
        broadcasted_at=draw(optional_time),
        executed_at=draw(optional_time),
        failed_at=draw(optional_time),
        executed_price=draw(optional_decimal),
        executed_quantity=draw(optional_decimal),
        executed_reserve=draw(optional_decimal),
        slippage_tolerance=draw(st.none() | tolerance_st()),
        fee_tier=draw(optional_decimal),
        lp_fees_paid=draw(optional_decimal),
        lp_fees_estimated=draw(optional_decimal),
        lp_fee_exchange_rate=draw(optional_decimal),
        native_token_price=draw(optional_decimal),
        retry_of=draw(st.none() | trade_id_st),
        blockchain_transactions=draw(st.lists(transactions([*pair.get_all_assets(), reserve]), max_size=2)),
        notes=draw(st.none() | st.text(max_size=20)),
        repaired_at=draw(optional_time),
        repaired_trade_id=draw(st.none() | trade_id_st),
        price_structure=draw(st.none() | pricings()),
        executor_extra=draw(st.none() | extras()),
    )


def test_the_trade_strategy_sets_every_field() -> None:
    """Guard: a field added to the model must be added to the strategy above."""
    source = Path(__file__).read_text()
    for cls in (TradeExecution, BlockchainTransaction, TradePricing):
        for f in dataclasses.fields(cls):
            assert f"{f.name}=" in source, f"{cls.__name__}.{f.name} is not generated"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(trade=trades())
def test_json_round_trip_is_identity(trade: TradeExecution) -> None:
    text = dump_json(trade)
    loaded = load_json(TradeExecution, text)
    assert loaded == trade
    assert dump_json(loaded) == text  # byte-identical: covers executor extras, which == ignores
