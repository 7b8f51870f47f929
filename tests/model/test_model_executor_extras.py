"""trade-executor extras in our own JSON: omit-when-empty fields, lossless store round trips, identity."""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from model_samples import make_trade

import vaultexec.model as model
from vaultexec.dex.deployments import executor_router_map
from vaultexec.errors import BadInputError, SerialisationError
from vaultexec.model import (
    ExecutorExtra,
    JsonModel,
    TradeExecution,
    TradePricing,
    dump_json,
    get_executor_extra,
    load_dict,
    load_json,
    trade_from_executor_dict,
    trade_to_executor_dict,
    trade_to_executor_json,
)
from vaultexec.model.serialisation import OMIT_EMPTY, parse_json_text

DATA = Path(__file__).parent / "data"
FIXTURES = ["executor_v3_buy.json", "executor_v2_sell.json", "executor_v2_three_way_buy.json"]
#: The registry's Ethereum Uniswap deployments: the fixtures' factories map to their routers.
MAINNET = executor_router_map()


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = parse_json_text((DATA / name).read_text())
    return data


# ---------------------------------------------------------------- omit-when-empty fields


@dataclass
class Inner(JsonModel):
    label: str


@dataclass
class Holder(JsonModel):
    name: str
    inner: Inner | None = field(default=None, metadata=OMIT_EMPTY)
    tags: list[str] = field(default_factory=list, metadata=OMIT_EMPTY)
    note: str | None = None


def test_empty_omitted_fields_are_not_written_and_load_as_default() -> None:
    text = dump_json(Holder("a"))
    assert text == '{"name": "a", "note": null}'
    assert load_json(Holder, text) == Holder("a")


def test_set_omitted_fields_are_written_in_place_and_load_back() -> None:
    holder = Holder("a", Inner("x"), ["t"], "n")
    text = dump_json(holder)
    assert list(json.loads(text)) == ["name", "inner", "tags", "note"]
    assert load_json(Holder, text) == holder


def test_present_omitted_fields_load_strictly() -> None:
    with pytest.raises(SerialisationError, match=r"Holder\.inner: unknown field\(s\) colour for Inner"):
        load_json(Holder, '{"name": "a", "inner": {"label": "x", "colour": 1}, "note": null}')
    with pytest.raises(SerialisationError, match=r"Holder\.tags\[0\]: expected a string"):
        load_json(Holder, '{"name": "a", "tags": [1], "note": null}')


def test_trade_without_extras_writes_no_extra_key() -> None:
    trade = make_trade()
    assert "executor_extra" not in dump_json(trade)
    assert "executor_extra" not in trade.to_dict()


# ---------------------------------------------------------------- executor trades through our JSON


@pytest.mark.parametrize("name", FIXTURES)
def test_executor_trade_survives_our_json(name: str) -> None:
    data = load_fixture(name)
    trade = trade_from_executor_dict(data, MAINNET)
    text = dump_json(trade)
    assert '"executor_extra"' in text
    reloaded = load_json(TradeExecution, text)
    assert reloaded == trade
    assert trade_to_executor_dict(reloaded) == data
    # and the JSON types of the executor's file are kept (floats stay numbers, strings stay strings)
    assert json.loads(trade_to_executor_json(reloaded)) == json.loads((DATA / name).read_text())
    # our JSON is stable: a second dump is byte-identical
    assert dump_json(reloaded) == text


@pytest.mark.parametrize("name", FIXTURES)
def test_executor_trade_survives_to_dict_and_from_dict(name: str) -> None:
    data = load_fixture(name)
    trade = trade_from_executor_dict(data, MAINNET)
    assert trade_to_executor_dict(TradeExecution.from_dict(trade.to_dict())) == data


def test_changes_made_after_reloading_still_win() -> None:
    data = load_fixture("executor_v3_buy.json")
    trade = load_json(TradeExecution, dump_json(trade_from_executor_dict(data, MAINNET)))
    trade.blockchain_transactions[1].block_number = 1
    trade.add_note("re-checked")
    out = trade_to_executor_dict(trade)
    assert out["blockchain_transactions"][1]["block_number"] == 1
    assert out["notes"].endswith("re-checked")
    # executor-only fields still come back
    assert out["pair"]["other_data"] == data["pair"]["other_data"]
    assert out["blockchain_transactions"][1]["type"] == data["blockchain_transactions"][1]["type"]


