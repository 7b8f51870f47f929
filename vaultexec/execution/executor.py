"""The executor: planned trades -> plan and pre-flight -> sign -> write-ahead -> broadcast -> track -> settle.

Shaped like trade-executor's execution model: `execute_trades(trades, ts=None)` takes the strategy's
planned trades (and optionally the cycle's timestamp) and returns them settled; `resume()` runs at
start-up before any new trade (it reconciles what a crashed run left in flight, and re-checks recently
settled trades for reorgs); `repair()` closes trades that cannot be settled automatically.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Protocol

from vaultexec.chain.broadcast import TrackerConfig, TransactionTracker
from vaultexec.chain.gaps import NonceGapFiller
from vaultexec.chain.gas import FeePolicy, FeeQuote, fetch_fees
from vaultexec.chain.revert import known_errors
from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet, pending_nonce
from vaultexec.dex.deployments import fee_policy
from vaultexec.errors import (
    BadInputError,
    DuplicateRecordError,
    InsufficientBalanceError,
    RecordNotFoundError,
    StoreError,
    VaultExecError,
)
from vaultexec.execution.background import InBackground
from vaultexec.execution.chunking import FALLBACK_CHUNK, block_gas_limit, chunk_size, split
from vaultexec.execution.mined_wait import wait_until_mined
from vaultexec.execution.nonce_floor import check_nonce_floor
from vaultexec.execution.plan import BatchPlan, ExecutionPlan, TradePlan
from vaultexec.execution.reorg import reopen_reorged_trades, reorg_window
from vaultexec.execution.repair import RepairResult, repair_trades, resume_trades
from vaultexec.execution.sandwich import ReferencePrice
from vaultexec.execution.settle import (
    SettleRound,
    retrack,
    settle_round,
    store_settled,
    track_and_settle,
    track_round,
)
from vaultexec.execution.writeahead import SignRequest, WriteAheadLog, save_trade
from vaultexec.model.deltas import AssetDelta
from vaultexec.model.run_state import RunState, utc_now
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.model.transaction import BlockchainTransaction
from vaultexec.store.codec import check_storable
from vaultexec.store.lease import DEFAULT_TTL, hold_leases
from vaultexec.store.protocol import ExecutionStore

logger = logging.getLogger(__name__)

#: Stages reported to `on_stage` (tests use it to crash the process at a precise point).
STAGE_PLANNED = "planned"
STAGE_SIGNED = "signed"
STAGE_BROADCAST = "broadcast"
STAGE_TRACKED = "tracked"
STAGE_SETTLED = "settled"

StageHook = Callable[[str, Sequence[TradeExecution]], None]


@dataclass(frozen=True)
class PlannedTrade:
    """Routing + pre-flight outcome for one trade: the vault calldata to sign, or why it cannot trade."""

    trade: TradeExecution
    #: ABI-encoded `vault.execute(calls, maxSpend, minReceive)`; None when `error` is set.
    calldata: bytes | None = None
    #: Gas limit from the pre-flight estimate (with its margin).
    gas_limit: int = 0
    asset_deltas: tuple[AssetDelta, ...] = ()
    #: Set when routing or pre-flight refused the trade (nothing is signed, no gas is spent).
    error: VaultExecError | None = None


class TradePlanner(Protocol):
    """Routing and pre-flight: one `PlannedTrade` per trade, same order (see execution.routing)."""

    def plan_trades(self, trades: Sequence[TradeExecution]) -> Sequence[PlannedTrade]: ...


class BatchRouting(Protocol):
    """What `RoutingPlanner` needs of `execution.routing.VaultRouting`."""

    def plan_trades(self, trades: Sequence[TradeExecution]) -> ExecutionPlan: ...

    def plan_batch(self, trades: Sequence[TradeExecution],
                   accept: Callable[[TradeExecution, TradePlan], VaultExecError | None] | None = None
                   ) -> BatchPlan: ...


class RoutingPlanner:
    """Adapts `VaultRouting.plan_batch` to the executor: one `PlannedTrade` per trade, same order.

    A refused trade fails alone with its own reason; the others keep the plan of the batch they were
    planned and pre-flighted in together (running balances, each trade's effects carried into the next).
    """

    def __init__(self, routing: BatchRouting,
                 accept: Callable[[TradeExecution, TradePlan], VaultExecError | None] | None = None) -> None:
        self.routing = routing
        #: A last check of each built plan, inside the batch's planning (see `VaultRouting.plan_batch`).
        self.accept = accept

    def plan_trades(self, trades: Sequence[TradeExecution]) -> list[PlannedTrade]:
        """A refusal of the whole batch (the vault paused, a read failing) fails every trade with it."""
        try:
            batch = self.routing.plan_batch(trades, self.accept)
        except VaultExecError as exc:
            return [PlannedTrade(t, error=exc) for t in trades]
        by_id = {p.trade_id: p for p in batch.plan.plans}
        return [self._planned(t, by_id, batch.refused) for t in trades]

    @staticmethod
    def _planned(trade: TradeExecution, by_id: dict[int, TradePlan],
                 refused: dict[int, VaultExecError]) -> PlannedTrade:
        if trade.trade_id in refused:
            return PlannedTrade(trade, error=refused[trade.trade_id])
        plan = by_id.get(trade.trade_id)
        if plan is None or plan.gas_limit is None:
            return PlannedTrade(trade, error=VaultExecError(f"trade #{trade.trade_id}: routing returned no plan"))
        return PlannedTrade(trade, plan.vault_calldata, plan.gas_limit, tuple(plan.asset_deltas))


#: Blocks on top of a receipt before a trade settles, per chain id: a reorg shallower than this can never
#: leave a settled success behind. Dev chains (anvil) need none; unknown chains get `DEFAULT_CONFIRMATIONS`.
CONFIRMATIONS_BY_CHAIN: dict[int, int] = {31337: 0, 1337: 0, 1: 2, 137: 5, 8453: 1, 42161: 1}
DEFAULT_CONFIRMATIONS = 2
#: Dev chains (anvil, hardhat): blocks are mined on demand, so "N new blocks" may never come.
DEV_CHAINS = frozenset({31337, 1337})


def _ether(wei: int) -> str:
    return f"{Decimal(wei).scaleb(-18).normalize():f}"


def default_tracker_config(chain_id: int) -> TrackerConfig:
    """Tracking defaults for `chain_id`: confirmations from `CONFIRMATIONS_BY_CHAIN`, 5-minute timeout;
    "nonce consumed" after 5 s and 2 new blocks (no block count on dev chains, which mine on demand); a dev
    chain whose pool holds our transactions with no new block for 2 s is asked for one (anvil automine)."""
    return TrackerConfig(confirmations=CONFIRMATIONS_BY_CHAIN.get(chain_id, DEFAULT_CONFIRMATIONS),
                         poll_interval=0.1, timeout=300.0, stuck_after=60.0, drop_check_after=5.0,
                         nonce_consumed_after=5.0, nonce_consumed_blocks=0 if chain_id in DEV_CHAINS else 2,
                         mine_when_idle_after=2.0 if chain_id in DEV_CHAINS else None)


@dataclass(frozen=True)
class ExecutorConfig:
    """Tracking knobs (None: `default_tracker_config` of the wallet's chain), the price used to value gas
    (native token in reserve currency, optional) and the chunk size of large batches."""

    tracker: TrackerConfig | None = None
    native_token_price: Decimal | None = None
    #: Seconds a Redis lease lives without renewal (a crashed executor's lease frees after this).
    lease_ttl: float = DEFAULT_TTL
    #: Tip floor and fee cap (None: `dex.deployments.fee_policy` of the wallet's chain); a batch whose
    #: needed fee is above the cap is refused before signing (`FeeCapExceededError`).
    fee_policy: FeePolicy | None = None
    #: Reference prices of the sandwich check at settlement (None: the pool at the start of the trade's
    #: block, with the vault's oracle difference recorded beside it; see execution.sandwich).
    price_reference: ReferencePrice | None = None
    #: Trades per chunk of a batch (None: what the node's body limit and block gas hold, see `chunking`).
    chunk_size: int | None = None


class VaultExecutionModel:
    """Runs trades through one vault with one hot wallet, recording every step in the store."""

    def __init__(self, client: RPCClient, vault_address: str, planner: TradePlanner, wallet: HotWallet,
                 store: ExecutionStore, run_state: RunState | None = None, config: ExecutorConfig | None = None,
                 on_stage: StageHook | None = None) -> None:
        self.client = client
        self.vault_address = vault_address
        self.planner = planner
        self.wallet = wallet
        self.store = store
        self.run_state = run_state or RunState()
        self.config = config or ExecutorConfig()
        self.fee_policy = self.config.fee_policy or fee_policy(wallet.chain_id)
        tracker_config = self.config.tracker or default_tracker_config(wallet.chain_id)
        self.tracker_config = (tracker_config if tracker_config.fee_policy is not None
                               else replace(tracker_config, fee_policy=self.fee_policy))
        self.on_stage = on_stage or (lambda stage, trades: None)
        #: The last chunk mined, its receipts fetched while the next chunk is planned (see `_execute_chunk`).
        self._tracking: _Tracking | None = None
        #: The last chunk sent and tracked, settled while the next one is sent (see `_execute_trades`).
        self._unsettled: _Tracked | None = None
        self._sending_client: RPCClient | None = None

    def _tracker(self, log: WriteAheadLog, config: TrackerConfig | None = None,
                 client: RPCClient | None = None) -> TransactionTracker:
        client = client or self.client
        return TransactionTracker(client, config or self.tracker_config, resign=self.wallet.resign_with_fees,
                                  persist=log.persist_tx, errors=known_errors(), chain_id=self.wallet.chain_id,
                                  gaps=NonceGapFiller(client, self.wallet))

    def execute_trades(self, trades: Sequence[TradeExecution],
                       ts: datetime.datetime | None = None) -> list[TradeExecution]:
        """Execute planned trades (sells first) and return them settled, success or failed.

        A batch larger than one chunk (`chunking`: what one HTTP body carries and one block holds) runs
        chunk after chunk, each planned on the landed effects of the one before. A chunk that raises
        (e.g. the hot wallet cannot pay its gas) stops the batch: later chunks stay planned, untouched.
        A trade still in flight when tracking times out is returned unsettled (started or broadcasted);
        `resume()` finishes it later. Trades refused by routing or pre-flight come back failed, unsigned.
        """
        _check_execute_arguments(trades, ts)
        with self._leases():
            return self._execute_trades(trades, ts)

    def _leases(self) -> AbstractContextManager[None]:
        """The (chain, vault) and (chain, wallet) leases (`store.lease`): one executor at a time signs for them."""
        return hold_leases(self.store, self.wallet.chain_id, self.vault_address, self.wallet.address,
                           ttl=self.config.lease_ttl)

    def _execute_trades(self, trades: Sequence[TradeExecution],
                        ts: datetime.datetime | None) -> list[TradeExecution]:
        now = ts or utc_now()
        ordered = sorted(trades, key=lambda t: t.get_execution_sort_position())
        for trade in ordered:
            if not trade.is_planned():
                raise VaultExecError(f"trade #{trade.trade_id} is {trade.get_status().value}, not planned; "
                                     "use resume() for trades a previous run started")
        self._refuse_stored(ordered)
        self._tracking, self._unsettled = None, None
        try:
            for chunk in split(ordered, self._chunk_size(len(ordered))):
                self._execute_chunk(chunk, now)
            self._join_tracking()
        except Exception as exc:
            self._join_tracking(exc)  # what landed is tracked, settled and stored before the error goes up
            self._settle_unsettled(quiet=True)
            raise
        self._settle_unsettled()
        return ordered

    def _chunk_size(self, count: int) -> int:
        """Trades per chunk (see `chunking`): the config's, else from the node's body and block gas limits."""
        if self.config.chunk_size is not None:
            return max(1, self.config.chunk_size)
        by_body = chunk_size(self.client.max_body_bytes, None)
        if count <= min(by_body, FALLBACK_CHUNK):
            return count  # one chunk whatever the block holds: no request to ask
        latest = self.client.call("eth_getBlockByNumber", ["latest", False])
        return chunk_size(self.client.max_body_bytes, block_gas_limit(latest))

    def _execute_chunk(self, trades: list[TradeExecution], now: datetime.datetime) -> None:
        """Plan, pre-flight, sign, send and track one chunk: the next is planned on its landed effects. The
        chunk is settled while the next one is sent (or at the end of the batch)."""
        try:
            plans = list(self.planner.plan_trades(trades))  # the previous chunk's receipts come in meanwhile
        except Exception as exc:
            self._join_tracking(exc)
            raise
        self._join_tracking()
        self.on_stage(STAGE_PLANNED, trades)
        requests = []
        for plan in plans:
            if plan.error is not None or plan.calldata is None:
                self._fail_unsent(plan, now)
            else:
                requests.append(SignRequest(plan.trade, plan.calldata, plan.gas_limit, plan.asset_deltas))
        if requests:
            self._sign_send_settle(requests, now)

    def _refuse_stored(self, trades: Sequence[TradeExecution]) -> None:
        """Refuse the batch if the store already holds one of its trade ids (checked before any signing,
        so a refused batch never leaves a signed-but-unsent nonce behind)."""
        for trade in trades:
            try:
                stored = self.store.load(trade.trade_id)
            except RecordNotFoundError:
                continue
            raise DuplicateRecordError(
                f"trade #{trade.trade_id} is already stored ({stored.get_status().value}): a trade executes "
                "once; give new trades new ids, and use resume()/repair() for stored ones")

    def _sign_send_settle(self, requests: list[SignRequest], now: datetime.datetime) -> None:
        fees = fetch_fees(self.client, self.wallet.chain_id, policy=self.fee_policy)
        self._check_gas_funds(requests, fees)
        node_nonce = pending_nonce(self.client, self.wallet.address)  # one read: the sync and the floor check
        self.wallet.sync_nonce(self.client, node_nonce)
        check_nonce_floor(self.client, self.store, self.wallet.chain_id, self.wallet.address, node_nonce)
        log = WriteAheadLog(self.store, self.vault_address)
        started = log.sign_and_store(requests, self.wallet, fees, now)
        self.on_stage(STAGE_SIGNED, started)
        # The node takes this chunk's sends (on a connection of their own) while this thread settles and stores
        # the previous chunk.
        tracker = self._tracker(log, client=self._sender())
        if fees.block_number is not None:
            tracker.receipts_after(fees.block_number)
        txs = [trade.blockchain_transactions[-1] for trade in started]
        try:
            with InBackground(lambda: _broadcast(tracker, log, txs)):
                previous = self._settle_round()
            self._finish_settlement(previous)
            for trade in started:
                if trade.get_status() is TradeStatus.broadcasted:
                    self.run_state.record_trade_broadcast()
            self.on_stage(STAGE_BROADCAST, started)
        except BaseException:
            _store_held(log)  # what the node took is stored as broadcasted before the error goes up
            raise
        if self._mined_at_once(log, txs):
            # every nonce is mined: the next chunk can be planned on this one's effects while its receipts come
            self._tracking = _Tracking(tracker, started)
        else:  # something is still pending: tracked to the end (replacements, drops) before anything else
            self._tracking = _Tracking(tracker, started, background=False)
            self._join_tracking()

    def _mined_at_once(self, log: WriteAheadLog, txs: Sequence[BlockchainTransaction]) -> bool:
        """`wait_until_mined`; the chunk's broadcasted state is stored only when it was not (the settlement write
        comes next otherwise, and `resume()` takes a stored transaction as possibly sent either way)."""
        try:
            mined = wait_until_mined(self.client, self.wallet.address, txs, self.tracker_config)
        except BaseException:
            _store_held(log)
            raise
        if mined:
            log.drop_held()
        else:
            _store_held(log)
        return mined

    def _join_tracking(self, error: BaseException | None = None) -> None:
        """Wait for the last chunk's receipts; it is then tracked and waits to be settled (`_unsettled`)."""
        tracking, self._tracking = self._tracking, None
        if tracking is None:
            return
        tracking.join(error)
        self.on_stage(STAGE_TRACKED, tracking.trades)
        self._unsettled = _Tracked(tracking.tracker, tracking.trades, tracking.first_in_block)

    def _sender(self) -> RPCClient:
        if self._sending_client is None:
            self._sending_client = self.client.sibling()
        return self._sending_client

    def _settle_round(self) -> tuple[_Tracked, SettleRound] | None:
        """Settle and store the last tracked chunk (its vanished receipts are for `_finish_settlement`)."""
        tracked, self._unsettled = self._unsettled, None
        if tracked is None:
            return None
        result = settle_round(self.client, tracked.trades, tracked.first_in_block, self.vault_address,
                              self.run_state, self.config.native_token_price, self.config.price_reference)
        store_settled(self.store, result.settled, self.run_state)
        return tracked, result

    def _finish_settlement(self, settled: tuple[_Tracked, SettleRound] | None) -> None:
        """Trades whose receipt vanished before settlement (a reorg?) are tracked and settled again; then the
        chunk is reported settled."""
        if settled is None:
            return
        tracked, result = settled
        if result.vanished:
            retrack(result.vanished)
            track_and_settle(self.client, tracked.tracker, result.vanished, self.store, self.vault_address,
                             self.run_state, self.config.native_token_price, reference=self.config.price_reference)
        self.on_stage(STAGE_SETTLED, tracked.trades)

    def _settle_unsettled(self, quiet: bool = False) -> None:
        """Settle the last tracked chunk now; `quiet`: an error is logged (another one is on its way up)."""
        try:
            self._finish_settlement(self._settle_round())
        except Exception as exc:
            if not quiet:
                raise
            logger.error("settling the last tracked chunk failed too (resume() settles it): %s", exc)

    def _check_gas_funds(self, requests: Sequence[SignRequest], fees: FeeQuote) -> None:
        """Refuse the batch before signing when the hot wallet cannot pay the most its gas may cost.

        A node refuses an unaffordable transaction at broadcast, which would leave a nonce gap that holds
        back every later transaction of the batch; checking first (one request) avoids that.
        """
        need = sum(request.gas_limit for request in requests) * fees.max_price
        have = int(self.client.call("eth_getBalance", [self.wallet.address, "pending"]), 16)
        if have < need:
            raise InsufficientBalanceError(
                f"The asset manager {self.wallet.address} holds {_ether(have)} of the native token, "
                f"but the {len(requests)} transaction(s) of this batch may cost up to {_ether(need)} "
                f"in gas (gas limits x max fee {fees.max_price} wei). Send it native token for gas, or trade "
                "fewer at once. Nothing was signed.")

    def _fail_unsent(self, plan: PlannedTrade, now: datetime.datetime) -> None:
        """A trade routing or pre-flight refused: failed at once, its reason on an unsigned transaction."""
        trade = plan.trade
        reason = str(plan.error) if plan.error is not None else "planner returned no calldata"
        decoded = getattr(plan.error, "reason", None)
        tx = BlockchainTransaction(contract_address=self.vault_address, function_selector="execute",
                                   asset_deltas=list(plan.asset_deltas), revert_reason=decoded or reason,
                                   revert_data=_hex(getattr(plan.error, "raw", None)),
                                   notes="refused before signing (routing or pre-flight); no gas spent")
        trade.mark_started(now)
        trade.set_blockchain_transactions([tx])
        trade.mark_failed(now)
        trade.add_note(f"not sent: {reason}")
        self.run_state.record_trade_failure(trade.trade_id, reason)
        logger.warning("trade %d refused before signing: %s", trade.trade_id, reason)
        save_trade(self.store, trade)

    def resume(self) -> list[TradeExecution]:
        """Reconcile the store with the chain; returns the trades it settled.

        Call it at start-up, before `execute_trades`. First the trades settled in the last
        `reorg.reorg_window(chain)` blocks are re-checked: one whose receipt a reorg removed or moved goes
        back to broadcasted. Then every trade the store holds as started or broadcasted is tracked with its
        stored transaction (stored bytes that never reached the node are sent again) and settled.
        """
        with self._leases():
            self._check_reorgs()
            log = WriteAheadLog(self.store, self.vault_address)
            resume_config = replace(self.tracker_config, drop_check_after=0.0)
            settled = resume_trades(self.client, self._tracker(log, resume_config), log, self.store,
                                    self.vault_address, self.run_state, self.config.native_token_price)
            self.wallet.sync_nonce(self.client)
            return settled

    def check_reorgs(self) -> list[TradeExecution]:
        """Take trades whose settlement a reorg undid back to broadcasted (see `reorg`); `resume()` calls it."""
        with self._leases():
            return self._check_reorgs()

    def _check_reorgs(self) -> list[TradeExecution]:
        return reopen_reorged_trades(self.client, self.store, self.run_state, reorg_window(self.wallet.chain_id))

    def repair(self, trade_ids: Sequence[int] | None = None, note: str | None = None,
               force: bool = False) -> RepairResult:
        """Close trades that cannot settle automatically (see `repair.repair_trades`); `force` (with trade ids
        and a note) closes trades that landed but cannot be settled, recording the receipt's facts. A receipt
        counts once it has the tracker's `confirmations` on top of it (`CONFIRMATIONS_BY_CHAIN` by default)."""
        with self._leases():
            return repair_trades(self.client, self.store, self.vault_address, self.run_state, trade_ids, note,
                                 self.config.native_token_price, force=force,
                                 confirmations=self.tracker_config.confirmations)

    def get_pending_trades(self) -> list[TradeExecution]:
        """Trades the store holds as started or broadcasted."""
        return self.store.list_by_status(TradeStatus.started.value, TradeStatus.broadcasted.value)


class _Tracking:
    """A sent chunk whose receipts are being fetched (on a helper thread, or at `join` when not `background`)."""

    def __init__(self, tracker: TransactionTracker, trades: list[TradeExecution], background: bool = True) -> None:
        self.tracker, self.trades = tracker, trades
        self.first_in_block: frozenset[str] = frozenset()
        self._step = InBackground(self._track, "vaultexec-track").start() if background else None

    def _track(self) -> None:
        self.first_in_block = track_round(self.tracker, self.trades)

    def join(self, error: BaseException | None = None) -> None:
        if self._step is not None:
            self._step.join(error)
        else:
            self._track()


@dataclass(frozen=True)
class _Tracked:
    """A chunk tracked to final receipts, not settled yet: its tracker, trades and first-in-block hashes."""

    tracker: TransactionTracker
    trades: list[TradeExecution]
    first_in_block: frozenset[str]


def _broadcast(tracker: TransactionTracker, log: WriteAheadLog, txs: Sequence[BlockchainTransaction]) -> None:
    """Send the batch (the client splits bodies a node would refuse as too big); the write of the trades a node
    accepted as broadcasted is held for `_store_held` (made at once if the sends raise).

    A store failure there is logged, not raised: the transactions are out, tracking and settling them is
    what matters now (their write-ahead records exist; settlement stores them again).
    """
    try:
        with log.batched(hold=True):
            tracker.broadcast(txs)
    except StoreError as exc:
        logger.error("batch of %d transactions sent, but storing it as broadcasted failed: %s", len(txs), exc)


def _store_held(log: WriteAheadLog) -> None:
    """Store the held broadcasted state of a chunk (one `update_many`); a failure is logged, as in `_broadcast`."""
    try:
        log.store_held()
    except StoreError as exc:
        logger.error("storing the sent chunk as broadcasted failed (settlement stores it again): %s", exc)


def _check_execute_arguments(trades: object, ts: object) -> None:
    """BadInputError for arguments in the wrong order or of the wrong type (a user mistake, not a crash)."""
    if isinstance(trades, datetime.datetime):
        raise BadInputError("execute_trades(trades, ts=None) got a datetime as its first argument: pass the "
                            "trades first, then the timestamp (execute_trades(trades, ts)).")
    if not isinstance(trades, Sequence) or isinstance(trades, str | bytes):
        raise BadInputError(f"execute_trades() needs a sequence of TradeExecution, got {type(trades).__name__}.")
    wrong = [type(t).__name__ for t in trades if not isinstance(t, TradeExecution)]
    if wrong:
        raise BadInputError(f"execute_trades() needs TradeExecution items, got {', '.join(sorted(set(wrong)))}.")
    if ts is not None and not isinstance(ts, datetime.datetime):
        raise BadInputError(f"execute_trades(trades, ts): ts must be a datetime or None, got {type(ts).__name__}.")
    if isinstance(ts, datetime.datetime) and ts.tzinfo is not None:
        raise BadInputError(f"execute_trades(trades, ts): ts {ts} is timezone-aware; pass naive UTC.")
    for trade in trades:
        check_storable(trade)  # every field the store needs, before anything is planned or signed


def _hex(raw: object) -> str | None:
    return "0x" + raw.hex() if isinstance(raw, bytes) else None
