"""Reorg transition and exact sign handling beyond Decimal's 28-digit context."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from model_samples import T0, WETH, make_trade

from vaultexec.errors import IllegalTransitionError
from vaultexec.model import TradeStatus

S = datetime.timedelta(seconds=1)


def test_reorg_takes_a_settled_trade_back_to_broadcasted() -> None:
    trade = make_trade()
    trade.mark_started(T0 + S)
    trade.mark_broadcasted(T0 + 2 * S)
    trade.mark_success(T0 + 3 * S, Decimal(2000), Decimal("0.5"), Decimal(1000), Decimal(3), None)
    trade.mark_reorged("block 0xabc left the canonical chain")
    assert trade.get_status() == TradeStatus.broadcasted
    assert trade.executed_quantity is None and trade.executed_at is None and trade.lp_fees_paid is None
    assert "reorged: block 0xabc" in (trade.notes or "")


def test_reorg_refused_on_a_trade_never_settled() -> None:
    trade = make_trade()
    trade.mark_started(T0 + S)
    with pytest.raises(IllegalTransitionError, match="started"):
        trade.mark_reorged("nothing to undo")


def test_sell_spend_is_exact_beyond_28_digits() -> None:
    """-Decimal would round to 28 digits; 10**11 WETH + 1 wei has 30 significant digits."""
    quantity = Decimal("100000000000.000000000000000001")
    trade = make_trade(planned_quantity=quantity.copy_negate(), planned_reserve=Decimal("2e14"))
    spend = trade.calculate_asset_deltas()[0]
    assert spend.asset == WETH
    assert spend.raw_amount == -(10**29 + 1)
    assert trade.get_raw_planned_quantity() == -(10**29 + 1)
