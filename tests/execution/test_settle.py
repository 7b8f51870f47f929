"""Settlement from logs without a chain: Executed + Swap decoding, LP fee rule, token tax, rounding."""

from __future__ import annotations

import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from eth_abi.abi import encode
from hypothesis import given
from hypothesis import strategies as st

from vaultexec.errors import SettlementError
from vaultexec.execution.settle import (
    EXECUTED_TOPIC,
    V2_SWAP_TOPIC,
    V3_SWAP_TOPIC,
    SwapHop,
    calculate_lp_fee_raw,
    lp_fee_decimal,
    parse_execution_logs,
    settle_failure,
    settle_success,
)
from vaultexec.model.identifiers import AssetIdentifier, ExchangeKind, TradingPairIdentifier
from vaultexec.model.trade import TradeExecution, TradeStatus, TradeType
from vaultexec.model.transaction import BlockchainTransaction, TxState

VAULT = "0x" + "aa" * 20
USDC = AssetIdentifier(1, "0x" + "01" * 20, "USDC", 6)
WETH = AssetIdentifier(1, "0x" + "02" * 20, "WETH", 18)
WBTC = AssetIdentifier(1, "0x" + "03" * 20, "WBTC", 8)
POOL_A, POOL_B = "0x" + "0a" * 20, "0x" + "0b" * 20
ROUTER = "0x" + "0c" * 20


def log(address: str, topic: str, data: bytes, index: int) -> dict[str, Any]:
    return {"address": address, "topics": [topic], "data": "0x" + data.hex(), "logIndex": hex(index)}


def executed(spent: dict[str, int], received: dict[str, int], index: int = 9) -> dict[str, Any]:
    data = encode(["address[]", "uint256[]", "address[]", "uint256[]"],
                  [list(spent), list(spent.values()), list(received), list(received.values())])
    return log(VAULT, EXECUTED_TOPIC, data, index)


def v2_swap(pool: str, amount_in: int, amount_out: int, index: int) -> dict[str, Any]:
    return log(pool, V2_SWAP_TOPIC, encode(["uint256"] * 4, [amount_in, 0, 0, amount_out]), index)


def v3_swap(pool: str, amount_in: int, amount_out: int, index: int) -> dict[str, Any]:
    data = encode(["int256", "int256", "uint160", "uint128", "int24"], [-amount_out, amount_in, 2**96, 10**18, 0])
    return log(pool, V3_SWAP_TOPIC, data, index)


def trade(buy: bool, pair: TradingPairIdentifier | None = None) -> TradeExecution:
    pair = pair or TradingPairIdentifier(WETH, USDC, POOL_A, ROUTER, 500, ExchangeKind.uniswap_v3)
    t = TradeExecution(trade_id=7, position_id=1, trade_type=TradeType.rebalance, pair=pair,
                       opened_at=datetime.datetime(2026, 1, 1), planned_quantity=Decimal("0.5") * (1 if buy else -1),
                       planned_reserve=Decimal(1500), planned_price=Decimal(3000), reserve_currency=USDC,
                       slippage_tolerance=Decimal("0.01"))
    t.mark_started(datetime.datetime(2026, 1, 1, 0, 1))
    return t


def landed_tx() -> BlockchainTransaction:
    return BlockchainTransaction(tx_hash="0x" + "11" * 32, nonce=3, status=True, block_number=5,
                                 tx_state=TxState.confirmed, broadcasted_at=datetime.datetime(2026, 1, 1, 0, 2),
                                 included_at=datetime.datetime(2026, 1, 1, 0, 3))


def test_buy_settles_exact_raw_amounts_and_v3_fee() -> None:
    t = trade(buy=True)
    logs = [executed({USDC.address: 1_500_000_000}, {WETH.address: 499_000_000_000_000_000}),
            v3_swap(POOL_A, 1_500_000_000, 499_000_000_000_000_000, 3)]
    settle_success(t, landed_tx(), logs, VAULT)
    assert t.get_status() is TradeStatus.success
    assert t.executed_quantity == Decimal("0.499000000000000000")
    assert t.executed_reserve == Decimal("1500.000000")
    exact = Fraction(1500) / Fraction("0.499")
    assert t.executed_price is not None and len(t.executed_price.as_tuple().digits) == 36
    assert exact <= Fraction(t.executed_price) < exact + Fraction(1, 10**32)  # rounded up on a buy
    assert t.lp_fees_paid == Decimal("0.750000")  # 0.05 % of 1500 USDC
    assert t.notes is None


