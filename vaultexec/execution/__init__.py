"""The plugin: routing (plan, quote, bound, pre-flight) and the executor-facing interface."""

from vaultexec.execution.plan import ExecutionPlan, Route, SimulationResult, TradePlan
from vaultexec.execution.routing import VaultRouting, plan_trade

__all__ = ["ExecutionPlan", "Route", "SimulationResult", "TradePlan", "VaultRouting", "plan_trade"]
