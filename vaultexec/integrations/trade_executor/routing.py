"""trade-executor's RoutingModel / RoutingState over vaultexec's routing and pre-flight.

trade-executor's execution model calls `routing_model.setup_trades(state, routing_state, trades,
check_balances=False, rebroadcast=False)` after `State.start_execution_all`, then `settle_trade(web3, state,
trade, receipts, stop_on_execution_failure=False)` per trade once receipts are in. Here `setup_trades` converts
its trades (`model.compat`) and plans the batch with `execution.routing` (route, quote, asset deltas) and
pre-flight (`eth_simulateV1` of the whole batch); signing is left to the write-ahead stage of the execution
model, so nothing is signed that is not stored first. `settle_trade` writes our settlement back.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from vaultexec.errors import BadInputError, SettlementError
from vaultexec.execution.executor import BatchRouting, PlannedTrade, RoutingPlanner, TradePlanner
from vaultexec.integrations.trade_executor.objects import (
    TransactionFactory,
    default_transaction_factory,
    trade_from_executor,
    write_back,
)
from vaultexec.model.compat import RouterMap
from vaultexec.model.run_state import utc_now
from vaultexec.model.trade import TradeExecution

logger = logging.getLogger(__name__)


class VaultRoutingState:
    """One cycle's routing state: trade-executor's universe and execution details, and our plans by trade id."""

    def __init__(self, universe: Any, execution_details: Any = None) -> None:
        self.universe = universe
        self.execution_details = execution_details
        self.tx_builder = execution_details.get("tx_builder") if isinstance(execution_details, Mapping) else None
        #: trade id -> routing and pre-flight outcome (calldata to sign, or why the trade cannot trade).
        self.plans: dict[int, PlannedTrade] = {}


class VaultRoutingModel:
    """trade-executor's RoutingModel interface, routing through our vault (V2/V3, direct or three-way)."""

    def __init__(self, routing: BatchRouting, routers: RouterMap,
                 transaction_factory: TransactionFactory | None = None) -> None:
        self.planner: TradePlanner = RoutingPlanner(routing)
        self.routers = routers
        self.transaction_factory = transaction_factory or default_transaction_factory()
        #: Our copy of each trade-executor trade this model set up or resumed, by trade id.
        self.trades: dict[int, TradeExecution] = {}

    def create_routing_state(self, universe: Any, execution_details: Any) -> VaultRoutingState:
        return VaultRoutingState(universe, execution_details)

    def setup_trades(self, state: Any, routing_state: VaultRoutingState, trades: Sequence[Any],
                     check_balances: bool = False, rebroadcast: bool = False) -> None:
        """Plan the batch (routing + pre-flight); with `rebroadcast` nothing is planned or signed again."""
        if rebroadcast:
            return
        ours = [trade_from_executor(t, self.routers, getattr(t, "planned_max_slippage", None)) for t in trades]
        for plan in self.planner.plan_trades(ours):
            routing_state.plans[plan.trade.trade_id] = plan
            self.trades[plan.trade.trade_id] = plan.trade
        if check_balances:
            refused = [p for p in routing_state.plans.values() if p.error is not None]
            for plan in refused:
                logger.warning("trade %d cannot be executed: %s", plan.trade.trade_id, plan.error)

    def register(self, trade: TradeExecution) -> None:
        """Track one of our trades (e.g. loaded from the store on resume) for `settle_trade`."""
        self.trades[trade.trade_id] = trade

    def settle_trade(self, web3: Any, state: Any, trade: Any, receipts: Mapping[Any, Any],
                     stop_on_execution_failure: bool = False) -> None:
        """Write our settlement of `trade` back (success amounts, or failure with its decoded reason)."""
        ours = self.trades.get(trade.trade_id)
        if ours is None:
            raise BadInputError(f"trade #{trade.trade_id} was not set up by this routing model: call setup_trades() "
                                "(or repair_unconfirmed_trades) first")
        write_back(state, trade, ours, utc_now(), self.transaction_factory)
        if stop_on_execution_failure and ours.is_failed():
            reason = ours.blockchain_transactions[-1].revert_reason if ours.blockchain_transactions else None
            raise SettlementError(f"trade #{trade.trade_id} failed: {reason or 'no reason recorded'}")

    def get_default_trading_fee(self) -> float | None:
        """Pairs carry their own fee; there is no universe-wide one."""
        return None

    def perform_preflight_checks_and_logging(self, pair_universe: Any) -> None:
        logger.info("vaultexec routing: %d exchange(s) known", len(self.routers.routers))

    def needs_sequential_trade_execution(self, trades: Sequence[Any]) -> bool:
        """The batch is simulated and sent together (sells first); never one by one."""
        return False