def test_sell_through_two_v2_hops_and_a_token_tax() -> None:
    middle = TradingPairIdentifier(WETH, USDC, POOL_B, ROUTER, 3000, ExchangeKind.uniswap_v2)
    pair = TradingPairIdentifier(WBTC, USDC, POOL_A, ROUTER, 3000, ExchangeKind.uniswap_v2, intermediary_pair=middle)
    t = TradeExecution(trade_id=8, position_id=1, trade_type=TradeType.rebalance, pair=pair,
                       opened_at=datetime.datetime(2026, 1, 1), planned_quantity=Decimal("-0.1"),
                       planned_reserve=Decimal(6000), planned_price=Decimal(60000), reserve_currency=USDC)
    t.mark_started(datetime.datetime(2026, 1, 1, 0, 1))
    logs = [v2_swap(POOL_A, 10_000_000, 2 * 10**18, 1), v2_swap(POOL_B, 2 * 10**18, 5_980_000_000, 4),
            executed({WBTC.address: 10_000_000}, {USDC.address: 5_900_000_000})]
    settle_success(t, landed_tx(), logs, VAULT)
    assert t.executed_quantity == Decimal("-0.10000000") and t.executed_reserve == Decimal("5900.000000")
    # each hop: 0.3 % of its input valued at the executed reserve 5900 -> 17.7 USDC per hop
    assert t.lp_fees_paid == Decimal("35.400000")
    assert "token tax" in (t.notes or "") and "80000000 withheld" in (t.notes or "").replace(" raw", "")


def test_logs_without_executed_event_refuse_to_settle() -> None:
    t = trade(buy=True)
    with pytest.raises(SettlementError, match="no Executed event"):
        settle_success(t, landed_tx(), [v3_swap(POOL_A, 1, 1, 0)], VAULT)
    assert t.get_status() is TradeStatus.started


def test_executed_event_of_another_vault_is_ignored() -> None:
    foreign = executed({USDC.address: 1}, {WETH.address: 1})
    foreign["address"] = "0x" + "bb" * 20
    with pytest.raises(SettlementError):
        parse_execution_logs([foreign], VAULT)


def test_failure_keeps_reason_and_marks_failed() -> None:
    t = trade(buy=False)
    tx = landed_tx()
    tx.status, tx.tx_state, tx.revert_reason = False, TxState.failed, "ReceiveTooLow(...)"
    t.set_blockchain_transactions([tx])
    settle_failure(t, tx)
    assert t.get_status() is TradeStatus.failed and t.get_revert_reason() == "ReceiveTooLow(...)"


@given(amount_in=st.integers(1, 10**30), reserve=st.integers(1, 10**30),
       tier=st.sampled_from([100, 500, 3000, 10000]), hops=st.integers(1, 3))
def test_lp_fee_is_never_below_the_exact_fee(amount_in: int, reserve: int, tier: int, hops: int) -> None:
    """Rounding is up at each step: at least the exact value, and less than one raw unit per step above it."""
    swaps = [SwapHop(POOL_A, ExchangeKind.uniswap_v3, amount_in, 1)] * hops
    fee = calculate_lp_fee_raw(swaps, [tier] * hops, reserve)
    exact = Fraction(tier, 1_000_000) * reserve * hops
    assert exact <= fee
    # ceil(amount_in * tier / 1e6) overshoots by < 1 token unit, worth reserve / amount_in; plus 1 per hop
    assert fee < exact + hops * (Fraction(reserve, amount_in) + 1)


@given(amount_in=st.integers(1, 10**24))
def test_lp_fee_of_a_reserve_input_hop_is_the_pool_fee(amount_in: int) -> None:
    """When the hop's input is the reserve itself (a buy's first hop), the fee is what the pool keeps: a V2
    pair's unrounded in * 0.3 %, a V3 pool's ceil(in * tier / 1e6)."""
    v2 = calculate_lp_fee_raw([SwapHop(POOL_A, ExchangeKind.uniswap_v2, amount_in, 1)], [3000], amount_in)
    assert v2 == Fraction(amount_in * 3000, 1_000_000)
    v3 = calculate_lp_fee_raw([SwapHop(POOL_A, ExchangeKind.uniswap_v3, amount_in, 1)], [500], amount_in)
    assert v3 == -(-amount_in * 500 // 1_000_000)


def test_dust_v2_fee_is_not_rounded_up_to_the_trade() -> None:
    """A 1-raw-unit buy through a V2 pair pays 0.003 raw units, not 1 (100 %); three-way: 0.006, not 2."""
    one_hop = [SwapHop(POOL_A, ExchangeKind.uniswap_v2, 1, 10**9)]
    assert lp_fee_decimal(calculate_lp_fee_raw(one_hop, [3000], 1), 6) == Decimal("0.000000003")
    two_hops = [*one_hop, SwapHop(POOL_B, ExchangeKind.uniswap_v2, 10**9, 10)]
    assert lp_fee_decimal(calculate_lp_fee_raw(two_hops, [3000, 3000], 1), 6) == Decimal("0.000000006")


def test_log_queries_cover_only_runs_of_nearby_blocks() -> None:
    """A batch in consecutive blocks is one query; blocks far apart never pull the chain in between."""
    from vaultexec.execution.settle import MAX_LOG_BLOCK_SPAN, _block_runs

    assert _block_runs([105, 101, 102, 101]) == [(101, 105)]
    assert _block_runs([100, 200, 10_000]) == [(100, 100), (200, 200), (10_000, 10_000)]
    long_run = list(range(1, 2 * MAX_LOG_BLOCK_SPAN + 1))
    runs = _block_runs(long_run)
    assert len(runs) == 2 and all(last - first < MAX_LOG_BLOCK_SPAN for first, last in runs)
