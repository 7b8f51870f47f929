"""AssetIdentifier conversions and TradingPairIdentifier routes, numbers worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from model_samples import USDC, V3_ROUTER, WBTC, WBTC_USDC_VIA_WETH, WETH, WETH_USDC, WETH_USDC_POOL

from vaultexec.errors import BadInputError
from vaultexec.model import AssetIdentifier, ExchangeKind, TradingPairIdentifier
from vaultexec.model.addresses import checksum


def test_address_is_checksummed() -> None:
    asset = AssetIdentifier(1, "0x" + "ab" * 20, "X", 18)
    assert asset.address == "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"


@pytest.mark.parametrize("address", ["0x1234", "not an address", 42, "0x" + "zz" * 20])
def test_bad_address_refused(address: object) -> None:
    with pytest.raises(BadInputError, match="not an Ethereum address"):
        AssetIdentifier(1, address, "X", 18)  # type: ignore[arg-type]


@pytest.mark.parametrize("decimals", [-1, 256, True, "6"])
def test_bad_decimals_refused(decimals: object) -> None:
    with pytest.raises(BadInputError):
        AssetIdentifier(1, "0x" + "ab" * 20, "X", decimals)  # type: ignore[arg-type]


def test_asset_is_hashable_dict_key() -> None:
    same = AssetIdentifier(1, "0x" + "a0" * 20, "USDC", 6)
    balances = {USDC: 1}
    assert balances[same] == 1


def test_floor_and_ceil_round_in_their_direction() -> None:
    # 1.2345678 USDC = 1234567.8 raw -> floor 1234567, ceil 1234568
    assert USDC.convert_to_raw_floor(Decimal("1.2345678")) == 1_234_567
    assert USDC.convert_to_raw_ceil(Decimal("1.2345678")) == 1_234_568
    # exact amounts are the same both ways
    assert USDC.convert_to_raw_floor(Decimal("2.5")) == 2_500_000
    assert USDC.convert_to_raw_ceil(Decimal("2.5")) == 2_500_000
    # floor goes toward minus infinity for negatives
    assert USDC.convert_to_raw_floor(Decimal("-0.0000001")) == -1


def test_conversion_exact_beyond_default_precision() -> None:
    # 33 significant digits (the default context keeps 28); 21 fraction digits, 18 fit in raw units
    amount = Decimal("123456789012.345678901234567891234")
    assert WETH.convert_to_raw_floor(amount) == 123456789012_345678901234567891
    assert WETH.convert_to_raw_ceil(amount) == 123456789012_345678901234567892


def test_convert_to_decimal_is_exact() -> None:
    assert WETH.convert_to_decimal(1) == Decimal("0.000000000000000001")
    assert USDC.convert_to_decimal(-1_500_000) == Decimal("-1.5")
    assert str(USDC.convert_to_decimal(1_500_000)) == "1.500000"


@pytest.mark.parametrize("amount", [1.5, True, Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_float_bool_non_finite_refused(amount: object) -> None:
    with pytest.raises(BadInputError):
        USDC.convert_to_raw_floor(amount)  # type: ignore[arg-type]
    with pytest.raises(BadInputError):
        USDC.convert_to_raw_ceil(amount)  # type: ignore[arg-type]


def test_convert_to_decimal_refuses_non_int() -> None:
    with pytest.raises(BadInputError):
        USDC.convert_to_decimal(1.0)  # type: ignore[arg-type]


def test_pair_helpers() -> None:
    assert WETH_USDC.get_fee_fraction() == Decimal("0.0005")
    assert WETH_USDC.get_ticker() == "WETH-USDC"
    assert WETH_USDC.chain_id == 1
    assert not WETH_USDC.is_three_way()
    assert WETH_USDC.get_route_assets(buy=True) == [USDC, WETH]
    assert WETH_USDC.get_route_assets(buy=False) == [WETH, USDC]
    assert WETH_USDC.get_route_pools(buy=True) == [(WETH_USDC_POOL, 500)]


def test_three_way_route() -> None:
    pair = WBTC_USDC_VIA_WETH
    assert pair.is_three_way()
    assert pair.get_ticker() == "WBTC-WETH-USDC"
    assert pair.get_intermediary_asset() == WETH
    assert pair.get_route_assets(buy=True) == [USDC, WETH, WBTC]
    assert pair.get_route_assets(buy=False) == [WBTC, WETH, USDC]
    assert pair.get_route_pools(buy=True) == [(WETH_USDC.pool_address, 500), (pair.pool_address, 3000)]
    assert pair.get_route_pools(buy=False) == [(pair.pool_address, 3000), (WETH_USDC.pool_address, 500)]
    assert pair.get_fee_fraction() == Decimal("0.003")


def test_intermediary_must_share_quote() -> None:
    weth_wbtc = TradingPairIdentifier(WETH, WBTC, "0x" + "33" * 20, V3_ROUTER, 500, ExchangeKind.uniswap_v3)
    with pytest.raises(BadInputError, match="must be quoted in USDC"):
        TradingPairIdentifier(
            WBTC, USDC, "0x" + "22" * 20, V3_ROUTER, 3000, ExchangeKind.uniswap_v3, intermediary_pair=weth_wbtc
        )


def test_assets_on_two_chains_refused() -> None:
    usdc_polygon = AssetIdentifier(137, "0x" + "a0" * 20, "USDC", 6)
    with pytest.raises(BadInputError, match="several chains"):
        TradingPairIdentifier(WETH, usdc_polygon, WETH_USDC_POOL, V3_ROUTER, 500, ExchangeKind.uniswap_v3)


@pytest.mark.parametrize("fee", [-1, 1_000_000, 0.003])
def test_bad_fee_refused(fee: object) -> None:
    with pytest.raises(BadInputError):
        TradingPairIdentifier(WETH, USDC, WETH_USDC_POOL, V3_ROUTER, fee, ExchangeKind.uniswap_v3)  # type: ignore[arg-type]


def test_same_base_and_quote_refused() -> None:
    with pytest.raises(BadInputError, match="same token"):
        TradingPairIdentifier(USDC, USDC, WETH_USDC_POOL, V3_ROUTER, 500, ExchangeKind.uniswap_v2)


# EIP-55 example address: its correct spelling, and the same with the case of one letter flipped.
CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
ONE_LETTER_FLIPPED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"


def test_mixed_case_address_with_a_wrong_checksum_refused() -> None:
    with pytest.raises(BadInputError, match=r"X.address: .* fails its EIP-55 checksum"):
        AssetIdentifier(1, ONE_LETTER_FLIPPED, "X", 18)
    with pytest.raises(BadInputError, match=r"WETH/USDC pool: .* fails its EIP-55 checksum"):
        TradingPairIdentifier(WETH, USDC, ONE_LETTER_FLIPPED, V3_ROUTER, 500, ExchangeKind.uniswap_v3)
    with pytest.raises(BadInputError, match="fails its EIP-55 checksum"):
        checksum(ONE_LETTER_FLIPPED)


@pytest.mark.parametrize("spelling", [CHECKSUMMED, CHECKSUMMED.lower(), "0x" + CHECKSUMMED[2:].upper()])
def test_checksummed_lowercase_and_uppercase_addresses_accepted(spelling: str) -> None:
    assert AssetIdentifier(1, spelling, "X", 18).address == CHECKSUMMED
    assert checksum(spelling) == CHECKSUMMED


@pytest.mark.parametrize("address", [CHECKSUMMED[2:], "0X" + CHECKSUMMED[2:], CHECKSUMMED + "00", b"\x01" * 19])
def test_addresses_without_prefix_or_of_the_wrong_length_refused(address: object) -> None:
    with pytest.raises(BadInputError, match="not an Ethereum address"):
        checksum(address)  # type: ignore[arg-type]
    assert checksum(b"\x01" * 20) == "0x" + "01" * 20
