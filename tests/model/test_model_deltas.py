"""The single slippage formula: exact spend (floor) and minimum receive (ceil), worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from model_samples import USDC, WBTC, WBTC_USDC_VIA_WETH, WETH, make_trade

from vaultexec.errors import BadInputError
from vaultexec.model import AssetDelta, AssetIdentifier, calculate_exact_spend, calculate_min_receive


def test_exact_spend_rounds_down() -> None:
    # 100.1234567 USDC = 100123456.7 raw -> 100123456
    assert calculate_exact_spend(Decimal("100.1234567"), USDC) == 100_123_456


def test_min_receive_rounds_up() -> None:
    # 0.5 WETH * (1 - 0.01) = 0.495 WETH = 495000000000000000 raw, exact
    assert calculate_min_receive(Decimal("0.5"), Decimal("0.01"), WETH) == 495_000_000_000_000_000
    # 1.23456789 WBTC * 0.997 = 1.23086418633 -> 123086418.633 raw -> ceil 123086419
    assert calculate_min_receive(Decimal("1.23456789"), Decimal("0.003"), WBTC) == 123_086_419
    # zero tolerance: the full amount, rounded up: 1.0000001 USDC -> 1000000.1 -> 1000001
    assert calculate_min_receive(Decimal("1.0000001"), Decimal(0), USDC) == 1_000_001


def test_min_receive_exact_beyond_default_precision() -> None:
    # 10^12 + 1e-18 WETH, tolerance 1e-20: the product has 50 digits; exact result
    # (10^30 + 1) * (1 - 10^-20) raw = 10^30 + 1 - 10^10 - 10^-20 -> ceil = 10^30 - 10^10 + 1
    expected = Decimal("1000000000000.000000000000000001")
    got = calculate_min_receive(expected, Decimal("1E-20"), WETH)
    assert got == 10**30 - 10**10 + 1


@pytest.mark.parametrize("tolerance", [None, 0.01, Decimal("-0.01"), Decimal(1), Decimal("1.5"), Decimal("NaN"), True])
def test_bad_tolerance_refused(tolerance: object) -> None:
    with pytest.raises(BadInputError):
        calculate_min_receive(Decimal(1), tolerance, USDC)  # type: ignore[arg-type]


def test_tolerance_accepts_decimal_strings_and_zero_int() -> None:
    assert calculate_min_receive(Decimal(2), "0.5", USDC) == 1_000_000
    assert calculate_min_receive(Decimal(2), 0, USDC) == 2_000_000


@pytest.mark.parametrize("amount", [Decimal(0), Decimal("-1"), 1.0])
def test_bad_amounts_refused(amount: object) -> None:
    with pytest.raises(BadInputError):
        calculate_exact_spend(amount, USDC)  # type: ignore[arg-type]
    with pytest.raises(BadInputError):
        calculate_min_receive(amount, Decimal("0.01"), USDC)  # type: ignore[arg-type]


def test_spend_below_one_raw_unit_refused() -> None:
    with pytest.raises(BadInputError, match="below one raw unit"):
        calculate_exact_spend(Decimal("0.0000001"), USDC)


def test_asset_delta_direction() -> None:
    spend = AssetDelta(USDC, -1_500_000)
    receive = AssetDelta(WETH, 10**18)
    assert spend.is_spend() and not spend.is_receive()
    assert receive.is_receive() and not receive.is_spend()
    assert spend.get_decimal_amount() == Decimal("-1.5")
    assert str(spend) == "spend 1.500000 USDC (-1500000 raw)"
    with pytest.raises(BadInputError):
        AssetDelta(USDC, 0)


def test_trade_buy_deltas() -> None:
    # buy 0.5 WETH for 1000 USDC, 1 %: spend 1000 USDC = 1e9 raw; receive >= 0.495 WETH
    deltas = make_trade().calculate_asset_deltas()
    assert deltas == [AssetDelta(USDC, -1_000_000_000), AssetDelta(WETH, 495_000_000_000_000_000)]


def test_trade_sell_deltas() -> None:
    # sell 0.333333333333333333333 WETH (21 decimals) for ~666.666667 USDC, 0.5 %:
    # spend floor(333333333333333333.333) = 333333333333333333 raw WETH
    # receive 666.666667 * 0.995 = 663.333333665 USDC -> 663333333.665 raw -> ceil 663333334
    trade = make_trade(
        planned_quantity=Decimal("-0.333333333333333333333"),
        planned_reserve=Decimal("666.666667"),
        slippage_tolerance=Decimal("0.005"),
    )
    assert trade.calculate_asset_deltas() == [
        AssetDelta(WETH, -333_333_333_333_333_333),
        AssetDelta(USDC, 663_333_334),
    ]


def test_trade_three_way_deltas_use_first_input_and_final_output() -> None:
    # buy 0.02 WBTC for 1300 USDC via WETH, 2 %: spend 1300 USDC, receive >= 0.0196 WBTC = 1960000 raw
    buy = make_trade(
        pair=WBTC_USDC_VIA_WETH,
        planned_quantity=Decimal("0.02"),
        planned_reserve=Decimal("1300"),
        slippage_tolerance=Decimal("0.02"),
    )
    assert buy.calculate_asset_deltas() == [AssetDelta(USDC, -1_300_000_000), AssetDelta(WBTC, 1_960_000)]
    sell = make_trade(
        pair=WBTC_USDC_VIA_WETH,
        planned_quantity=Decimal("-0.02"),
        planned_reserve=Decimal("1300"),
        slippage_tolerance=Decimal("0.02"),
    )
    # spend 0.02 WBTC = 2000000 raw; receive >= 1274 USDC
    assert sell.calculate_asset_deltas() == [AssetDelta(WBTC, -2_000_000), AssetDelta(USDC, 1_274_000_000)]


def test_trade_without_tolerance_refused() -> None:
    with pytest.raises(BadInputError, match="slippage_tolerance is not set"):
        make_trade(slippage_tolerance=None).calculate_asset_deltas()


def test_reserve_decimals_mismatch_refused() -> None:
    usdc_18 = AssetIdentifier(1, USDC.address, "USDC", 18)
    with pytest.raises(BadInputError, match="decimals mismatch"):
        make_trade(reserve_currency=usdc_18).calculate_asset_deltas()


def test_reserve_not_quote_refused() -> None:
    with pytest.raises(BadInputError, match="not the pair's quote"):
        make_trade(reserve_currency=WBTC).calculate_asset_deltas()
