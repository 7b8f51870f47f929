"""Settlement bugs found in the money-path review, each with the test that would have caught it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_settle import POOL_A, POOL_B, ROUTER, USDC, VAULT, WBTC, WETH, executed, landed_tx, trade, v2_swap, v3_swap

from vaultexec.errors import SettlementError
from vaultexec.execution.settle import settle_success
from vaultexec.model.identifiers import ExchangeKind, TradingPairIdentifier
from vaultexec.model.trade import TradeStatus

#: A pool that is not on the trade's route (e.g. a tax token swapping its collected tax inside transfer()).
FOREIGN_POOL = "0x" + "0f" * 20


def test_swap_of_a_pool_off_the_route_is_not_a_hop() -> None:
    """A Swap log of another pool in the same transaction is neither charged as LP fee nor used for tax."""
    t = trade(buy=True)
    logs = [v3_swap(POOL_A, 1_500_000_000, 499_000_000_000_000_000, 3),
            v2_swap(FOREIGN_POOL, 10**18, 600_000_000_000_000_000, 5),
            executed({USDC.address: 1_500_000_000}, {WETH.address: 499_000_000_000_000_000})]
    settle_success(t, landed_tx(), logs, VAULT)
    assert t.lp_fees_paid == Decimal("0.750000")  # 0.05 % of 1500 USDC, the route's only hop
    assert t.notes is None  # the foreign pool's 0.6 WETH out is no token tax of ours


def test_token_tax_is_measured_on_the_route_last_hop() -> None:
    """The route's last pool sent 0.499 WETH, the vault got 0.49: the tax note names the route's pool."""
    t = trade(buy=True)
    logs = [v3_swap(POOL_A, 1_500_000_000, 499_000_000_000_000_000, 3),
            v2_swap(FOREIGN_POOL, 10**15, 10**6, 5),
            executed({USDC.address: 1_500_000_000}, {WETH.address: 490_000_000_000_000_000})]
    settle_success(t, landed_tx(), logs, VAULT)
    assert POOL_A.lower() in (t.notes or "") and "9000000000000000 raw withheld" in (t.notes or "")


def test_v2_fee_tier_comes_from_the_pair() -> None:
    """A V2 fork pool with a 0.25 % fee is charged 0.25 %, as routing estimated it, not Uniswap's 0.3 %."""
    pair = TradingPairIdentifier(WETH, USDC, POOL_B, ROUTER, 2500, ExchangeKind.uniswap_v2)
    t = trade(buy=True, pair=pair)
    logs = [v2_swap(POOL_B, 1_500_000_000, 499_000_000_000_000_000, 3),
            executed({USDC.address: 1_500_000_000}, {WETH.address: 499_000_000_000_000_000})]
    settle_success(t, landed_tx(), logs, VAULT)
    assert t.lp_fees_paid == Decimal("3.750000")


@pytest.mark.parametrize("buy", [True, False])
def test_zero_amount_in_executed_event_is_a_settlement_error(buy: bool) -> None:
    """A zero base amount must not crash settlement with a decimal division by zero (it would stop the
    settlement of every other trade of the batch): SettlementError, trade left pending."""
    t = trade(buy=buy)
    moved = {WETH.address: 0}
    logs = [executed({USDC.address: 1_500_000_000}, moved) if buy
            else executed(moved, {USDC.address: 1_500_000_000})]
    with pytest.raises(SettlementError, match="zero"):
        settle_success(t, landed_tx(), logs, VAULT)
    assert t.get_status() is TradeStatus.started


def test_three_way_buy_charges_each_route_hop_in_its_input_token() -> None:
    """USDC -> WETH (V3 0.3 %) -> WBTC (V3 0.05 %): hop 2's fee is in WETH, valued at the trade's rate."""
    middle = TradingPairIdentifier(WETH, USDC, POOL_B, ROUTER, 3000, ExchangeKind.uniswap_v3)
    pair = TradingPairIdentifier(WBTC, USDC, POOL_A, ROUTER, 500, ExchangeKind.uniswap_v3, intermediary_pair=middle)
    t = trade(buy=True, pair=pair)
    logs = [v3_swap(POOL_B, 6_000_000_000, 2 * 10**18, 2), v3_swap(POOL_A, 2 * 10**18, 9_900_000, 4),
            executed({USDC.address: 6_000_000_000}, {WBTC.address: 9_900_000})]
    settle_success(t, landed_tx(), logs, VAULT)
    # hop 1: 0.3 % of 6000 USDC = 18; hop 2: 0.05 % of 2 WETH = 0.001 WETH, worth 6000/2 USDC each = 3
    assert t.lp_fees_paid == Decimal("21.000000")
    assert t.executed_quantity == Decimal("0.09900000")
