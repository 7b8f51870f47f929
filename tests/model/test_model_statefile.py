"""trade-executor state files with the shapes of its real ones: every spot trade loads and is written back as the
executor's own JSON text (numbers included); legacy records where unambiguous; refusals say why.

The files are built here from the executor samples in data/ with the real files' shapes (trade-executor's
tests/ state files): floats like 1.2071146431284867e-07 and 5.89e-05, legacy sells and a repaired buy with
`planned_reserve` 0, a QuickSwap pair without a fee, vault / credit kinds, NaN in statistics.
"""

from __future__ import annotations

import copy
import json
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pytest

from vaultexec.dex.deployments import executor_router_map
from vaultexec.errors import BadInputError, SerialisationError
from vaultexec.model.compat import trade_from_executor_dict, trade_to_executor_json
from vaultexec.model.jsontext import parse_json_text
from vaultexec.model.statefile import load_state_file

DATA = Path(__file__).parent / "data"
QUICKSWAP_FACTORY = "0x5757371414417b8c6caad45baef941abc7d3ab32"
WMATIC = "0x0d500b1d8e8ef31e21c99d1db9a6444d3adf1270"
USDC_POLYGON = "0x2791bca1f2de4661ed88a30c99a7a9449aa84174"


def sample(name: str = "executor_v3_buy.json", **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    data.update(changes)
    return data


def legacy_quickswap_sell(trade_id: int) -> dict[str, Any]:
    """A 2023 QuickSwap sell: no pair fee, planned_reserve "0", Python floats in exponent form."""
    data = sample("executor_v2_sell.json", trade_id=trade_id, planned_reserve="0",
                  planned_price=0.989170312197797, lp_fees_estimated=5.89e-05, price_structure=None)
    asset = {"chain_id": 137, "decimals": 18, "internal_id": None, "info_url": None, "underlying": None,
             "type": None, "liquidation_threshold": None}
    base = {**asset, "address": WMATIC, "token_symbol": "WMATIC"}
    quote = {**asset, "address": USDC_POLYGON, "token_symbol": "USDC", "decimals": 6}
    data["pair"] = {"base": base, "quote": quote, "pool_address": "0x6e7a5fafcec6bb1e78bae2a1f0b612012bf14827",
                    "exchange_address": QUICKSWAP_FACTORY, "internal_id": 1, "internal_exchange_id": None,
                    "info_url": None, "fee": None, "reverse_token_order": False, "kind": "spot_market_hold",
                    "underlying_spot_pair": None, "exchange_name": None}
    data["reserve_currency"] = copy.deepcopy(quote)
    for tx in data.get("blockchain_transactions") or []:
        tx["chain_id"] = 137
        tx["asset_deltas"] = []
    return data


def state_file(trades: list[dict[str, Any]], extra_kinds: tuple[str, ...] = ()) -> str:
    """A State's JSON as trade-executor writes it (json.dumps: NaN allowed) with `trades` in closed positions."""
    closed = {str(i + 1): {"position_id": i + 1, "trades": {str(t["trade_id"]): t}} for i, t in enumerate(trades)}
    for j, kind in enumerate(extra_kinds):
        other = sample(trade_id=900 + j)
        other["pair"]["kind"] = kind
        closed[str(100 + j)] = {"position_id": 100 + j, "trades": {str(900 + j): other}}
    state = {"created_at": 1673901551.636316, "cycle": 3, "portfolio": {"open_positions": {},
             "closed_positions": closed, "frozen_positions": {}},
             "stats": {"portfolio": [{"unrealised_profitability": float("nan"), "value": 1.0}]}}
    return json.dumps(state)


def test_every_spot_trade_round_trips_to_identical_text() -> None:
    repaired_buy = sample(trade_id=2, planned_reserve=0, executed_quantity=0, executed_reserve=0,
                          executed_price=None, failed_at=1729729259, repaired_at=1729846852,
                          planned_price=5.2111505259074396e-05)
    small = sample(trade_id=3, planned_price=1.2071146431284867e-07, lp_fees_estimated=4.6590000000000035e-08,
                   executed_price=7.102026355816644e-05)
    trades = [legacy_quickswap_sell(1), repaired_buy, small, sample("executor_v2_three_way_buy.json", trade_id=4)]
    text = state_file(trades, extra_kinds=("vault", "credit_supply", "exchange_account"))

    loaded = load_state_file(text, executor_router_map())

    assert sorted(t.trade_id for t in loaded.trades) == [1, 2, 3, 4]
    for trade in loaded.trades:
        assert trade_to_executor_json(trade) == loaded.texts[trade.trade_id]
    for original in trades:  # the reference is the executor's own text of the trade
        assert loaded.texts[original["trade_id"]] == json.dumps(original)
    assert "1.2071146431284867e-07" in loaded.texts[3] and "7.102026355816644e-05" in loaded.texts[3]
    assert sorted(r.kind for r in loaded.refused) == ["credit_supply", "exchange_account", "vault"]
    assert all("not a spot market" in r.reason for r in loaded.refused)


def test_legacy_records_are_read_where_unambiguous() -> None:
    routers = executor_router_map()
    sell = trade_from_executor_dict(parse_json_text(json.dumps(legacy_quickswap_sell(1))), routers)
    assert sell.pair.fee == 3000  # QuickSwap's one fee
    exact = abs(sell.planned_quantity) * sell.planned_price
    assert sell.planned_reserve == exact.quantize(Decimal("0.000001"), rounding=ROUND_DOWN)  # USDC's decimals
    assert 0 < sell.planned_reserve <= exact
    written = json.loads(trade_to_executor_json(sell))
    assert written["planned_reserve"] == "0" and written["pair"]["fee"] is None

    planned_buy = sample(trade_id=5, planned_reserve="0", started_at=None, broadcasted_at=None, executed_at=None)
    with pytest.raises(BadInputError, match="what it may spend is unknown"):
        trade_from_executor_dict(planned_buy, routers)
    v3_without_fee = sample(trade_id=6)
    v3_without_fee["pair"]["fee"] = None
    with pytest.raises(BadInputError, match="has no fee"):
        trade_from_executor_dict(v3_without_fee, routers)


def test_refusals_are_bad_input_and_a_nan_refuses_only_its_trade() -> None:
    negative = sample(trade_id=7, planned_reserve="-5")
    with pytest.raises(BadInputError) as refused:
        trade_from_executor_dict(negative, executor_router_map())
    assert isinstance(refused.value, SerialisationError)  # and still what callers of the codec catch

    nan_trade = sample(trade_id=8, planned_price=float("nan"))
    loaded = load_state_file(state_file([sample(trade_id=9), nan_trade]), executor_router_map())
    assert [t.trade_id for t in loaded.trades] == [9]
    (why,) = loaded.refused
    assert why.trade_id == 8 and "NaN at planned_price" in why.reason


def test_not_a_state_file_is_bad_input() -> None:
    with pytest.raises(BadInputError, match="no portfolio"):
        load_state_file('{"trades": []}', executor_router_map())
    with pytest.raises(BadInputError, match="not JSON"):
        load_state_file("{", executor_router_map())
