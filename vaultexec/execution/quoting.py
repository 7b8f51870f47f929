"""Quotes: the output, prices and LP fees of a trade's fresh quote, and writing an accepted quote onto it."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from vaultexec.dex import uniswap_v2, uniswap_v3
from vaultexec.errors import RouteNotFoundError
from vaultexec.execution.plan import Route, TradeQuote
from vaultexec.execution.price_guard import check_price_moved, price_guard, record_decision_price
from vaultexec.execution.routing_input import trade_label
from vaultexec.execution.routing_reads import ReadBatch
from vaultexec.model.identifiers import ExchangeKind, TradingPairIdentifier
from vaultexec.model.trade import TradeExecution, TradePricing


def utcnow() -> datetime.datetime:
    """Now, UTC, naive (the model's timestamps)."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def expected_out(trade: TradeExecution, route: Route, raw_in: int, reads: ReadBatch, keys: dict[str, Any]) -> int:
    """The quoted raw output; refuses a zero or reverted quote (no liquidity)."""
    quote = reads.get(keys[f"quote{trade.trade_id}"])
    amount = 0
    if quote.success and quote.data:
        amount = (uniswap_v2.decode_amounts_out(quote.data)[-1] if route.protocol == ExchangeKind.uniswap_v2
                  else uniswap_v3.decode_quote_amount_out(quote.data))
    if amount <= 0:
        input_asset = trade.get_input_asset()
        reason = "" if quote.success else f" (quote reverted: {quote.error_message or 'no reason'})"
        raise RouteNotFoundError(
            f"{trade_label(trade)}: the {route.describe()} quotes 0 {trade.get_output_asset().token_symbol} for "
            f"{input_asset.convert_to_decimal(raw_in)} {input_asset.token_symbol}{reason}: no liquidity; "
            f"pick another pool or a smaller amount")
    return amount


def quote_trade(trade: TradeExecution, route: Route, raw_in: int, raw_out: int, reads: ReadBatch,
                keys: dict[str, Any], decimals: dict[str, int], block_number: int) -> TradeQuote:
    """The output side, prices (quote per base) and LP fee estimate of the fresh quote, after the price
    guard accepted it. `decimals`: token address -> decimals, for the mid price."""
    out_amount = trade.get_output_asset().convert_to_decimal(raw_out)
    in_amount = trade.get_input_asset().convert_to_decimal(raw_in)
    guard = price_guard(trade)
    if guard is not None:
        check_price_moved(trade, *guard, out_amount, in_amount)
    quantity, reserve = (out_amount, in_amount) if trade.is_buy() else (in_amount, out_amount)
    fee_fractions = [fee_fraction(route, trade.pair, n) for n in range(route.hops)]
    with localcontext() as ctx:
        ctx.prec = 40
        price = reserve / quantity
        mid = mid_price_out_per_in(trade, route, reads, keys, decimals)
        mid_price = (1 / mid if trade.is_buy() else mid) if mid else None
        lp_fees = [hop_fee(route, n, fraction, raw_in, reserve) for n, fraction in enumerate(fee_fractions)]
        lp_fees_total = sum(lp_fees, Decimal(0))
        fee_tier = 1 - _product(1 - f for f in fee_fractions)
    pricing = TradePricing(
        price=price, mid_price=mid_price or price, lp_fee=lp_fees, pair_fee=fee_fractions,
        side=trade.is_buy(), read_at=utcnow(), block_number=block_number, token_in=in_amount,
        token_out=out_amount)
    return TradeQuote(out_amount, price, mid_price, lp_fees_total, fee_tier, pricing,
                      guard[1] if guard is not None else None)


def hop_fee(route: Route, hop: int, fraction: Decimal, raw_in: int, reserve: Decimal) -> Decimal:
    """Hop `hop`'s LP fee in reserve units, valued as settlement values it (each hop's whole input is worth the
    trade's `reserve`): a V2 pair keeps an unrounded `fraction`; a V3 pool rounds its fee up to a raw unit
    of its input, known here for the first hop (`raw_in`); a later V3 hop's input is not quoted."""
    if route.protocol == ExchangeKind.uniswap_v3 and hop == 0:
        fee_raw = -(-raw_in * route.fees[0] // 1_000_000)
        return reserve * fee_raw / raw_in
    return reserve * fraction


def fee_fraction(route: Route, pair: TradingPairIdentifier, hop: int) -> Decimal:
    """The LP fee of hop `hop` as a fraction (0.003 = 0.3 %): the V3 tier, or the V2 pair's fee."""
    if route.protocol == ExchangeKind.uniswap_v3:
        return Decimal(route.fees[hop]) / 1_000_000
    hops = [pair] if pair.intermediary_pair is None else [pair, pair.intermediary_pair]
    tier = next((p.fee for p in hops if p.pool_address == route.pools[hop]), 0)
    return Decimal(tier or uniswap_v2.DEFAULT_V2_FEE) / 1_000_000


def mid_price_out_per_in(trade: TradeExecution, route: Route, reads: ReadBatch, keys: dict[str, Any],
                         decimals: dict[str, int]) -> Decimal | None:
    """Mid price (no fee, no impact) of the whole path, output per input in human units; None when a
    pool is empty."""
    price = Fraction(1)
    for n in range(route.hops):
        key = keys[f"pool{trade.trade_id}:{n}"]
        token_in, token_out = route.tokens[n], route.tokens[n + 1]
        in_is_0 = int(token_in, 16) < int(token_out, 16)
        if route.protocol == ExchangeKind.uniswap_v2:
            r0, r1 = reads.value(key, uniswap_v2.decode_reserves, "getReserves()")
            if r0 == 0 or r1 == 0:
                return None
            raw = Fraction(r1, r0) if in_is_0 else Fraction(r0, r1)
        else:
            sqrt_price = reads.value(key, uniswap_v3.decode_sqrt_price_x96, "slot0()")
            if sqrt_price == 0:
                return None
            token1_per_token0 = Fraction(sqrt_price * sqrt_price, 2**192)
            raw = token1_per_token0 if in_is_0 else 1 / token1_per_token0
        price *= raw * Fraction(10) ** (decimals[token_in] - decimals[token_out])
    return Decimal(price.numerator) / Decimal(price.denominator)


def _apply_quote(trade: TradeExecution, quote: TradeQuote) -> None:
    if trade.is_buy():
        trade.planned_quantity = quote.amount_out
    else:
        trade.planned_reserve = quote.amount_out
    trade.planned_price = quote.price
    trade.planned_mid_price = quote.mid_price
    trade.lp_fees_estimated = quote.lp_fees_estimated
    trade.fee_tier = quote.fee_tier
    trade.price_structure = quote.pricing


def with_quote(trade: TradeExecution, quote: TradeQuote) -> TradeExecution:
    """A shallow copy of `trade` carrying the quote: the model's deltas without touching the trade."""
    candidate = copy.copy(trade)
    _apply_quote(candidate, quote)
    return candidate


def commit_quote(trade: TradeExecution, quote: TradeQuote) -> None:
    """Write an accepted quote onto its trade and keep the decision price the guard judged it against."""
    _apply_quote(trade, quote)
    if quote.decision_price is not None:
        record_decision_price(trade, quote.decision_price)


def _product(values: Iterable[Decimal]) -> Decimal:
    result = Decimal(1)
    for value in values:
        result *= value
    return result
