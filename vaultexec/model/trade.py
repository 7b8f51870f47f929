"""TradeExecution: one planned swap and its lifecycle, field-compatible with trade-executor.

Lifecycle (the status is derived from timestamps, as in trade-executor)::

    planned --mark_started--> started --mark_broadcasted--> broadcasted --mark_success--> success
                                 |                              |
                                 +--------mark_failed-----------+--> failed
    started / broadcasted / failed --mark_repaired--> repaired

A repair trade (counter entry) carries `repaired_trade_id` and has status repair_entry. Transitions check
every argument before changing the trade, and lifecycle timestamps cannot go back (see `mark_*`).
Prices, fees and tolerances are `Decimal` here (strings in our JSON); trade-executor's float fields carry
`metadata=JSON_NUMBER`, so `model.compat` writes them as JSON numbers.
"""

from __future__ import annotations

import datetime
import enum
import logging
import pprint
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vaultexec.errors import BadInputError, IllegalTransitionError, SerialisationError
from vaultexec.model.deltas import (
    AssetDelta,
    calculate_exact_spend,
    calculate_min_receive,
    validate_slippage_tolerance,
)
from vaultexec.model.exact import exact_mul, to_decimal
from vaultexec.model.extra import ExecutorExtra
from vaultexec.model.identifiers import AssetIdentifier, TradingPairIdentifier
from vaultexec.model.serialisation import JSON_NUMBER, OMIT_EMPTY, JsonModel, encode_dataclass
from vaultexec.model.transaction import BlockchainTransaction, clean_revert_reason

logger = logging.getLogger(__name__)

#: Added to a sell's trade id by `get_execution_sort_position` so every sell sorts before every buy.
SELL_SORT_OFFSET = -(10**15)
#: Trade ids (and the ids a trade refers to) are 0..MAX_TRADE_ID, which keeps that ordering exact.
MAX_TRADE_ID = -SELL_SORT_OFFSET - 1


class TradeType(enum.StrEnum):
    """Why a trade was made."""

    rebalance = "rebalance"
    stop_loss = "stop_loss"
    take_profit = "take_profit"
    market_limit = "market_limit"
    #: Counter trade cancelling a broken trade's accounting.
    repair = "repair"
    #: Internal balances moved to match on-chain balances.
    accounting_correction = "accounting_correction"
    #: Partial take profit and other trigger orders (trade-executor).
    flexible_trigger = "flexible_trigger"


class TradeStatus(enum.StrEnum):
    """Resolved by `TradeExecution.get_status()`; never stored."""

    planned = "planned"
    started = "started"
    broadcasted = "broadcasted"
    success = "success"
    failed = "failed"
    repaired = "repaired"
    repair_entry = "repair_entry"
    #: Kept for trade-executor compatibility; no timestamp of the seed model leads to it.
    expired = "expired"


#: Trade types whose quantities may be zero and reserve may be zero (accounting entries).
_ACCOUNTING_TYPES = (TradeType.repair, TradeType.accounting_correction)
#: Where `mark_success(force=True)` may start: not failed or repaired (the status would not change).
_FORCED_SUCCESS_FROM = (
    TradeStatus.planned,
    TradeStatus.started,
    TradeStatus.broadcasted,
    TradeStatus.success,
    TradeStatus.repair_entry,
)


@dataclass
class TradePricing(JsonModel):
    """The price quote a trade was planned with (trade-executor's TradePricing; floats as Decimal).

    `lp_fee` / `pair_fee` accept a list or tuple and are stored as lists; None marks a hop whose fee is
    unknown (trade-executor writes `[null]`). Decimal fields also take ints and decimal strings.
    """

    price: Decimal = field(metadata=JSON_NUMBER)
    mid_price: Decimal = field(metadata=JSON_NUMBER)
    #: LP fee per hop, in the quote token.
    lp_fee: Sequence[Decimal | None] | None = field(default=None, metadata=JSON_NUMBER)
    #: Fee fraction per hop (0.003 = 0.3 %).
    pair_fee: Sequence[Decimal | None] | None = field(default=None, metadata=JSON_NUMBER)
    market_feed_delay: datetime.timedelta | None = None
    #: True for buy, False for sell.
    side: bool | None = None
    path: list[TradingPairIdentifier] | None = None
    read_at: datetime.datetime | None = None
    block_number: int | None = None
    token_in: Decimal | None = None
    token_out: Decimal | None = None
    #: trade-executor fields we do not model (set by `model.compat`); outside eq.
    executor_extra: ExecutorExtra | None = field(default=None, compare=False, repr=False, metadata=OMIT_EMPTY)


