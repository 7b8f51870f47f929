"""vaultexec as trade-executor's execution backend (no trade-executor import at install time).

- `VaultExecutorExecutionModel`: its ExecutionModel (`execute_trades(ts, state, trades, routing_model,
  routing_state, max_slippage=0.005, check_balances=False, rebroadcast=False, triggered=False)`,
  `repair_unconfirmed_trades(state)`, ...).
- `VaultRoutingModel` / `VaultRoutingState`: its RoutingModel / RoutingState (`setup_trades`, `settle_trade`,
  `create_routing_state`).
- `VaultTransactionBuilder`: its TransactionBuilder, signing calls as the vault's `execute`.

See docs/routing.md ("trade-executor").
"""

from vaultexec.integrations.trade_executor.execution import VaultExecutorExecutionModel
from vaultexec.integrations.trade_executor.objects import ExecutorTransaction, default_transaction_factory
from vaultexec.integrations.trade_executor.routing import VaultRoutingModel, VaultRoutingState
from vaultexec.integrations.trade_executor.tx import VaultTransactionBuilder

__all__ = [
    "ExecutorTransaction",
    "VaultExecutorExecutionModel",
    "VaultRoutingModel",
    "VaultRoutingState",
    "VaultTransactionBuilder",
    "default_transaction_factory",
]
