"""The plugin: routing (plan, quote, bound, pre-flight) and execution (sign, broadcast, settle, resume)."""

from vaultexec.execution.executor import RoutingPlanner, VaultExecutionModel
from vaultexec.execution.plan import ExecutionPlan, Route, SimulationResult, TradePlan
from vaultexec.execution.routing import VaultRouting, plan_trade

__all__ = [
    "ExecutionPlan", "Route", "RoutingPlanner", "SimulationResult", "TradePlan", "VaultExecutionModel",
    "VaultRouting", "plan_trade",
]