def _require_timestamp(value: object, what: str) -> datetime.datetime:
    """A transition's timestamp: a naive UTC datetime (None refused)."""
    if not isinstance(value, datetime.datetime):
        raise BadInputError(f"{what}: expected a naive UTC datetime, got {type(value).__name__} {value!r:.80}")
    if value.tzinfo is not None:
        raise BadInputError(f"{what}: {value} is timezone-aware; pass naive UTC")
    return value


def _check_trade_id(value: int | None, what: str) -> None:
    if value is not None and not 0 <= value <= MAX_TRADE_ID:
        raise BadInputError(f"{what} {value} outside 0..{MAX_TRADE_ID} (trade ids are non-negative, below 10**15)")


@dataclass
class TradeExecution(JsonModel):
    """One swap: buy = quote -> base (`planned_quantity` > 0), sell = base -> quote (< 0).

    `planned_reserve` is always positive, in `reserve_currency` (= `pair.quote`). Timestamps naive UTC.
    """

    trade_id: int
    position_id: int
    trade_type: TradeType
    pair: TradingPairIdentifier
    opened_at: datetime.datetime | None
    planned_quantity: Decimal
    planned_reserve: Decimal
    planned_price: Decimal = field(metadata=JSON_NUMBER)
    reserve_currency: AssetIdentifier
    reserve_currency_exchange_rate: Decimal | None = field(default=None, metadata=JSON_NUMBER)
    planned_mid_price: Decimal | None = field(default=None, metadata=JSON_NUMBER)
    #: 0.01 = 1 %.
    planned_max_slippage: Decimal | None = field(default=None, metadata=JSON_NUMBER)
    started_at: datetime.datetime | None = None
    reserve_currency_allocated: Decimal | None = None
    broadcasted_at: datetime.datetime | None = None
    executed_at: datetime.datetime | None = None
    failed_at: datetime.datetime | None = None
    executed_price: Decimal | None = field(default=None, metadata=JSON_NUMBER)
    executed_quantity: Decimal | None = None
    executed_reserve: Decimal | None = None
    #: In [0, 1): 0.005 = 0.5 %. Required by `calculate_asset_deltas`.
    slippage_tolerance: Decimal | None = field(default=None, metadata=JSON_NUMBER)
    #: LP fee as a fraction (0.003), recorded before execution.
    fee_tier: Decimal | None = field(default=None, metadata=JSON_NUMBER)
    lp_fees_paid: Decimal | None = field(default=None, metadata=JSON_NUMBER)
    lp_fees_estimated: Decimal | None = field(default=None, metadata=JSON_NUMBER)
    lp_fee_exchange_rate: Decimal | None = field(default=None, metadata=JSON_NUMBER)
    native_token_price: Decimal | None = field(default=None, metadata=JSON_NUMBER)
    retry_of: int | None = None
    blockchain_transactions: list[BlockchainTransaction] = field(default_factory=list)
    notes: str | None = None
    repaired_at: datetime.datetime | None = None
    #: On a repair trade: the id of the broken trade it counters.
    repaired_trade_id: int | None = None
    price_structure: TradePricing | None = None
    #: trade-executor fields we do not model (set by `model.compat`); outside eq.
    executor_extra: ExecutorExtra | None = field(default=None, compare=False, repr=False, metadata=OMIT_EMPTY)

    def validate(self) -> None:
        """Ids in range; buys positive, sells negative, reserve positive (zero only for accounting entries)."""
        name = f"trade #{self.trade_id}"
        _check_trade_id(self.trade_id, f"{name}: trade_id")
        _check_trade_id(self.retry_of, f"{name}: retry_of")
        _check_trade_id(self.repaired_trade_id, f"{name}: repaired_trade_id")
        accounting = self.trade_type in _ACCOUNTING_TYPES
        if self.planned_reserve < 0 or (self.planned_reserve == 0 and not accounting):
            raise BadInputError(
                f"{name}: planned_reserve {self.planned_reserve} must be positive "
                f"(the sign of planned_quantity tells buy from sell)"
            )
        if self.planned_quantity == 0 and not accounting:
            raise BadInputError(f"{name}: planned_quantity is zero; buys are positive, sells negative")
        if self.slippage_tolerance is not None:
            validate_slippage_tolerance(self.slippage_tolerance)

    # ------------------------------------------------------------ status

    @property
    def strategy_cycle_at(self) -> datetime.datetime | None:
        """Alias of `opened_at`."""
        return self.opened_at

    def get_status(self) -> TradeStatus:
        """Resolve the status from the timestamps, latest stage first."""
        if self.repaired_at is not None:
            return TradeStatus.repaired
        if self.repaired_trade_id is not None:
            return TradeStatus.repair_entry
        if self.failed_at is not None:
            return TradeStatus.failed
        if self.executed_at is not None:
            return TradeStatus.success
        if self.broadcasted_at is not None:
            return TradeStatus.broadcasted
        if self.started_at is not None:
            return TradeStatus.started
        return TradeStatus.planned

    def is_buy(self) -> bool:
        return self.planned_quantity > 0

    def is_sell(self) -> bool:
        return self.planned_quantity < 0

    def is_success(self) -> bool:
        return self.get_status() == TradeStatus.success

    def is_failed(self) -> bool:
        return self.get_status() == TradeStatus.failed

    def is_pending(self) -> bool:
        """Started or broadcast, outcome not known yet."""
        return self.get_status() in (TradeStatus.started, TradeStatus.broadcasted)

    def is_planned(self) -> bool:
        return self.get_status() == TradeStatus.planned

    def is_started(self) -> bool:
        return self.get_status() == TradeStatus.started

    def is_unfinished(self) -> bool:
        """Broadcast, but the outcome was never read back from the chain."""
        return self.get_status() == TradeStatus.broadcasted

    def is_repaired(self) -> bool:
        return self.get_status() == TradeStatus.repaired

    def is_executed(self) -> bool:
        """A block holding this trade was seen (success, or success later repaired)."""
        return self.executed_at is not None

    def is_repair_needed(self) -> bool:
        return self.is_failed() and not self.is_repaired()

    def is_repair_trade(self) -> bool:
        return self.repaired_trade_id is not None

    def is_accounting_correction(self) -> bool:
        return self.trade_type == TradeType.accounting_correction

    def is_rebalance(self) -> bool:
        return self.trade_type == TradeType.rebalance

    def is_stop_loss(self) -> bool:
        return self.trade_type == TradeType.stop_loss

    def is_take_profit(self) -> bool:
        return self.trade_type == TradeType.take_profit

    def is_triggered(self) -> bool:
        return self.trade_type in (TradeType.stop_loss, TradeType.take_profit, TradeType.market_limit)

    def is_accounted_for_equity(self) -> bool:
        """Failed and repaired trades were reverted on chain; they do not count."""
        return self.get_status() in (TradeStatus.started, TradeStatus.broadcasted, TradeStatus.success)

    # ------------------------------------------------------------ transitions

    def _require_status(self, target: TradeStatus, *allowed: TradeStatus) -> None:
        current = self.get_status()
        if current not in allowed:
            names = " or ".join(s.value for s in allowed)
            raise IllegalTransitionError(
                f"trade #{self.trade_id} ({self.pair.get_ticker()}) cannot go from {current.value} to "
                f"{target.value}: only from {names}"
            )

    def _require_not_before(self, when: datetime.datetime, what: str, *stages: str) -> None:
        """Refuse a timestamp earlier than those of the given earlier `stages` (field names)."""
        for stage in stages:
            earlier = getattr(self, stage)
            if earlier is not None and when < earlier:
                raise IllegalTransitionError(
                    f"trade #{self.trade_id}: {what} {when} is earlier than its {stage} {earlier}; "
                    f"lifecycle timestamps cannot go back"
                )

    def mark_started(self, started_at: datetime.datetime, allocated: Decimal | None = None) -> None:
        """planned -> started; `allocated` = reserve moved to the trade (default planned_reserve on buys)."""
        when = _require_timestamp(started_at, "started_at")
        allocation = self.reserve_currency_allocated
        if allocated is not None:
            allocation = to_decimal(allocated, f"trade #{self.trade_id} allocated")
        elif self.is_buy():
            allocation = self.planned_reserve
        self._require_status(TradeStatus.started, TradeStatus.planned)
        self.started_at = when
        self.reserve_currency_allocated = allocation
        logger.debug("Trade %d started", self.trade_id)

    def mark_broadcasted(self, broadcasted_at: datetime.datetime) -> None:
        """started -> broadcasted; not earlier than started_at."""
        when = _require_timestamp(broadcasted_at, "broadcasted_at")
        self._require_status(TradeStatus.broadcasted, TradeStatus.started)
        self._require_not_before(when, "broadcasted_at", "started_at")
        self.broadcasted_at = when

    def mark_success(
        self,
        executed_at: datetime.datetime,
        executed_price: Decimal,
        executed_quantity: Decimal,
        executed_reserve: Decimal,
        lp_fees: Decimal | None,
        native_token_price: Decimal | None,
        force: bool = False,
    ) -> None:
        """broadcasted -> success, not earlier than started_at.

        `force` (repairs, accounting corrections) skips the broadcast and timestamp checks, but cannot make a
        failed or repaired trade successful: its status would still say failed/repaired (undo a failure with
        `mark_reorged`). `executed_quantity` has the sign of `planned_quantity`; `executed_reserve` is positive.
        Every argument is checked before the trade changes.
        """
        name = f"trade #{self.trade_id}"
        when = _require_timestamp(executed_at, "executed_at")
        if force:
            self._require_status(TradeStatus.success, *_FORCED_SUCCESS_FROM)
        else:
            self._require_status(TradeStatus.success, TradeStatus.broadcasted)
            self._require_not_before(when, "executed_at", "started_at")
        price = to_decimal(executed_price, f"{name} executed_price")
        quantity = to_decimal(executed_quantity, f"{name} executed_quantity")
        reserve = to_decimal(executed_reserve, f"{name} executed_reserve")
        fees = None if lp_fees is None else to_decimal(lp_fees, f"{name} lp_fees")
        native = None if native_token_price is None else to_decimal(native_token_price, f"{name} native price")
        if quantity * self.planned_quantity < 0 or (quantity == 0 and not force):
            raise BadInputError(
                f"{name}: executed_quantity {quantity} does not match the direction of "
                f"planned_quantity {self.planned_quantity}"
            )
        if reserve < 0:
            raise BadInputError(f"{name}: executed_reserve {reserve} must not be negative")
        if price < 0:
            raise BadInputError(f"{name}: executed_price {price} must not be negative")
        self.executed_at = when
        self.executed_price = price
        self.executed_quantity = quantity
        self.executed_reserve = reserve
        self.lp_fees_paid = fees
        self.native_token_price = native

    def mark_failed(self, failed_at: datetime.datetime) -> None:
        """started | broadcasted -> failed (started: refused before broadcast, e.g. by pre-flight).

        Not earlier than started_at. broadcasted_at is no lower bound: when a crash lost the broadcast time,
        settlement fills it in with the time it noticed, after the inclusion time it then records.
        """
        when = _require_timestamp(failed_at, "failed_at")
        self._require_status(TradeStatus.failed, TradeStatus.started, TradeStatus.broadcasted)
        self._require_not_before(when, "failed_at", "started_at")
        self.failed_at = when

    def mark_repaired(self, repaired_at: datetime.datetime, note: str | None = None) -> None:
        """started | broadcasted | failed -> repaired: the trade's accounting was fixed by hand.

        Not earlier than any timestamp the trade already has.
        """
        when = _require_timestamp(repaired_at, "repaired_at")
        if note is not None and not isinstance(note, str):
            raise BadInputError(f"trade #{self.trade_id}: note must be a str, got {note!r:.80}")
        self._require_status(TradeStatus.repaired, TradeStatus.started, TradeStatus.broadcasted, TradeStatus.failed)
        self._require_not_before(when, "repaired_at", "started_at", "broadcasted_at", "failed_at")
        self.repaired_at = when
        if note:
            self.add_note(note)

    def mark_reorged(self, reason: str) -> None:
        """success | failed -> broadcasted: the block that settled the trade left the canonical chain.

        The execution results are cleared so that nothing settled on a dropped block stays on the trade.
        """
        if not isinstance(reason, str):
            raise BadInputError(f"trade #{self.trade_id}: reorg reason must be a str, got {reason!r:.80}")
        self._require_status(TradeStatus.broadcasted, TradeStatus.success, TradeStatus.failed)
        self.executed_at = None
        self.failed_at = None
        self.executed_price = None
        self.executed_quantity = None
        self.executed_reserve = None
        self.lp_fees_paid = None
        self.native_token_price = None
        self.add_note(f"reorged: {reason}")

    def add_note(self, line: str) -> None:
        """Append a line to `notes`."""
        if not isinstance(line, str):
            raise BadInputError(f"trade #{self.trade_id}: a note must be a str, got {line!r:.80}")
        self.notes = line if not self.notes else f"{self.notes}\n{line}"

    def set_blockchain_transactions(self, txs: Sequence[BlockchainTransaction]) -> None:
        """Attach the transactions carrying this trade; refused once it has been broadcast."""
        if not isinstance(txs, list | tuple) or any(type(tx) is not BlockchainTransaction for tx in txs):
            raise BadInputError(f"trade #{self.trade_id}: expected a list of BlockchainTransaction, got {txs!r:.80}")
        self._require_status(TradeStatus.broadcasted, TradeStatus.planned, TradeStatus.started)
        self.blockchain_transactions = list(txs)

    # ------------------------------------------------------------ assets and amounts

    def get_input_asset(self) -> AssetIdentifier:
        """What the trade spends: the reserve on buys, the base token on sells."""
        return self.reserve_currency if self.is_buy() else self.pair.base

    def get_output_asset(self) -> AssetIdentifier:
        return self.pair.base if self.is_buy() else self.reserve_currency

    def get_raw_planned_reserve(self) -> int:
        """`planned_reserve` in raw reserve units, rounded down."""
        return self.reserve_currency.convert_to_raw_floor(self.planned_reserve)

    def get_raw_planned_quantity(self) -> int:
        """`planned_quantity` in raw base units, magnitude rounded down, sign kept."""
        raw = self.pair.base.convert_to_raw_floor(self.planned_quantity.copy_abs())
        return raw if self.planned_quantity >= 0 else -raw

    def _check_route_assets(self) -> None:
        quote = self.pair.quote
        reserve = self.reserve_currency
        if reserve.address != quote.address or reserve.chain_id != quote.chain_id:
            raise BadInputError(
                f"trade #{self.trade_id}: reserve currency {reserve} is not the pair's quote {quote}; "
                f"express multi-hop routes with TradingPairIdentifier.intermediary_pair"
            )
        if reserve.decimals != quote.decimals:
            raise BadInputError(
                f"trade #{self.trade_id}: decimals mismatch for {quote.token_symbol}: reserve currency says "
                f"{reserve.decimals}, pair quote says {quote.decimals}"
            )

    def calculate_asset_deltas(self) -> list[AssetDelta]:
        """[spend, minimum receive] of the vault for this trade, in raw units.

        Buy: spend planned_reserve of the quote (floor), receive planned_quantity * (1 - tolerance) of
        the base (ceil). Sell: spend |planned_quantity| of the base (floor), receive planned_reserve *
        (1 - tolerance) of the quote (ceil). Three-way routes: only the first input and final output.
        """
        self._check_route_assets()
        tolerance = self.slippage_tolerance
        if tolerance is None:
            raise BadInputError(
                f"trade #{self.trade_id}: slippage_tolerance is not set; vault trades need it for the minimum receive"
            )
        if self.is_buy():
            spend = calculate_exact_spend(self.planned_reserve, self.reserve_currency)
            receive = calculate_min_receive(self.planned_quantity, tolerance, self.pair.base)
            return [AssetDelta(self.reserve_currency, -spend), AssetDelta(self.pair.base, receive)]
        if self.is_sell():
            spend = calculate_exact_spend(self.planned_quantity.copy_negate(), self.pair.base)
            receive = calculate_min_receive(self.planned_reserve, tolerance, self.reserve_currency)
            return [AssetDelta(self.pair.base, -spend), AssetDelta(self.reserve_currency, receive)]
        raise BadInputError(f"trade #{self.trade_id}: zero planned_quantity moves no tokens")

    def get_planned_reserve(self) -> Decimal:
        return self.planned_reserve

    def get_position_quantity(self) -> Decimal:
        """Executed base quantity once executed, else planned; positive buy, negative sell."""
        if self.executed_quantity is not None and self.is_executed():
            return self.executed_quantity
        return self.planned_quantity

    def get_reserve_quantity(self) -> Decimal:
        """Executed or planned reserve change: negative on buys (spent), positive on sells."""
        if self.executed_reserve is not None and self.is_executed():
            amount = self.executed_reserve
        else:
            amount = self.planned_reserve
        return amount.copy_negate() if self.is_buy() else amount

    def get_credit_debit(self) -> tuple[Decimal, Decimal]:
        """(base quantity, reserve quantity): (+q, -r) on buys, (-q, +r) on sells."""
        return self.get_position_quantity(), self.get_reserve_quantity()

    def get_equity_for_position(self) -> Decimal:
        """Base quantity this trade adds to its position: executed quantity once successful, else 0."""
        if self.is_success() and self.executed_quantity is not None:
            return self.executed_quantity
        return Decimal(0)

    def get_equity_for_reserve(self) -> Decimal:
        """Reserve still held by an in-flight buy (allocated, not yet swapped), else 0."""
        if self.is_buy() and self.is_pending():
            return self.reserve_currency_allocated or Decimal(0)
        return Decimal(0)

    def get_allocated_value(self) -> Decimal:
        return self.reserve_currency_allocated or Decimal(0)

    def get_reserve_currency_exchange_rate(self) -> Decimal:
        """Reserve token -> USD rate; 1 when unknown (legacy data)."""
        return self.reserve_currency_exchange_rate or Decimal(1)

    def get_planned_value(self) -> Decimal:
        """|planned_price * planned_quantity|, exact."""
        return exact_mul(self.planned_price, self.planned_quantity).copy_abs()

    def get_executed_value(self) -> Decimal:
        """|executed_price * executed_quantity|, exact; 0 before execution."""
        if self.executed_price is None or self.executed_quantity is None:
            return Decimal(0)
        return exact_mul(self.executed_price, self.executed_quantity).copy_abs()

    def get_value(self) -> Decimal:
        """Realised value on success, 0 when failed, planned value otherwise; always positive."""
        status = self.get_status()
        if status == TradeStatus.success:
            return self.get_executed_value()
        if status in (TradeStatus.failed, TradeStatus.repaired):
            return Decimal(0)
        return self.get_planned_value()

    def get_fees_paid(self) -> Decimal:
        """LP fees paid, 0 when unknown."""
        return self.lp_fees_paid or Decimal(0)

    def get_execution_sort_position(self) -> int:
        """Sort key: every sell before every buy (sells free the cash buys need), then by trade id.

        Sells get `trade_id + SELL_SORT_OFFSET` (negative), buys their id; exact for ids 0..MAX_TRADE_ID.
        """
        _check_trade_id(self.trade_id, f"trade #{self.trade_id}: trade_id")
        return self.trade_id + SELL_SORT_OFFSET if self.is_sell() else self.trade_id

    def get_decision_lag(self) -> datetime.timedelta | None:
        """started_at - opened_at: how long the decision took after the cycle began."""
        if self.started_at is None or self.opened_at is None:
            return None
        return self.started_at - self.opened_at

    def get_execution_lag(self) -> datetime.timedelta | None:
        """executed_at - opened_at."""
        if self.executed_at is None or self.opened_at is None:
            return None
        return self.executed_at - self.opened_at

    def get_planned_max_gas_price(self) -> int:
        """Highest wei-per-gas any of the trade's transactions may pay; 0 without transactions."""
        return max((tx.get_planned_gas_price() for tx in self.blockchain_transactions), default=0)

    def get_failed_transaction(self) -> BlockchainTransaction | None:
        """The last reverted transaction of the trade."""
        for tx in reversed(self.blockchain_transactions):
            if tx.is_reverted():
                return tx
        return None

    def get_revert_reason(self) -> str | None:
        """Cleaned revert reason of the last reverted transaction; for a failed trade that never reverted on
        chain (refused before signing, by routing or pre-flight), the reason its transaction holds."""
        tx = self.get_failed_transaction()
        if tx is None and self.is_failed():
            tx = next((t for t in reversed(self.blockchain_transactions) if t.revert_reason), None)
        return None if tx is None else clean_revert_reason(tx.revert_reason)

    # ------------------------------------------------------------ display

    def get_human_description(self) -> str:
        """E.g. "Buy 0.5 WETH <WETH-USDC> at 2000 USDC, planned phase"."""
        side = "Buy" if self.is_buy() else "Sell" if self.is_sell() else "Adjust"
        return (
            f"{side} {self.planned_quantity.copy_abs()} {self.pair.base.token_symbol} <{self.pair.get_ticker()}> "
            f"at {self.planned_price} {self.pair.quote.token_symbol}, {self.get_status().value} phase"
        )

    def __str__(self) -> str:
        return f"<Trade #{self.trade_id} {self.get_human_description()}>"

    def pretty_print(self) -> str:
        """Multi-line diagnostic dump of every field (repr when a field is invalid, e.g. in a crash log)."""
        try:
            data: dict[str, Any] = encode_dataclass(self)
        except SerialisationError as e:
            return f"{self!r}\n(not serialisable: {e})"
        return pprint.pformat(data, sort_dicts=False)

    def get_full_debug_dump_str(self) -> str:
        """Description, status and every field, for logs of failed trades."""
        return f"{self}\nstatus: {self.get_status().value}\n{self.pretty_print()}"
