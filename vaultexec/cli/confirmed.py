"""Re-export: the confirmed-plan planner lives in `vaultexec.execution.confirmed` (the demo and adapters use it)."""

from vaultexec.execution.confirmed import (
    ConfirmedPlanner,
    failure_reason,
    raise_if_refused,
    was_sent,
    worse_than_confirmed,
)

__all__ = ["ConfirmedPlanner", "failure_reason", "raise_if_refused", "was_sent", "worse_than_confirmed"]
