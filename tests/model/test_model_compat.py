"""trade-executor JSON <-> our model: lossless round trips, the three field mappings, refusals."""

from __future__ import annotations

import copy
import datetime
import json
import pickle
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_samples import USDC, WBTC, WETH, make_trade

from vaultexec.errors import BadInputError, SerialisationError
from vaultexec.model import (
    BlockchainTransaction,
    ExchangeKind,
    TradeExecution,
    TradePricing,
    TradeStatus,
    TradeType,
    TradingPairIdentifier,
    TxState,
    dump_json,
    load_json,
)
from vaultexec.model.compat import (
    ExchangeRouter,
    RouterMap,
    fee_fraction_to_tier,
    fee_tier_to_fraction,
    get_executor_extra,
    trade_from_executor_dict,
    trade_from_executor_json,
    trade_to_executor_dict,
    trade_to_executor_json,
)
from vaultexec.model.serialisation import parse_json_text, write_json_tree

DATA = Path(__file__).parent / "data"
FIXTURES = ["executor_v3_buy.json", "executor_v2_sell.json", "executor_v2_three_way_buy.json"]

V3_FACTORY = "0x1F98431c8aD98523631AE4a59f267346ea31F984"
V3_ROUTER = "0xE592427A0AEce92De3Edee1F18E0157C05861564"
V2_FACTORY = "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f"
V2_ROUTER = "0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D"
MAINNET = RouterMap(
    (
        ExchangeRouter(1, V3_FACTORY, V3_ROUTER, ExchangeKind.uniswap_v3),
        ExchangeRouter(1, V2_FACTORY, V2_ROUTER, ExchangeKind.uniswap_v2),
    )
)


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = parse_json_text((DATA / name).read_text())
    return data


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", FIXTURES)
def test_executor_trade_round_trips_unchanged(name: str) -> None:
    data = load_fixture(name)
    trade = trade_from_executor_dict(data, MAINNET)
    assert trade_to_executor_dict(trade) == data


@pytest.mark.parametrize("name", FIXTURES)
def test_executor_json_text_round_trips_byte_for_byte_through_our_json(name: str) -> None:
    """Same keys, order, JSON types and digits ("1.0" stays "1.0"), also after our own JSON (the stores)."""
    text = (DATA / name).read_text()
    canonical = write_json_tree(parse_json_text(text), decimal_text=str)  # the fixture without its indentation
    trade = trade_from_executor_json(text, MAINNET)
    assert trade_to_executor_json(trade) == canonical
    assert trade_to_executor_json(load_json(TradeExecution, dump_json(trade))) == canonical


@pytest.mark.parametrize("name", FIXTURES)
def test_executor_json_text_round_trips_with_the_same_json_types(name: str) -> None:
    text = (DATA / name).read_text()
    written = trade_to_executor_json(trade_from_executor_json(text, MAINNET))
    # plain json.loads: floats stay floats, decimal strings stay strings, ints stay ints
    assert json.loads(written) == json.loads(text)


def test_float_input_from_plain_json_loads_gives_the_same_trade() -> None:
    text = (DATA / "executor_v3_buy.json").read_text()
    from_floats = trade_from_executor_dict(json.loads(text), MAINNET)
    assert from_floats == trade_from_executor_json(text, MAINNET)
    assert from_floats.planned_price == Decimal("2272.4331")


def test_loading_does_not_alias_or_change_the_input() -> None:
    data = load_fixture("executor_v3_buy.json")
    before = copy.deepcopy(data)
    trade = trade_from_executor_dict(data, MAINNET)
    trade_to_executor_dict(trade)["pair"]["other_data"]["mutated"] = True
    assert data == before
    assert trade_to_executor_dict(trade) == before


def test_extras_survive_deepcopy_and_pickle() -> None:
    data = load_fixture("executor_v2_sell.json")
    trade = trade_from_executor_dict(data, MAINNET)
    assert trade_to_executor_dict(copy.deepcopy(trade)) == data
    assert trade_to_executor_dict(pickle.loads(pickle.dumps(trade))) == data


# ---------------------------------------------------------------- field mapping


def test_v3_buy_maps_factory_fee_and_kind() -> None:
    data = load_fixture("executor_v3_buy.json")
    trade = trade_from_executor_dict(data, MAINNET)
    assert trade.pair.exchange_address == V3_ROUTER
    assert trade.pair.fee == 500
    assert trade.pair.kind == ExchangeKind.uniswap_v3
    assert trade.pair.base.address == "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"  # checksummed here
    assert trade.get_status() == TradeStatus.success
    assert trade.is_buy()
    assert trade.slippage_tolerance == Decimal("0.005")
    assert trade.started_at == datetime.datetime(2024, 1, 2, 3, 4, 11, 283719)
    out = trade_to_executor_dict(trade)["pair"]
    assert out["exchange_address"] == V3_FACTORY.lower()
    assert out["fee"] == Decimal("0.0005")
    assert out["kind"] == "spot_market_hold"


