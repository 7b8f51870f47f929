"""trade-executor's ExecutionModel over vaultexec's pipeline: pre-flight, write-ahead, broadcast, tracking,
settlement through the vault, and resume / repair after a crash.

Called as trade-executor's main loop calls its execution model::

    execution_model.execute_trades(ts, state, trades, routing_model, routing_state,
                                   max_slippage=0.005, check_balances=False, rebroadcast=False, triggered=False)

with the routing model and state of `integrations.trade_executor.routing`. The trades are trade-executor's
own objects; they are started (`state.start_execution_all`), set up (routing + pre-flight), signed and stored
write-ahead (then `trade.set_blockchain_transactions` and the state sync callback, before anything is sent),
broadcast (`trade.mark_broadcasted`), tracked and settled (`state.mark_trade_success` / `mark_trade_failed`).
`rebroadcast=True` re-sends the stored signed bytes and never signs a trade again;
`repair_unconfirmed_trades(state)` is our `resume()` then `repair()`.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Sequence
from typing import Any

from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.errors import BadInputError, ConfigurationError, RecordNotFoundError
from vaultexec.execution.executor import (
    STAGE_BROADCAST,
    STAGE_SIGNED,
    ExecutorConfig,
    PlannedTrade,
    StageHook,
    VaultExecutionModel,
)
from vaultexec.integrations.trade_executor.objects import (
    executor_transaction,
    naive_utc,
    update_executor_transaction,
    write_back,
)
from vaultexec.integrations.trade_executor.routing import VaultRoutingModel, VaultRoutingState
from vaultexec.model.run_state import RunState, utc_now
from vaultexec.model.trade import TradeExecution
from vaultexec.store.protocol import ExecutionStore

logger = logging.getLogger(__name__)

_PENDING = ("started", "broadcasted")


class _CyclePlans:
    """The planner our executor sees: the plans `setup_trades` made for this cycle, in the batch's order."""

    def __init__(self, plans: dict[int, PlannedTrade]) -> None:
        self.plans = plans

    def plan_trades(self, trades: Sequence[TradeExecution]) -> list[PlannedTrade]:
        return [self.plans[t.trade_id] for t in trades]


class _NoPlanning:
    def plan_trades(self, trades: Sequence[TradeExecution]) -> list[PlannedTrade]:
        raise BadInputError("resume and repair never plan new trades")


def _status(te_trade: Any) -> str:
    status = te_trade.get_status()
    return str(getattr(status, "value", status))


