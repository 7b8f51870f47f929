"""Hypothesis properties of the slippage bounds and the JSON round trip."""

from __future__ import annotations

import datetime
from decimal import Decimal
from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from model_samples import USDC, WBTC_USDC_VIA_WETH, WETH_USDC

from vaultexec.model import (
    AssetIdentifier,
    BlockchainTransaction,
    TradeExecution,
    TradeType,
    TxState,
    calculate_exact_spend,
    calculate_min_receive,
    dump_json,
    load_json,
)

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


timestamps = st.datetimes(min_value=datetime.datetime(1971, 1, 1), max_value=datetime.datetime(2200, 1, 1))
optional_decimal = st.none() | amount_st(20)


@st.composite
def trades(draw: st.DrawFn) -> TradeExecution:
    buy = draw(st.booleans())
    quantity = draw(amount_st(30))
    trade = TradeExecution(
        trade_id=draw(st.integers(min_value=1, max_value=10**9)),
        position_id=draw(st.integers(min_value=1, max_value=10**9)),
        trade_type=draw(st.sampled_from(TradeType)),
        pair=draw(st.sampled_from([WETH_USDC, WBTC_USDC_VIA_WETH])),
        opened_at=draw(st.none() | timestamps),
        planned_quantity=quantity if buy else -quantity,
        planned_reserve=draw(amount_st(12)),
        planned_price=draw(amount_st(20)),
        reserve_currency=USDC,
        planned_mid_price=draw(optional_decimal),
        slippage_tolerance=draw(st.none() | tolerance_st()),
        started_at=draw(st.none() | timestamps),
        executed_quantity=draw(optional_decimal),
        lp_fees_paid=draw(optional_decimal),
        notes=draw(st.none() | st.text(max_size=20)),
        retry_of=draw(st.none() | st.integers(min_value=0, max_value=100)),
    )
    if draw(st.booleans()):
        tx = BlockchainTransaction(
            chain_id=1,
            nonce=draw(st.integers(min_value=0, max_value=2**64 - 1)),
            status=draw(st.none() | st.booleans()),
            tx_state=draw(st.sampled_from(TxState)),
            included_at=draw(st.none() | timestamps),
            details={"value": draw(amount_st(18)), "data": "0x"},
        )
        trade.blockchain_transactions.append(tx)
    return trade


@settings(max_examples=200, deadline=None)
@given(trade=trades())
def test_json_round_trip_is_identity(trade: TradeExecution) -> None:
    text = dump_json(trade)
    loaded = load_json(TradeExecution, text)
    assert loaded == trade
    assert dump_json(loaded) == text