def test_transactions_map_deltas_and_derive_gas_and_state() -> None:
    trade = trade_from_executor_dict(load_fixture("executor_v3_buy.json"), MAINNET)
    approve, swap = trade.blockchain_transactions
    assert approve.asset_deltas == []
    assert [(d.asset, d.raw_amount) for d in swap.asset_deltas] == [
        (trade.reserve_currency, -2000000000),
        (trade.pair.base, 875713101498745413),
    ]
    assert swap.gas_limit == 410000
    assert swap.max_fee_per_gas == 31000000000
    assert swap.max_priority_fee_per_gas == 1000000000
    assert swap.tx_state == TxState.confirmed
    assert swap.get_gas_fee_paid() == 187234 * 24110000000
    # pickled call arguments are kept opaque, never unpickled
    assert swap.transaction_args is None
    assert swap.wrapped_args is None
    extra = get_executor_extra(swap)
    assert extra is not None and extra.unknown["type"] == "lagoon_vault"


def test_v2_sell_maps_to_v2_router_and_gives_vault_deltas() -> None:
    trade = trade_from_executor_dict(load_fixture("executor_v2_sell.json"), MAINNET)
    assert trade.pair.exchange_address == V2_ROUTER
    assert (trade.pair.fee, trade.pair.kind) == (3000, ExchangeKind.uniswap_v2)
    assert trade.is_sell()
    spend, receive = trade.calculate_asset_deltas()
    assert spend.raw_amount == -500000000000000000
    assert receive.asset == trade.reserve_currency


def test_three_way_trade_loads_as_our_intermediary_pair() -> None:
    data = load_fixture("executor_v2_three_way_buy.json")
    trade = trade_from_executor_dict(data, MAINNET)
    assert trade.pair.get_ticker() == "WBTC-WETH-USDC"
    assert trade.pair.quote == trade.reserve_currency
    middle = trade.pair.intermediary_pair
    assert middle is not None and middle.pool_address == "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"
    assert [a.token_symbol for a in trade.pair.get_route_assets(buy=True)] == ["USDC", "WETH", "WBTC"]
    assert trade.get_status() == TradeStatus.failed
    assert trade.get_revert_reason() == "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"
    spend, receive = trade.calculate_asset_deltas()
    assert (spend.asset.token_symbol, receive.asset.token_symbol) == ("USDC", "WBTC")
    # written back as trade-executor's target pair WBTC/WETH with reserve USDC
    out = trade_to_executor_dict(trade)
    assert out["pair"]["quote"]["token_symbol"] == "WETH"
    assert out["reserve_currency"]["token_symbol"] == "USDC"


def test_three_way_without_intermediary_in_path_is_refused() -> None:
    data = load_fixture("executor_v2_three_way_buy.json")
    data["price_structure"]["path"] = data["price_structure"]["path"][1:]
    with pytest.raises(BadInputError, match="no WETH/USDC pair to route through"):
        trade_from_executor_dict(data, MAINNET)


def test_our_changes_win_over_remembered_executor_values() -> None:
    data = load_fixture("executor_v2_three_way_buy.json")
    trade = trade_from_executor_dict(data, MAINNET)
    repaired_at = datetime.datetime(2024, 1, 5)  # after the trade's own timestamps (2024-01-04)
    trade.mark_repaired(repaired_at, note="fixed by hand")
    trade.blockchain_transactions[0].block_number = 18927301
    out = trade_to_executor_dict(trade)
    assert out["repaired_at"] == Decimal("1704412800.0")
    assert out["notes"] == "fixed by hand"
    assert out["blockchain_transactions"][0]["block_number"] == 18927301
    pickled = data["blockchain_transactions"][0]["transaction_args"]
    assert out["blockchain_transactions"][0]["transaction_args"] == pickled
    assert {k: v for k, v in out.items() if k not in ("repaired_at", "notes", "blockchain_transactions")} == {
        k: v for k, v in data.items() if k not in ("repaired_at", "notes", "blockchain_transactions")
    }


