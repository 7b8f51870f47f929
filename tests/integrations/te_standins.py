"""Small stand-ins for trade-executor's State, Portfolio and TradeExecution.

Same attribute names, method signatures and state checks as trade-executor's own (tradeexecutor/state/
state.py, portfolio.py, trade.py): `start_execution_all`, `mark_trade_success`, `mark_trade_failed`,
`get_all_trades`; the trade's `get_status`, `mark_broadcasted`, `mark_success`, `mark_failed`,
`set_blockchain_transactions`, `to_json`. Its assertions are kept, so a call the real classes would refuse
fails here too.
"""

from __future__ import annotations

import datetime
import enum
from decimal import Decimal
from typing import Any

from vaultexec.model.jsontext import write_json_tree


class TradeStatus(enum.Enum):
    planned = "planned"
    started = "started"
    broadcasted = "broadcasted"
    success = "success"
    failed = "failed"
    repaired = "repaired"


class StandInTrade:
    """trade-executor's TradeExecution as its execution model sees it, made from its JSON form."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data
        self.trade_id: int = data["trade_id"]
        self.position_id: int = data["position_id"]
        self.planned_quantity = Decimal(str(data["planned_quantity"]))
        self.planned_reserve = Decimal(str(data["planned_reserve"]))
        self.planned_max_slippage: float | None = None
        self.started_at: datetime.datetime | None = None
        self.broadcasted_at: datetime.datetime | None = None
        self.executed_at: datetime.datetime | None = None
        self.failed_at: datetime.datetime | None = None
        self.repaired_at: datetime.datetime | None = None
        self.executed_price: float | None = None
        self.executed_quantity: Decimal | None = None
        self.executed_reserve: Decimal | None = None
        self.lp_fees_paid: float | None = None
        self.native_token_price: float | None = None
        self.cost_of_gas: Decimal | float | None = None
        self.blockchain_transactions: list[Any] = []

    def to_json(self) -> str:
        """Its JSON form with the fields execution sets so far (as dataclasses-json writes the live object)."""
        data = dict(self._data)
        data["planned_max_slippage"] = (None if self.planned_max_slippage is None
                                        else Decimal(repr(self.planned_max_slippage)))
        for name in ("started_at", "broadcasted_at", "executed_at", "failed_at"):
            value = getattr(self, name)
            data[name] = None if value is None else Decimal(str(value.replace(tzinfo=datetime.UTC).timestamp()))
        return write_json_tree(data)

    def is_buy(self) -> bool:
        return self.planned_quantity > 0

    def get_status(self) -> TradeStatus:
        if self.repaired_at:
            return TradeStatus.repaired
        if self.failed_at:
            return TradeStatus.failed
        if self.executed_at:
            return TradeStatus.success
        if self.broadcasted_at:
            return TradeStatus.broadcasted
        if self.started_at:
            return TradeStatus.started
        return TradeStatus.planned

    def mark_broadcasted(self, broadcasted_at: datetime.datetime, rebroadcast: bool = False) -> None:
        if not rebroadcast:
            assert self.get_status() == TradeStatus.started, f"Trade in bad state: {self.get_status()}"
        self.broadcasted_at = broadcasted_at

    def mark_success(self, executed_at: datetime.datetime, executed_price: float, executed_quantity: Decimal,
                     executed_reserve: Decimal, lp_fees: float, native_token_price: float | None, force: bool = False,
                     cost_of_gas: Decimal | float | None = None, executed_collateral_consumption: Any = None,
                     executed_collateral_allocation: Any = None) -> None:
        if not force:
            assert self.get_status() == TradeStatus.broadcasted, f"not broadcasted: {self.get_status()}"
        assert isinstance(executed_quantity, Decimal)
        assert type(executed_price) is float, f"executed price {executed_price!r}"
        assert executed_at.tzinfo is None
        self.executed_at = executed_at
        self.executed_quantity = executed_quantity
        self.executed_reserve = executed_reserve
        self.executed_price = executed_price
        self.lp_fees_paid = lp_fees
        self.native_token_price = native_token_price
        self.cost_of_gas = cost_of_gas

    def mark_failed(self, failed_at: datetime.datetime) -> None:
        assert self.get_status() in (TradeStatus.broadcasted, TradeStatus.started), self.get_status()
        assert failed_at.tzinfo is None
        self.failed_at = failed_at

    def set_blockchain_transactions(self, txs: list[Any]) -> None:
        assert not self.blockchain_transactions
        self.blockchain_transactions = txs

    def get_revert_reason(self) -> str | None:
        return self.blockchain_transactions[-1].revert_reason if self.blockchain_transactions else None


class StandInPortfolio:
    def __init__(self, trades: list[StandInTrade]) -> None:
        self.trades = trades

    def get_all_trades(self) -> list[StandInTrade]:
        return list(self.trades)


class StandInState:
    """trade-executor's State: the methods its execution models call, with its checks."""

    def __init__(self, trades: list[StandInTrade]) -> None:
        self.portfolio = StandInPortfolio(trades)
        self.successes: list[int] = []

    def start_execution_all(self, ts: datetime.datetime, trades: list[StandInTrade], max_slippage: float | None = None,
                            underflow_check: bool = False, rebroadcast: bool = False, triggered: bool = False) -> None:
        for trade in trades:
            assert trade.get_status() == TradeStatus.planned
            assert ts.tzinfo is None
            trade.started_at = ts
            if max_slippage is not None:
                trade.planned_max_slippage = max_slippage

    def mark_trade_success(self, executed_at: datetime.datetime, trade: StandInTrade, executed_price: float,
                           executed_amount: Decimal, executed_reserve: Decimal, lp_fees: float,
                           native_token_price: float | None, cost_of_gas: Decimal | float | None = None,
                           executed_collateral_consumption: Any = None, executed_collateral_allocation: Any = None,
                           force: bool = False) -> None:
        if trade.is_buy():
            assert executed_amount > 0, f"Executed amount was {executed_amount}"
        else:
            assert executed_amount < 0, f"Executed amount was {executed_amount}"
        trade.mark_success(executed_at, executed_price, executed_amount, executed_reserve, lp_fees,
                           native_token_price, force=force, cost_of_gas=cost_of_gas)
        self.successes.append(trade.trade_id)

    def mark_trade_failed(self, failed_at: datetime.datetime, trade: StandInTrade) -> None:
        trade.mark_failed(failed_at)