class VaultExecutorExecutionModel:
    """trade-executor's ExecutionModel: its trades executed through one vault by one hot wallet."""

    def __init__(self, client: RPCClient, vault_address: str, wallet: HotWallet, store: ExecutionStore,
                 routing_model: VaultRoutingModel, web3: Any = None, tx_builder: Any = None,
                 run_state: RunState | None = None, config: ExecutorConfig | None = None,
                 on_stage: StageHook | None = None) -> None:
        self.client = client
        self.vault_address = vault_address
        self.wallet = wallet
        self.store = store
        self.routing_model = routing_model
        self.web3 = web3
        self.tx_builder = tx_builder
        self.run_state = run_state or RunState()
        self.config = config or ExecutorConfig()
        self.on_stage = on_stage
        self._pre_broadcast_state_sync_callback: Callable[[], None] | None = None

    # ---------------------------------------------------------------- trade-executor's interface

    def set_pre_broadcast_state_sync_callback(self, callback: Callable[[], None] | None) -> None:
        """trade-executor's state store sync, called after signing and storing and before any send."""
        self._pre_broadcast_state_sync_callback = callback

    def sync_state_before_broadcast(self) -> None:
        if self._pre_broadcast_state_sync_callback is not None:
            self._pre_broadcast_state_sync_callback()

    def get_balance_address(self) -> str:
        """The vault holds the strategy's tokens."""
        return self.vault_address

    def preflight_check(self) -> None:
        """ConfigurationError when the node's chain is not the wallet's or the vault has no code."""
        chain_id = int(self.client.call("eth_chainId", []), 16)
        if chain_id != self.wallet.chain_id:
            raise ConfigurationError(f"The node is on chain {chain_id}, the hot wallet signs for chain "
                                     f"{self.wallet.chain_id}: point the RPC URL at the vault's chain.")
        if self.client.call("eth_getCode", [self.vault_address, "latest"]) in ("0x", "", None):
            raise ConfigurationError(f"No contract at the vault address {self.vault_address} on chain {chain_id}: "
                                     "check the vault address and the chain.")

    def initialize(self) -> None:
        """Read the hot wallet's nonce from the chain."""
        self.wallet.sync_nonce(self.client)

    def get_safe_latest_block(self) -> int:
        """The latest block less the tracker's confirmation depth (a block unlikely to change)."""
        latest = int(self.client.call("eth_blockNumber", []), 16)
        return max(0, latest - self._core(_NoPlanning()).tracker_config.confirmations)

    def get_routing_state_details(self) -> dict[str, Any]:
        return {"tx_builder": self.tx_builder, "web3": self.web3, "wallet": self.wallet, "hot_wallet": self.wallet}

    def is_stop_loss_supported(self) -> bool:
        """Triggered (stop-loss / take-profit) trades execute like any other batch."""
        return True

    def create_default_routing_model(self, strategy_universe: Any) -> VaultRoutingModel:
        return self.routing_model

    def execute_trades(self, ts: datetime.datetime, state: Any, trades: list[Any], routing_model: VaultRoutingModel,
                       routing_state: VaultRoutingState, max_slippage: float = 0.005, check_balances: bool = False,
                       rebroadcast: bool = False, triggered: bool = False) -> None:
        """Execute trade-executor's trades in place (its signature; returns None as its models do)."""
        if isinstance(ts, list | tuple):
            raise BadInputError("execute_trades(ts, state, trades, routing_model, routing_state, ...) got a list "
                                "first: trade-executor passes the cycle timestamp first")
        if not trades:
            return
        if rebroadcast:
            self._rebroadcast(state, trades, routing_model)
            return
        state.start_execution_all(utc_now(), trades, max_slippage=max_slippage, rebroadcast=False)
        routing_model.setup_trades(state=state, routing_state=routing_state, trades=trades,
                                   check_balances=check_balances, rebroadcast=False)
        by_id = {t.trade_id: t for t in trades}
        ours = [routing_model.trades[t.trade_id] for t in trades]
        core = self._core(_CyclePlans(routing_state.plans), self._stage_hook(by_id))
        core.execute_trades(ours, naive_utc(ts))
        receipts = {tx.tx_hash: {"status": int(bool(tx.status)), "blockNumber": tx.block_number}
                    for t in ours for tx in t.blockchain_transactions if tx.tx_hash and tx.status is not None}
        for te_trade in trades:
            routing_model.settle_trade(self.web3, state, te_trade, receipts, stop_on_execution_failure=False)

    def repair_unconfirmed_trades(self, state: Any) -> list[Any]:
        """Finish what a crash left: `resume()` (stored bytes re-sent, receipts settled), then `repair()` for what
        still cannot settle; returns trade-executor's trades whose status changed.

        A started trade the store never recorded was never signed (the write-ahead comes first), so nothing of
        it can land: it is marked failed.
        """
        all_trades = list(state.portfolio.get_all_trades())
        pending = [t for t in all_trades if _status(t) in _PENDING]
        core = self._core(_NoPlanning())
        settled = core.resume()  # always: the store may hold signed trades the state never saw as started
        known = {t.trade_id for t in all_trades}
        strays = sorted(t.trade_id for t in settled if t.trade_id not in known)
        if strays:
            logger.warning("vaultexec settled trade(s) %s that trade-executor's state does not hold (the state "
                           "was not synced before a crash): reconcile its balances (trade-executor's "
                           "correct-accounts)", strays)
        changed = []
        now = utc_now()
        for te_trade in pending:
            try:
                ours = self.store.load(te_trade.trade_id)
            except RecordNotFoundError:
                logger.warning("trade %d was started but never signed: marked failed", te_trade.trade_id)
                state.mark_trade_failed(now, te_trade)
                changed.append(te_trade)
                continue
            if ours.is_pending():
                core.repair([ours.trade_id], note="repair_unconfirmed_trades")
                ours = self.store.load(ours.trade_id)
            self._attach_transactions(te_trade, ours)
            self.routing_model.register(ours)
            if write_back(state, te_trade, ours, now, self.routing_model.transaction_factory):
                changed.append(te_trade)
        return changed

    # ---------------------------------------------------------------- inside

    def _core(self, planner: Any, on_stage: StageHook | None = None) -> VaultExecutionModel:
        return VaultExecutionModel(self.client, self.vault_address, planner, self.wallet, self.store, self.run_state,
                                   self.config, on_stage)

    def _stage_hook(self, by_id: dict[int, Any]) -> StageHook:
        """Mirror our stages on trade-executor's trades, then call the user's hook (tests crash there)."""
        def hook(stage: str, trades: Sequence[TradeExecution]) -> None:
            if stage == STAGE_SIGNED:
                for ours in trades:
                    self._attach_transactions(by_id[ours.trade_id], ours)
                self.sync_state_before_broadcast()
            elif stage == STAGE_BROADCAST:
                for ours in trades:
                    te_trade = by_id[ours.trade_id]
                    for te_tx, tx in zip(te_trade.blockchain_transactions, ours.blockchain_transactions, strict=False):
                        update_executor_transaction(te_tx, tx)
                    if ours.broadcasted_at is not None and te_trade.broadcasted_at is None:
                        te_trade.mark_broadcasted(naive_utc(ours.broadcasted_at))
            if self.on_stage is not None:
                self.on_stage(stage, trades)
        return hook

    def _attach_transactions(self, te_trade: Any, ours: TradeExecution) -> None:
        if not te_trade.blockchain_transactions and ours.blockchain_transactions:
            factory = self.routing_model.transaction_factory
            te_trade.set_blockchain_transactions([executor_transaction(tx, factory)
                                                  for tx in ours.blockchain_transactions])

    def _rebroadcast(self, state: Any, trades: Sequence[Any], routing_model: VaultRoutingModel) -> None:
        """Re-send what the store holds for `trades` (the same signed bytes) and settle; never sign again."""
        for te_trade in trades:
            try:
                self.store.load(te_trade.trade_id)
            except RecordNotFoundError:
                raise BadInputError(
                    f"trade #{te_trade.trade_id}: rebroadcast=True, but vaultexec's store holds no signed "
                    "transaction for it (it was never signed here); call repair_unconfirmed_trades(state), "
                    "which marks it failed, then plan it again") from None
        self._core(_NoPlanning()).resume()
        now = utc_now()
        for te_trade in trades:
            ours = self.store.load(te_trade.trade_id)
            self._attach_transactions(te_trade, ours)
            if ours.broadcasted_at is not None:
                te_trade.mark_broadcasted(naive_utc(ours.broadcasted_at), rebroadcast=True)
            routing_model.register(ours)
            routing_model.settle_trade(self.web3, state, te_trade, {}, stop_on_execution_failure=False)
        logger.info("rebroadcast of %d trade(s) at %s done", len(trades), now)
