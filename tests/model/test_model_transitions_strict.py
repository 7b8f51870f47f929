"""Lifecycle transitions check everything before changing the trade; timestamps never go back; sort order."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from model_samples import T0, make_trade

from vaultexec.errors import BadInputError, IllegalTransitionError
from vaultexec.model import BlockchainTransaction, RunState, TradeExecution, TradeStatus, TradeType, dump_json
from vaultexec.model.trade import MAX_TRADE_ID

S = datetime.timedelta(seconds=1)
AWARE = (T0 + 9 * S).replace(tzinfo=datetime.UTC)


def broadcast_trade(**overrides: Any) -> TradeExecution:
    trade = make_trade(**overrides)
    trade.mark_started(T0 + S)
    trade.mark_broadcasted(T0 + 2 * S)
    return trade


GOOD_SUCCESS: dict[str, Any] = {
    "executed_at": T0 + 3 * S,
    "executed_price": Decimal(2000),
    "executed_quantity": Decimal("0.5"),
    "executed_reserve": Decimal(1000),
    "lp_fees": Decimal("0.5"),
    "native_token_price": Decimal(3000),
}


@pytest.mark.parametrize(
    ("argument", "bad"),
    [
        ("lp_fees", 0.3),
        ("native_token_price", 3000.0),
        ("native_token_price", "NaN"),
        ("executed_price", 1.5),
        ("executed_price", Decimal(-1)),
        ("executed_quantity", "half"),
        ("executed_reserve", None),
        ("executed_at", None),
        ("executed_at", AWARE),
    ],
)
def test_refused_success_leaves_the_trade_unchanged_and_can_be_retried(argument: str, bad: object) -> None:
    trade = broadcast_trade()
    before = dump_json(trade)
    with pytest.raises(BadInputError):
        trade.mark_success(**{**GOOD_SUCCESS, argument: bad})
    assert trade.get_status() == TradeStatus.broadcasted
    assert dump_json(trade) == before
    trade.mark_success(**GOOD_SUCCESS)  # the retry with good values works
    assert trade.is_success() and trade.lp_fees_paid == Decimal("0.5")


@pytest.mark.parametrize(("started_at", "allocated"), [(T0, 1000.0), (T0, "lots"), (None, None), (AWARE, None)])
def test_refused_start_leaves_the_trade_planned(started_at: Any, allocated: Any) -> None:
    trade = make_trade()
    before = dump_json(trade)
    with pytest.raises(BadInputError):
        trade.mark_started(started_at, allocated=allocated)
    assert trade.is_planned() and dump_json(trade) == before
    trade.mark_started(T0, allocated=Decimal(1000))
    assert trade.is_started() and trade.reserve_currency_allocated == Decimal(1000)


def test_other_transitions_refuse_bad_arguments_before_changing_anything() -> None:
    trade = broadcast_trade()
    before = dump_json(trade)
    with pytest.raises(BadInputError):
        trade.mark_failed(None)  # type: ignore[arg-type]
    with pytest.raises(BadInputError):
        trade.mark_repaired(T0 + 5 * S, note=5)  # type: ignore[arg-type]
    with pytest.raises(BadInputError):
        trade.add_note(5)  # type: ignore[arg-type]
    with pytest.raises(BadInputError):
        trade.mark_reorged(None)  # type: ignore[arg-type]
    assert dump_json(trade) == before
    planned = make_trade()
    for txs in (None, [None], "0x01", [BlockchainTransaction(), 1]):
        with pytest.raises(BadInputError, match="list of BlockchainTransaction"):
            planned.set_blockchain_transactions(txs)  # type: ignore[arg-type]
    assert planned.blockchain_transactions == []


# ---------------------------------------------------------------- forced success


def test_forced_success_refused_on_failed_and_repaired_trades() -> None:
    trade = make_trade()
    trade.mark_started(T0)
    trade.mark_failed(T0 + S)
    before = dump_json(trade)
    with pytest.raises(IllegalTransitionError, match="from failed to success"):
        trade.mark_success(**GOOD_SUCCESS, force=True)
    assert trade.is_failed() and trade.executed_quantity is None and dump_json(trade) == before
    trade.mark_repaired(T0 + 2 * S)
    with pytest.raises(IllegalTransitionError, match="from repaired to success"):
        trade.mark_success(**GOOD_SUCCESS, force=True)


def test_forced_success_allowed_on_repair_entries_and_before_broadcast() -> None:
    counter = make_trade(trade_id=2, trade_type=TradeType.repair, repaired_trade_id=1)
    counter.mark_success(**GOOD_SUCCESS, force=True)
    assert counter.get_status() == TradeStatus.repair_entry and counter.executed_quantity == Decimal("0.5")
    started = make_trade()
    started.mark_started(T0 + 10 * S)
    started.mark_success(**GOOD_SUCCESS, force=True)  # force also skips the timestamp order
    assert started.is_success()


# ---------------------------------------------------------------- timestamp order


def test_broadcast_earlier_than_start_refused() -> None:
    trade = make_trade()
    trade.mark_started(T0 + 5 * S)
    with pytest.raises(IllegalTransitionError, match=r"broadcasted_at .* is earlier than its started_at"):
        trade.mark_broadcasted(T0 + 4 * S)
    assert trade.is_started() and trade.broadcasted_at is None
    trade.mark_broadcasted(T0 + 5 * S)  # the same instant is fine
    assert trade.get_status() == TradeStatus.broadcasted


def test_settlement_and_failure_earlier_than_start_refused() -> None:
    trade = broadcast_trade()
    with pytest.raises(IllegalTransitionError, match=r"executed_at .* earlier than its started_at"):
        trade.mark_success(**{**GOOD_SUCCESS, "executed_at": T0})
    with pytest.raises(IllegalTransitionError, match=r"failed_at .* earlier than its started_at"):
        trade.mark_failed(T0)
    assert trade.get_status() == TradeStatus.broadcasted


def test_settlement_may_precede_a_late_recorded_broadcast_time() -> None:
    """After a crash, settlement records the broadcast when it notices it, after the inclusion time."""
    trade = make_trade()
    trade.mark_started(T0 + S)
    trade.mark_broadcasted(T0 + 10 * S)
    trade.mark_success(**{**GOOD_SUCCESS, "executed_at": T0 + 5 * S})
    assert trade.is_success()


def test_repair_earlier_than_failure_refused() -> None:
    trade = broadcast_trade()
    trade.mark_failed(T0 + 5 * S)
    with pytest.raises(IllegalTransitionError, match=r"repaired_at .* earlier than its failed_at"):
        trade.mark_repaired(T0 + 4 * S)
    assert trade.is_failed()
    trade.mark_repaired(T0 + 6 * S)
    assert trade.is_repaired()


# ---------------------------------------------------------------- execution order


def test_sells_sort_before_buys_for_every_allowed_id() -> None:
    last_sell = make_trade(trade_id=MAX_TRADE_ID, planned_quantity=Decimal(-1))
    first_buy = make_trade(trade_id=0)
    assert last_sell.get_execution_sort_position() < first_buy.get_execution_sort_position()


@pytest.mark.parametrize("trade_id", [MAX_TRADE_ID + 1, 2 * 10**15, -1])
def test_trade_ids_outside_the_sortable_range_refused(trade_id: int) -> None:
    with pytest.raises(BadInputError, match=r"trade_id .* outside 0\.\.999999999999999"):
        make_trade(trade_id=trade_id)
    with pytest.raises(BadInputError, match="repaired_trade_id"):
        make_trade(repaired_trade_id=trade_id)


def test_id_changed_out_of_range_after_construction_is_caught() -> None:
    sell = make_trade(planned_quantity=Decimal(-1))
    sell.trade_id = 2 * 10**15
    with pytest.raises(BadInputError, match="outside"):
        sell.get_execution_sort_position()


# ---------------------------------------------------------------- run state


def test_set_fail_also_marks_the_last_refresh() -> None:
    state = RunState(last_refreshed_at=T0)
    crash = T0 + 60 * S
    state.set_fail(RuntimeError("boom"), now=crash)
    assert state.crashed_at == crash and state.last_refreshed_at == crash
    with pytest.raises(BadInputError):
        RunState().set_fail(RuntimeError("boom"), now=AWARE)
