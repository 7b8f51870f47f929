"""execute_trades(trades, ts=None): arguments in the wrong order or of the wrong type are a BadInputError
(checked before anything is planned, signed or sent)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from vaultexec.chain.wallet import HotWallet
from vaultexec.errors import BadInputError
from vaultexec.execution.executor import VaultExecutionModel
from vaultexec.model.identifiers import AssetIdentifier, ExchangeKind, TradingPairIdentifier
from vaultexec.model.trade import TradeExecution, TradeType
from vaultexec.testing.plugin import ASSET_MANAGER_KEY

TS = datetime.datetime(2026, 1, 1)


class Untouchable:
    """Planner and store stand-in: any use fails the test (the arguments must be refused first)."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"{name} used before the arguments were checked")


def model() -> VaultExecutionModel:
    wallet = HotWallet.from_key(ASSET_MANAGER_KEY, 31337)
    return VaultExecutionModel(Untouchable(), "0x" + "11" * 20, Untouchable(), wallet,  # type: ignore[arg-type]
                               Untouchable())  # type: ignore[arg-type]


def trade() -> TradeExecution:
    usdc = AssetIdentifier(31337, "0x" + "01" * 20, "USDC", 6)
    weth = AssetIdentifier(31337, "0x" + "02" * 20, "WETH", 18)
    pair = TradingPairIdentifier(weth, usdc, "0x" + "03" * 20, "0x" + "04" * 20, 500, ExchangeKind.uniswap_v3)
    return TradeExecution(trade_id=1, position_id=1, trade_type=TradeType.rebalance, pair=pair, opened_at=TS,
                          planned_quantity=Decimal("0.3"), planned_reserve=Decimal(1000),
                          planned_price=Decimal(3000), reserve_currency=usdc, slippage_tolerance=Decimal("0.01"))


def test_timestamp_first_is_refused_with_the_right_order() -> None:
    with pytest.raises(BadInputError, match=r"first argument.*execute_trades\(trades, ts\)"):
        model().execute_trades(TS, [trade()])  # type: ignore[arg-type]


@pytest.mark.parametrize(("trades", "ts", "match"), [
    ("trades", None, "sequence of TradeExecution"),
    ([object()], None, "TradeExecution items, got object"),
    ([], "2026-01-01", "ts must be a datetime or None, got str"),
    ([], datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), "timezone-aware"),
])
def test_wrong_argument_types_are_bad_input(trades: object, ts: object, match: str) -> None:
    with pytest.raises(BadInputError, match=match):
        model().execute_trades(trades, ts)  # type: ignore[arg-type]


@pytest.mark.parametrize(("change", "match"), [
    ({"opened_at": None}, r"trade #1 has no opened_at"),
    ({"trade_id": -1}, r"id -1"),
])
def test_a_trade_the_store_cannot_hold_is_refused_before_planning(change: dict[str, object], match: str) -> None:
    """A field the store needs (id, opened_at) is checked up front: the Untouchable planner is never reached."""
    unstorable = trade()
    for name, value in change.items():
        setattr(unstorable, name, value)
    with pytest.raises(BadInputError, match=match):
        model().execute_trades([unstorable])
