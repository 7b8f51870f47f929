"""TradeExecution: construction rules, lifecycle transitions and every getter, worked by hand."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from model_samples import T0, USDC, WETH, make_trade

from vaultexec.errors import BadInputError, IllegalTransitionError
from vaultexec.model import BlockchainTransaction, TradeExecution, TradeStatus, TradeType

S = datetime.timedelta(seconds=1)


def broadcast_trade(**overrides: object) -> TradeExecution:
    trade = make_trade(**overrides)
    trade.mark_started(T0 + 2 * S)
    trade.mark_broadcasted(T0 + 3 * S)
    return trade


def test_build_rules() -> None:
    with pytest.raises(BadInputError, match="planned_quantity is zero"):
        make_trade(planned_quantity=Decimal(0))
    with pytest.raises(BadInputError, match="planned_reserve -1 must be positive"):
        make_trade(planned_reserve=Decimal(-1))
    with pytest.raises(BadInputError, match="must be positive"):
        make_trade(planned_reserve=Decimal(0))
    with pytest.raises(BadInputError, match="float"):
        make_trade(planned_quantity=0.5)
    with pytest.raises(BadInputError, match="slippage tolerance"):
        make_trade(slippage_tolerance=Decimal(1))
    with pytest.raises(BadInputError, match="timezone-aware"):
        make_trade(opened_at=T0.replace(tzinfo=datetime.UTC))
    # accounting entries may carry zero amounts
    repair = make_trade(trade_type=TradeType.repair, planned_quantity=Decimal(0), planned_reserve=Decimal(0))
    assert repair.planned_reserve == 0


def test_int_and_string_amounts_become_decimal() -> None:
    trade = make_trade(planned_quantity=2, planned_reserve="4000.5")
    assert trade.planned_quantity == Decimal(2) and isinstance(trade.planned_quantity, Decimal)
    assert trade.planned_reserve == Decimal("4000.5")


def test_happy_path_buy() -> None:
    trade = make_trade()
    assert trade.get_status() == TradeStatus.planned and trade.is_planned()
    trade.mark_started(T0 + 2 * S)
    assert trade.is_started() and trade.is_pending()
    assert trade.reserve_currency_allocated == Decimal(1000)
    assert trade.get_equity_for_reserve() == Decimal(1000)
    trade.mark_broadcasted(T0 + 3 * S)
    assert trade.get_status() == TradeStatus.broadcasted and trade.is_unfinished() and trade.is_pending()
    trade.mark_success(
        T0 + 15 * S,
        Decimal("2010"),
        Decimal("0.4975"),
        Decimal("1000"),
        lp_fees=Decimal("0.5"),
        native_token_price=Decimal("2010"),
    )
    assert trade.is_success() and trade.is_executed() and not trade.is_pending()
    # 0.4975 WETH * 2010 = 999.975
    assert trade.get_executed_value() == Decimal("999.975")
    assert trade.get_value() == Decimal("999.975")
    assert trade.get_credit_debit() == (Decimal("0.4975"), Decimal("-1000"))
    assert trade.get_equity_for_position() == Decimal("0.4975")
    assert trade.get_equity_for_reserve() == 0
    assert trade.get_fees_paid() == Decimal("0.5")
    assert trade.get_decision_lag() == 2 * S
    assert trade.get_execution_lag() == 15 * S
    assert trade.is_accounted_for_equity()


def test_illegal_transitions_name_trade_and_states() -> None:
    trade = make_trade(trade_id=42)
    with pytest.raises(IllegalTransitionError, match=r"trade #42 .* from planned to success"):
        trade.mark_success(T0, Decimal(1), Decimal("0.5"), Decimal(1000), None, None)
    with pytest.raises(IllegalTransitionError, match="from planned to broadcasted"):
        trade.mark_broadcasted(T0)
    with pytest.raises(IllegalTransitionError, match="from planned to failed"):
        trade.mark_failed(T0)
    with pytest.raises(IllegalTransitionError, match="from planned to repaired"):
        trade.mark_repaired(T0)
    trade.mark_started(T0)
    with pytest.raises(IllegalTransitionError, match="from started to started"):
        trade.mark_started(T0)
    with pytest.raises(IllegalTransitionError, match="from started to success"):
        trade.mark_success(T0, Decimal(1), Decimal("0.5"), Decimal(1000), None, None)


def test_success_forced_on_planned_trade() -> None:
    trade = make_trade()
    trade.mark_success(T0, Decimal(2000), Decimal("0.5"), Decimal(1000), None, None, force=True)
    assert trade.is_success()


def test_success_with_wrong_direction_refused() -> None:
    trade = broadcast_trade()
    with pytest.raises(BadInputError, match="direction"):
        trade.mark_success(T0 + 4 * S, Decimal(2000), Decimal("-0.5"), Decimal(1000), None, None)
    with pytest.raises(BadInputError, match="negative"):
        trade.mark_success(T0 + 4 * S, Decimal(2000), Decimal("0.5"), Decimal(-1), None, None)
    assert trade.get_status() == TradeStatus.broadcasted


def test_failure_and_repair() -> None:
    tx = BlockchainTransaction(status=False, revert_reason="execution reverted: Too little received")
    ok = BlockchainTransaction(status=True)
    trade = make_trade()
    trade.mark_started(T0)
    trade.set_blockchain_transactions([tx, ok])
    trade.mark_broadcasted(T0 + S)
    trade.mark_failed(T0 + 2 * S)
    assert trade.is_failed() and trade.is_repair_needed() and not trade.is_accounted_for_equity()
    assert trade.get_value() == 0
    assert trade.get_failed_transaction() is tx
    assert trade.get_revert_reason() == "Too little received"
    with pytest.raises(IllegalTransitionError, match="from failed to failed"):
        trade.mark_failed(T0)
    trade.mark_repaired(T0 + 3 * S, note="fixed by hand")
    assert trade.is_repaired() and not trade.is_repair_needed()
    assert trade.notes == "fixed by hand"
    with pytest.raises(IllegalTransitionError, match="from repaired to repaired"):
        trade.mark_repaired(T0)


def test_failure_before_broadcast_allowed() -> None:
    trade = make_trade()
    trade.mark_started(T0)
    trade.mark_failed(T0 + S)
    assert trade.get_status() == TradeStatus.failed


def test_repair_entry_status() -> None:
    counter = make_trade(trade_id=2, trade_type=TradeType.repair, repaired_trade_id=1)
    assert counter.get_status() == TradeStatus.repair_entry
    assert counter.is_repair_trade() and not make_trade().is_repair_trade()


def test_transactions_frozen_after_broadcast() -> None:
    trade = broadcast_trade()
    with pytest.raises(IllegalTransitionError, match="from broadcasted"):
        trade.set_blockchain_transactions([])


def test_sell_getters() -> None:
    # sell 0.25 WETH planned at 2000 -> 500 USDC
    trade = make_trade(planned_quantity=Decimal("-0.25"), planned_reserve=Decimal(500), trade_id=7)
    assert trade.is_sell() and not trade.is_buy()
    assert trade.get_input_asset() == WETH and trade.get_output_asset() == USDC
    assert trade.get_planned_value() == Decimal(500)
    assert trade.get_credit_debit() == (Decimal("-0.25"), Decimal(500))
    assert trade.get_raw_planned_quantity() == -250_000_000_000_000_000
    assert trade.get_raw_planned_reserve() == 500_000_000
    trade.mark_started(T0)
    assert trade.reserve_currency_allocated is None
    assert trade.get_equity_for_reserve() == 0


def test_raw_planned_rounds_magnitude_down() -> None:
    trade = make_trade(planned_quantity=Decimal("-0.0000000000000000015"), planned_reserve=Decimal("1.0000009"))
    assert trade.get_raw_planned_quantity() == -1
    assert trade.get_raw_planned_reserve() == 1_000_000


def test_buy_input_output() -> None:
    trade = make_trade()
    assert trade.get_input_asset() == USDC and trade.get_output_asset() == WETH
    assert trade.get_planned_reserve() == Decimal(1000)
    assert trade.get_position_quantity() == Decimal("0.5")
    assert trade.get_reserve_quantity() == Decimal(-1000)
    assert trade.get_equity_for_position() == 0
    assert trade.get_allocated_value() == 0
    assert trade.get_reserve_currency_exchange_rate() == 1
    assert trade.get_fees_paid() == 0
    assert trade.get_decision_lag() is None and trade.get_execution_lag() is None
    assert trade.strategy_cycle_at == T0


def test_sells_sort_before_buys() -> None:
    buy_1 = make_trade(trade_id=1)
    sell_5 = make_trade(trade_id=5, planned_quantity=Decimal(-1))
    sell_3 = make_trade(trade_id=3, planned_quantity=Decimal(-1))
    buy_2 = make_trade(trade_id=2)
    ordered = sorted([buy_1, sell_5, sell_3, buy_2], key=lambda t: t.get_execution_sort_position())
    assert [t.trade_id for t in ordered] == [3, 5, 1, 2]


def test_trade_type_predicates() -> None:
    assert make_trade().is_rebalance()
    assert make_trade(trade_type=TradeType.stop_loss).is_stop_loss()
    assert make_trade(trade_type=TradeType.take_profit).is_take_profit()
    assert make_trade(trade_type=TradeType.stop_loss).is_triggered()
    assert not make_trade().is_triggered()
    assert make_trade(trade_type=TradeType.accounting_correction).is_accounting_correction()


def test_planned_max_gas_price() -> None:
    trade = make_trade()
    assert trade.get_planned_max_gas_price() == 0
    trade.set_blockchain_transactions([BlockchainTransaction(max_fee_per_gas=30), BlockchainTransaction(gas_price=45)])
    assert trade.get_planned_max_gas_price() == 45


def test_descriptions() -> None:
    trade = make_trade()
    assert trade.get_human_description() == "Buy 0.5 WETH <WETH-USDC> at 2000 USDC, planned phase"
    assert "'planned_quantity': '0.5'" in trade.pretty_print()
    dump = trade.get_full_debug_dump_str()
    assert dump.startswith("<Trade #1 Buy 0.5 WETH") and "status: planned" in dump
