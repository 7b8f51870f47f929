"""Model bugs found in the money-path review, each with the test that would have caught it."""

from __future__ import annotations

import datetime
from decimal import Decimal

from model_samples import T0, make_trade

S = datetime.timedelta(seconds=1)


def test_reorg_clears_every_settlement_result() -> None:
    """Nothing settled on a dropped block stays on the trade, the native token price of that settlement too."""
    trade = make_trade()
    trade.mark_started(T0 + S)
    trade.mark_broadcasted(T0 + 2 * S)
    trade.mark_success(T0 + 3 * S, Decimal(2000), Decimal("0.5"), Decimal(1000), Decimal(3), Decimal(3100))
    trade.mark_reorged("block 0xabc left the canonical chain")
    assert trade.native_token_price is None
    assert trade.executed_price is None and trade.executed_reserve is None
