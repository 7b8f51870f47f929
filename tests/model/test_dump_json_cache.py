"""`dump_json` writes frozen parts it wrote before from its cache (issue 14): always the text a fresh write gives."""

from __future__ import annotations

import copy
import datetime

from vaultexec.model.deltas import AssetDelta
from vaultexec.model.encoding import _TEXT_CACHE, _encode_free
from vaultexec.model.extra import ExecutorExtra
from vaultexec.model.identifiers import AssetIdentifier
from vaultexec.model.jsontext import write_json_tree
from vaultexec.model.serialisation import dump_json, load_json
from vaultexec.model.trade import TradeExecution
from vaultexec.model.transaction import BlockchainTransaction

from model_samples import USDC, WBTC_USDC_VIA_WETH, WETH, make_trade  # isort: skip

T0 = datetime.datetime(2026, 1, 1)


def _fresh(obj: object) -> str:
    """The uncached writer: every object encoded again."""
    return write_json_tree(_encode_free(obj))


def test_each_state_change_is_written_as_a_fresh_write_would() -> None:
    trade = make_trade(pair=WBTC_USDC_VIA_WETH)
    deltas = [AssetDelta(USDC, -1_000_000), AssetDelta(WETH, 5 * 10**14)]
    trade.set_blockchain_transactions([BlockchainTransaction(chain_id=1, asset_deltas=deltas)])
    texts = []
    for change in (lambda: None, lambda: trade.mark_started(T0), lambda: trade.mark_broadcasted(T0),
                   lambda: trade.add_note("settled")):
        change()
        text = dump_json(trade)
        assert text == _fresh(trade)
        texts.append(text)
    assert len(set(texts)) == 4  # every change shows: nothing stale came from the cache
    assert load_json(TradeExecution, texts[-1]) == trade
    assert _TEXT_CACHE[id(trade.pair)][0] is trade.pair  # the pair's text came from the cache after the first


def test_a_frozen_object_holding_mutable_data_is_never_served_stale() -> None:
    """An asset with executor extras holds a dict that can change in place: written afresh each time."""
    asset = AssetIdentifier(1, "0x" + "d0" * 20, "DAI", 18, executor_extra=ExecutorExtra(unknown={"x": 1}))
    trade = make_trade(reserve_currency=asset)
    first = dump_json(trade)
    assert asset.executor_extra is not None
    asset.executor_extra.unknown["x"] = 2
    second = dump_json(trade)
    assert first != second == _fresh(trade)


def test_equal_but_distinct_objects_are_each_written_from_their_own_fields() -> None:
    """The cache is by object identity: an equal copy with another value somewhere is not confused."""
    trade = make_trade()
    dump_json(trade)
    other = copy.deepcopy(trade)
    object.__setattr__(other, "reserve_currency", AssetIdentifier(1, USDC.address, "USDC.e", 6))
    assert dump_json(other) == _fresh(other) != dump_json(trade)
