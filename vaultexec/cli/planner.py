"""Adapter from routing (`VaultRouting.plan_trades`, all-or-nothing per batch) to the executor's
`TradePlanner` (one outcome per trade), so one refused trade fails alone and the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from vaultexec.errors import VaultExecError
from vaultexec.execution.executor import PlannedTrade
from vaultexec.execution.plan import TradePlan
from vaultexec.execution.routing import VaultRouting
from vaultexec.model.trade import TradeExecution

logger = logging.getLogger(__name__)


def _planned(trade: TradeExecution, plan: TradePlan) -> PlannedTrade:
    return PlannedTrade(trade, calldata=plan.vault_calldata, gas_limit=plan.gas_limit or 0,
                        asset_deltas=tuple(plan.asset_deltas))


class RoutingPlanner:
    """Plans the batch in one go; if routing refuses it, plans each trade alone to find who is refused.

    The fallback loses the batch's running balances (a sell funding a later buy): trades are then planned
    against the vault's current balances only.
    """

    def __init__(self, routing: VaultRouting) -> None:
        self.routing = routing
        #: Routing's plans of the last call, by trade id (for display: route, quotes, gas).
        self.plans: dict[int, TradePlan] = {}

    def plan_trades(self, trades: Sequence[TradeExecution]) -> list[PlannedTrade]:
        try:
            batch = self.routing.plan_trades(trades)
        except VaultExecError as exc:
            if len(trades) == 1:
                return [PlannedTrade(trades[0], error=exc)]
            logger.info("batch refused (%s); planning the %d trades one by one", exc, len(trades))
            return [self._plan_alone(trade) for trade in trades]
        self.plans.update({plan.trade_id: plan for plan in batch.plans})
        return [_planned(trade, batch.get_plan(trade.trade_id)) for trade in trades]

    def _plan_alone(self, trade: TradeExecution) -> PlannedTrade:
        try:
            plan = self.routing.plan_trades([trade]).plans[0]
        except VaultExecError as exc:
            return PlannedTrade(trade, error=exc)
        self.plans[trade.trade_id] = plan
        return _planned(trade, plan)