def test_malformed_stored_extra_is_refused_with_its_path() -> None:
    tree = json.loads(dump_json(trade_from_executor_dict(load_fixture("executor_v3_buy.json"), MAINNET)))
    bad = copy.deepcopy(tree)
    bad["pair"]["base"]["executor_extra"]["colour"] = "red"
    with pytest.raises(SerialisationError, match=r"TradeExecution\.pair\.base\.executor_extra: unknown field"):
        load_json(TradeExecution, json.dumps(bad))
    bad = copy.deepcopy(tree)
    bad["executor_extra"]["order"] = "trade_id"
    with pytest.raises(SerialisationError, match=r"TradeExecution\.executor_extra\.order: expected a list"):
        load_json(TradeExecution, json.dumps(bad))


# ---------------------------------------------------------------- identity


def test_extras_do_not_change_equality_or_hash() -> None:
    trade = trade_from_executor_dict(load_fixture("executor_v3_buy.json"), MAINNET)
    loaded_weth = trade.pair.base
    assert get_executor_extra(loaded_weth) is not None
    plain = dataclasses.replace(loaded_weth, executor_extra=None)
    assert get_executor_extra(plain) is None
    assert plain == loaded_weth and hash(plain) == hash(loaded_weth)
    balances = {plain: Decimal(1)}
    assert balances[loaded_weth] == Decimal(1)
    assert "executor_extra" not in repr(loaded_weth)
    plain_pair = dataclasses.replace(trade.pair, executor_extra=None)
    assert get_executor_extra(trade.pair) is not None
    assert plain_pair == trade.pair and hash(plain_pair) == hash(trade.pair)


def test_intermediary_pair_of_a_three_way_trade_carries_no_duplicate_extra() -> None:
    trade = trade_from_executor_dict(load_fixture("executor_v2_three_way_buy.json"), MAINNET)
    assert trade.pair.intermediary_pair is not None
    assert trade.pair.intermediary_pair.executor_extra is None
    assert trade.price_structure is not None and trade.price_structure.path is not None
    assert all(get_executor_extra(hop) is not None for hop in trade.price_structure.path)


# ---------------------------------------------------------------- per-hop fees with unknown values


def test_pricing_fees_may_hold_none() -> None:
    pricing = TradePricing(price=Decimal(1), mid_price=Decimal(1), lp_fee=[None], pair_fee=(Decimal("0.003"), None))
    assert pricing.pair_fee == [Decimal("0.003"), None]
    text = dump_json(pricing)
    assert '"lp_fee": [null], "pair_fee": ["0.003", null]' in text
    assert load_json(TradePricing, text) == pricing


def test_pricing_fees_refuse_floats_and_non_lists() -> None:
    with pytest.raises(BadInputError, match=r"lp_fee\[1\]"):
        TradePricing(price=Decimal(1), mid_price=Decimal(1), lp_fee=[Decimal(1), 0.5])  # type: ignore[list-item]
    with pytest.raises(BadInputError, match=r"TradePricing\.pair_fee: expected a list, got str"):
        TradePricing(price=Decimal(1), mid_price=Decimal(1), pair_fee="0.003")  # type: ignore[arg-type]
    with pytest.raises(SerialisationError, match=r"TradePricing\.lp_fee\[0\]: expected a JSON number, got bool"):
        load_dict(TradePricing, {"price": 1, "mid_price": 1, "lp_fee": [True]})


def test_executor_trade_with_null_lp_fee_round_trips() -> None:
    data = load_fixture("executor_v2_sell.json")
    data["price_structure"]["lp_fee"] = [None]
    trade = trade_from_executor_dict(data, MAINNET)
    assert trade.price_structure is not None and trade.price_structure.lp_fee == [None]
    assert trade_to_executor_dict(load_json(TradeExecution, dump_json(trade))) == data


# ---------------------------------------------------------------- public names


def test_compat_names_are_exported_from_the_model_package() -> None:
    from vaultexec.model import compat, extra

    for name in ("ExchangeRouter", "RouterMap", "trade_from_executor_dict", "trade_from_executor_json",
                 "trade_to_executor_dict", "trade_to_executor_json", "fee_fraction_to_tier", "fee_tier_to_fraction"):
        assert getattr(model, name) is getattr(compat, name)
        assert name in model.__all__
    assert model.ExecutorExtra is extra.ExecutorExtra is ExecutorExtra
    assert model.get_executor_extra is extra.get_executor_extra

