"""Shared sample assets, pairs and trades for the model tests (made-up addresses, chain 1)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from vaultexec.model import AssetIdentifier, ExchangeKind, TradeExecution, TradeType, TradingPairIdentifier

USDC = AssetIdentifier(1, "0x" + "a0" * 20, "USDC", 6)
WETH = AssetIdentifier(1, "0x" + "c0" * 20, "WETH", 18)
WBTC = AssetIdentifier(1, "0x" + "b0" * 20, "WBTC", 8)
V3_ROUTER = "0x" + "e5" * 20
V2_ROUTER = "0x" + "7a" * 20
WETH_USDC_POOL = "0x" + "11" * 20
WBTC_WETH_POOL = "0x" + "22" * 20

WETH_USDC = TradingPairIdentifier(WETH, USDC, WETH_USDC_POOL, V3_ROUTER, 500, ExchangeKind.uniswap_v3)
WBTC_USDC_VIA_WETH = TradingPairIdentifier(
    base=WBTC,
    quote=USDC,
    pool_address=WBTC_WETH_POOL,
    exchange_address=V3_ROUTER,
    fee=3000,
    kind=ExchangeKind.uniswap_v3,
    intermediary_pair=WETH_USDC,
)

T0 = datetime.datetime(2024, 1, 2, 3, 4, 5)


def make_trade(**overrides: Any) -> TradeExecution:
    """A planned buy of 0.5 WETH for 1000 USDC at 2000, 1 % tolerance; override any field."""
    fields: dict[str, Any] = {
        "trade_id": 1,
        "position_id": 1,
        "trade_type": TradeType.rebalance,
        "pair": WETH_USDC,
        "opened_at": T0,
        "planned_quantity": Decimal("0.5"),
        "planned_reserve": Decimal("1000"),
        "planned_price": Decimal("2000"),
        "reserve_currency": USDC,
        "slippage_tolerance": Decimal("0.01"),
    }
    fields.update(overrides)
    return TradeExecution(**fields)