def test_a_changed_router_is_written_not_the_remembered_factory() -> None:
    trade = trade_from_executor_dict(load_fixture("executor_v2_sell.json"), MAINNET)
    other_router = "0x" + "ab" * 20
    trade.pair = TradingPairIdentifier(
        trade.pair.base, trade.pair.quote, trade.pair.pool_address, other_router, 3000, ExchangeKind.uniswap_v2
    )
    assert trade_to_executor_dict(trade)["pair"]["exchange_address"] == other_router


def test_strict_loader_still_refuses_executor_json() -> None:
    with pytest.raises(SerialisationError, match="unknown field"):
        load_json(TradeExecution, (DATA / "executor_v3_buy.json").read_text())


# ---------------------------------------------------------------- refusals


def test_unknown_factory_is_named() -> None:
    data = load_fixture("executor_v3_buy.json")
    data["pair"]["exchange_address"] = "0x" + "12" * 20
    with pytest.raises(BadInputError, match=f"unknown exchange factory {'0x' + '12' * 20} on chain 1"):
        trade_from_executor_dict(data, MAINNET)


def test_factory_on_another_chain_is_unknown() -> None:
    polygon_only = RouterMap((ExchangeRouter(137, V3_FACTORY, V3_ROUTER, ExchangeKind.uniswap_v3),))
    with pytest.raises(BadInputError, match=f"unknown exchange factory {V3_FACTORY} on chain 1"):
        trade_from_executor_dict(load_fixture("executor_v3_buy.json"), polygon_only)


@pytest.mark.parametrize("fee", [Decimal("0.00051234"), Decimal("0.0000005"), Decimal("1"), Decimal("-0.003"), "0.003"])
def test_bad_fee_is_refused(fee: object) -> None:
    data = load_fixture("executor_v3_buy.json")
    data["pair"]["fee"] = fee
    with pytest.raises(BadInputError, match=r"TradeExecution\.pair\.fee"):
        trade_from_executor_dict(data, MAINNET)


def test_missing_fee_and_non_spot_kind_are_refused() -> None:
    data = load_fixture("executor_v3_buy.json")
    data["pair"]["fee"] = None
    with pytest.raises(BadInputError, match="has no fee"):
        trade_from_executor_dict(data, MAINNET)
    data = load_fixture("executor_v3_buy.json")
    data["pair"]["kind"] = "lending_protocol_short"
    with pytest.raises(BadInputError, match="not a spot market"):
        trade_from_executor_dict(data, MAINNET)


def test_duplicate_factory_in_router_map_is_refused() -> None:
    with pytest.raises(BadInputError, match="listed twice"):
        RouterMap(
            (
                ExchangeRouter(1, V3_FACTORY, V3_ROUTER, ExchangeKind.uniswap_v3),
                ExchangeRouter(1, V3_FACTORY.lower(), V2_ROUTER, ExchangeKind.uniswap_v2),
            )
        )


# ---------------------------------------------------------------- fees and generated trades


def test_fee_examples() -> None:
    assert fee_fraction_to_tier(0.0005) == 500
    assert fee_fraction_to_tier(0.003) == 3000
    assert fee_fraction_to_tier(0.01) == 10000
    assert fee_fraction_to_tier(1e-06) == 1
    assert fee_fraction_to_tier(0.0) == 0
    assert str(fee_tier_to_fraction(500)) == "0.0005"
    assert str(fee_tier_to_fraction(0)) == "0.0"


@given(st.integers(min_value=0, max_value=999_999))
def test_every_fee_tier_survives_the_executor_float(tier: int) -> None:
    fraction = fee_tier_to_fraction(tier)
    assert fee_fraction_to_tier(fraction) == tier
    as_float = float(fraction)  # what trade-executor holds
    assert fee_fraction_to_tier(as_float) == tier
    assert Decimal(repr(as_float)) == fraction


_decimals = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1000000"), places=6, allow_nan=False)
_times = st.datetimes(min_value=datetime.datetime(2020, 1, 1), max_value=datetime.datetime(2030, 1, 1))


