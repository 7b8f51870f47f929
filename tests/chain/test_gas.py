"""Fee arithmetic (properties) and fee quotes from a real anvil."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaultexec.chain.gas import (
    FEE_HEADROOM,
    GWEI,
    FeePolicy,
    FeeQuote,
    bump_fees,
    fetch_fees,
    fit_replacement_fees,
    gas_limit_from_estimate,
    least_replacement_fees,
    min_priority_fee,
    quote_fees,
)
from vaultexec.chain.rpc import RPCClient
from vaultexec.testing.anvil import launch_anvil

wei = st.integers(0, 10**15)


@given(wei, wei)
def test_eip1559_max_fee_is_headroom_times_base_plus_priority(base_fee: int, priority: int) -> None:
    quote = quote_fees(base_fee, priority, None, chain_id=31337)
    assert quote.max_fee_per_gas == FEE_HEADROOM * base_fee + priority
    assert quote.max_priority_fee_per_gas == priority
    assert quote.tx_fields() == {"type": 2, "maxFeePerGas": quote.max_fee_per_gas,
                                 "maxPriorityFeePerGas": priority}


def test_per_chain_minimum_priority_fee() -> None:
    assert quote_fees(10 * GWEI, GWEI, None, chain_id=137).max_priority_fee_per_gas == 30 * GWEI
    assert quote_fees(10 * GWEI, None, None, chain_id=1).max_priority_fee_per_gas == min_priority_fee(1)
    assert quote_fees(None, None, 5, chain_id=137).gas_price == 30 * GWEI


def test_legacy_quote() -> None:
    quote = quote_fees(None, None, 7 * GWEI, chain_id=56)
    assert not quote.is_eip1559
    assert quote.tx_fields() == {"gasPrice": 7 * GWEI}
    with pytest.raises(ValueError):
        quote_fees(None, None, None, chain_id=56)


@given(wei, wei)
def test_bump_is_strictly_above_ten_percent(max_fee: int, priority: int) -> None:
    previous = FeeQuote(max_fee_per_gas=max(max_fee, priority), max_priority_fee_per_gas=priority)
    bumped = bump_fees(previous)
    assert bumped.max_fee_per_gas is not None and bumped.max_priority_fee_per_gas is not None
    assert bumped.max_fee_per_gas * 10 > previous.max_price * 11
    assert bumped.max_priority_fee_per_gas * 10 > priority * 11
    assert bumped.max_fee_per_gas >= bumped.max_priority_fee_per_gas


@given(wei, wei)
def test_bump_follows_a_higher_market(previous_price: int, market_price: int) -> None:
    bumped = bump_fees(FeeQuote(gas_price=previous_price), FeeQuote(gas_price=market_price))
    assert bumped.gas_price is not None
    assert bumped.gas_price >= market_price and bumped.gas_price * 10 > previous_price * 11


@given(st.integers(0, 10**9))
def test_gas_limit_margin_rounds_up(estimate: int) -> None:
    limit = gas_limit_from_estimate(estimate)
    assert limit * 5 >= estimate * 6 > (limit - 1) * 5


def test_fetch_fees_from_anvil_in_one_round_trip(client: RPCClient) -> None:
    block = client.call("eth_getBlockByNumber", ["latest", False])
    before = client.stats.snapshot()
    quote = fetch_fees(client, 31337)
    asked = client.stats.since(before)
    assert asked.http_round_trips == 1
    # an EIP-1559 chain's quote needs no legacy gas price (issue 14: requests per trade)
    assert asked.requests_by_method == {"eth_getBlockByNumber": 1, "eth_maxPriorityFeePerGas": 1}
    assert quote.base_fee == int(block["baseFeePerGas"], 16)
    assert quote.max_fee_per_gas == 2 * quote.base_fee + (quote.max_priority_fee_per_gas or 0)


def test_fetch_fees_on_a_legacy_chain() -> None:
    with launch_anvil(hardfork="berlin") as node:
        rpc = RPCClient(node.url)
        quote = fetch_fees(rpc, 31337)
        assert not quote.is_eip1559
        assert quote.gas_price == int(rpc.call("eth_gasPrice"), 16)
        before = rpc.stats.snapshot()
        legacy = fetch_fees(rpc, 31337, policy=replace(FeePolicy.for_chain(31337), legacy=True))
        assert legacy.gas_price == quote.gas_price
        assert rpc.stats.since(before).requests_by_method == {"eth_gasPrice": 1}  # a legacy policy: nothing else


fees = st.integers(1, 10**12)


@given(fees, fees, st.integers(21_000, 10**7), st.integers(0, 10**20))
def test_replacement_fits_the_budget_or_is_skipped(max_fee: int, tip: int, gas_limit: int, budget: int) -> None:
    previous = FeeQuote(max_fee_per_gas=max(max_fee, tip), max_priority_fee_per_gas=tip)
    bumped = bump_fees(previous)
    least = least_replacement_fees(previous)
    fitted = fit_replacement_fees(previous, bumped, budget, gas_limit)
    if fitted is None:  # even the smallest bump a node accepts costs more than the budget
        assert least.max_price * gas_limit > budget
        return
    assert fitted.max_price * gas_limit <= budget
    assert fitted == bumped or fitted.max_price < bumped.max_price  # capped only when the bump is unaffordable
    assert fitted.max_fee_per_gas is not None and fitted.max_priority_fee_per_gas is not None
    assert least.max_fee_per_gas is not None and least.max_priority_fee_per_gas is not None
    assert fitted.max_fee_per_gas >= least.max_fee_per_gas  # the node still takes it as a replacement
    assert fitted.max_priority_fee_per_gas >= least.max_priority_fee_per_gas
    assert fitted.max_priority_fee_per_gas <= fitted.max_fee_per_gas


def test_replacement_fits_value_and_legacy_price() -> None:
    legacy = FeeQuote(gas_price=100 * GWEI)
    assert least_replacement_fees(legacy).gas_price == 110 * GWEI
    # 21000 gas at up to 111 gwei plus 1 gwei of value: the 112.5+ gwei bump is capped to 111 gwei
    budget = 21_000 * 111 * GWEI + GWEI
    assert fit_replacement_fees(legacy, bump_fees(legacy), budget, 21_000, value=GWEI) == FeeQuote(gas_price=111 * GWEI)
    assert fit_replacement_fees(legacy, bump_fees(legacy), budget - 2 * 21_000 * GWEI, 21_000, value=GWEI) is None
    with pytest.raises(ValueError, match="gas limit"):
        fit_replacement_fees(legacy, bump_fees(legacy), budget, 0)