@st.composite
def vaultexec_trades(draw: st.DrawFn) -> TradeExecution:
    """Trades made in vaultexec: random pair (two- or three-way), amounts, timestamps and one receipt."""
    kind = draw(st.sampled_from(ExchangeKind))
    router = V3_ROUTER if kind == ExchangeKind.uniswap_v3 else V2_ROUTER
    tiers = st.integers(min_value=0, max_value=999_999)
    middle = TradingPairIdentifier(WETH, USDC, "0x" + "11" * 20, router, draw(tiers), kind)
    three_way = draw(st.booleans())
    pair = TradingPairIdentifier(
        base=WBTC,
        quote=USDC,
        pool_address="0x" + "22" * 20,
        exchange_address=router,
        fee=draw(tiers),
        kind=kind,
        internal_id=draw(st.none() | st.integers(1, 10**9)),
        exchange_name=draw(st.none() | st.text(max_size=10)),
        intermediary_pair=middle if three_way else None,
    )
    quantity = draw(_decimals)
    buy = draw(st.booleans())
    opened = draw(_times)
    trade = TradeExecution(
        trade_id=draw(st.integers(1, 10**6)),
        position_id=draw(st.integers(1, 10**6)),
        trade_type=draw(st.sampled_from([TradeType.rebalance, TradeType.stop_loss, TradeType.flexible_trigger])),
        pair=pair,
        opened_at=opened,
        planned_quantity=quantity if buy else -quantity,
        planned_reserve=draw(_decimals),
        planned_price=draw(_decimals),
        reserve_currency=USDC,
        slippage_tolerance=draw(st.decimals(min_value=0, max_value=Decimal("0.3"), places=4)),
        notes=draw(st.none() | st.text(max_size=20)),
    )
    # trade-executor's path of a three-way trade: the intermediary pair, then the target pair (WBTC/WETH)
    target = TradingPairIdentifier(WBTC, WETH, pair.pool_address, router, pair.fee, kind)
    hops = [middle, target] if three_way else [pair]
    trade.price_structure = TradePricing(
        price=draw(_decimals),
        mid_price=draw(_decimals),
        pair_fee=[fee_tier_to_fraction(hop.fee) for hop in hops],
        path=hops,
    )
    gas = draw(st.integers(21000, 10**7))
    tx = BlockchainTransaction(
        chain_id=1,
        tx_hash="0x" + "ab" * 32,
        nonce=draw(st.integers(0, 10**6)),
        status=True,
        details={"gas": gas, "maxFeePerGas": 3 * 10**10, "maxPriorityFeePerGas": 10**9},
        gas_limit=gas,
        max_fee_per_gas=3 * 10**10,
        max_priority_fee_per_gas=10**9,
        tx_state=TxState.confirmed,
        asset_deltas=trade.calculate_asset_deltas(),
    )
    trade.mark_started(opened + datetime.timedelta(microseconds=draw(st.integers(0, 10**9))))
    trade.set_blockchain_transactions([tx])
    return trade


@settings(max_examples=60, deadline=None)
@given(vaultexec_trades())
def test_generated_trades_round_trip_through_executor_form(trade: TradeExecution) -> None:
    exported = trade_to_executor_dict(trade, MAINNET)
    assert exported["pair"]["exchange_address"] in (V2_FACTORY.lower(), V3_FACTORY.lower())
    loaded = trade_from_executor_dict(exported, MAINNET)
    assert loaded == trade
    assert trade_to_executor_dict(loaded) == exported
    text = trade_to_executor_json(trade, MAINNET)
    assert trade_from_executor_json(text, MAINNET) == trade


# ---------------------------------------------------------------- executor float fields


def test_float_fields_are_numbers_in_executor_form_and_strings_in_ours() -> None:
    trade = make_trade(planned_price=Decimal("2000.10"), fee_tier=Decimal("0.0005"))
    assert '"planned_price": "2000.10"' in dump_json(trade)
    out = trade_to_executor_dict(trade)
    assert out["planned_price"] == Decimal("2000.10") and isinstance(out["planned_price"], Decimal)
    assert out["planned_quantity"] == "0.5"  # a Decimal field for the executor too: a string
    text = trade_to_executor_json(trade)
    assert '"planned_price": 2000.10' in text and '"fee_tier": 0.0005' in text


def test_results_we_write_on_an_executor_trade_are_numbers_where_it_has_floats() -> None:
    trade = trade_from_executor_dict(load_fixture("executor_v2_three_way_buy.json"), MAINNET)
    trade.mark_reorged("receipt re-read")
    assert trade.executed_at is None and trade.broadcasted_at is not None
    trade.mark_success(trade.broadcasted_at, Decimal("101.25"), Decimal("0.5"), Decimal("50.625"),
                       Decimal("0.15"), Decimal("2300.5"))
    reloaded = load_json(TradeExecution, dump_json(trade))  # through our JSON (strings) and back
    out = json.loads(trade_to_executor_json(reloaded))
    assert out["executed_price"] == 101.25 and out["lp_fees_paid"] == 0.15 and out["native_token_price"] == 2300.5
    assert out["executed_quantity"] == "0.5" and out["executed_reserve"] == "50.625"
