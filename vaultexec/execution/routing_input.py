"""Routing's checks of the trades themselves, before anything is read from the chain."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from vaultexec.errors import (
    BadInputError,
    ConfigurationError,
    IllegalTransitionError,
    RouteNotFoundError,
    VaultExecError,
)
from vaultexec.model.deltas import calculate_exact_spend, validate_slippage_tolerance
from vaultexec.model.exact import to_decimal
from vaultexec.model.identifiers import TradingPairIdentifier
from vaultexec.model.trade import TradeExecution

#: Largest amount a swap, an approval or a vault bound can carry.
MAX_UINT256 = 2**256 - 1


def trade_label(trade: TradeExecution) -> str:
    """How routing's messages name a trade: `trade #7 (WETH-USDC)`."""
    return f"trade #{trade.trade_id} ({trade.pair.get_ticker()})"


def require_planned(trades: Sequence[TradeExecution]) -> None:
    """Refuse trades past `planned`: a second plan would sign a new transaction (a new nonce) over the first."""
    for trade in trades:
        if not trade.is_planned():
            sent = [tx.tx_hash for tx in trade.blockchain_transactions if tx.tx_hash]
            holds = f" (it holds transaction {', '.join(sent)})" if sent else ""
            raise IllegalTransitionError(
                f"{trade_label(trade)} is {trade.get_status().value}, not planned{holds}: routing plans planned "
                f"trades only and nothing was signed; finish started trades with the executor's resume()")


def require_unique_ids(trades: Sequence[TradeExecution]) -> None:
    seen: set[int] = set()
    for trade in trades:
        if trade.trade_id in seen:
            raise BadInputError(f"{trade_label(trade)}: the batch holds trade id {trade.trade_id} twice; each "
                                f"trade is planned once: give new trades new ids")
        seen.add(trade.trade_id)


def validate_trade(trade: TradeExecution, pairs: Sequence[TradingPairIdentifier], chain_id: int,
                   vault_address: str) -> None:
    """Refuse bad input: chain, pair, amounts, tolerance, reserve currency, route (not the price guard)."""
    name = trade_label(trade)
    pair = trade.pair
    if pair.chain_id != chain_id:
        raise ConfigurationError(
            f"{name}: pair is on chain {pair.chain_id} but the vault {vault_address} is on chain "
            f"{chain_id}; trade it with a routing of that chain's vault")
    if pair not in pairs:
        known = ", ".join(p.get_ticker() for p in pairs) or "none"
        raise RouteNotFoundError(
            f"{name}: pair {pair} is not in this routing's configuration (configured: {known}); add it "
            f"to the pairs given to VaultRouting")
    for what in ("planned_quantity", "planned_reserve"):
        value = getattr(trade, what)
        to_decimal(value, f"{name} {what}")  # refuses floats, NaN, infinities and junk
        if not isinstance(value, Decimal):
            raise BadInputError(f"{name}: {what} {value!r} must be a Decimal")
    if trade.planned_quantity == 0:
        raise BadInputError(f"{name}: planned_quantity is zero; buys are positive, sells negative")
    if trade.planned_reserve <= 0:
        raise BadInputError(f"{name}: planned_reserve {trade.planned_reserve} must be positive "
                            f"(the sign of planned_quantity tells buy from sell)")
    try:
        validate_slippage_tolerance(trade.slippage_tolerance)
    except BadInputError as exc:
        raise BadInputError(f"{name}: {exc}") from None
    if trade.reserve_currency != pair.quote:
        raise BadInputError(f"{name}: reserve currency {trade.reserve_currency} is not the pair's quote "
                            f"{pair.quote}")
    middle = pair.intermediary_pair
    if middle is not None and (middle.kind != pair.kind or middle.exchange_address != pair.exchange_address):
        raise RouteNotFoundError(
            f"{name}: both hops of a three-way route must be on one protocol and router; the pair is on "
            f"{pair.kind.value} {pair.exchange_address}, its intermediary on {middle.kind.value} "
            f"{middle.exchange_address}")
    raw_amount_in(trade)  # a spend that fits a uint256


def raw_amount_in(trade: TradeExecution) -> int:
    """Raw input the vault spends: the same rounding as the model's spend delta (floor)."""
    amount = trade.planned_reserve if trade.is_buy() else -trade.planned_quantity
    asset = trade.get_input_asset()
    try:
        raw = calculate_exact_spend(amount, asset)
    except BadInputError as exc:
        raise BadInputError(f"{trade_label(trade)}: {exc}") from None
    if raw > MAX_UINT256:
        raise BadInputError(
            f"{trade_label(trade)}: spends {amount} {asset.token_symbol} = {raw} raw units, more than a uint256 "
            f"holds (2**256 - 1, no token can have that much); check the amount")
    return raw


def keep_unrefused(trade: TradeExecution, check: Callable[[TradeExecution], object],
                   refused: dict[int, VaultExecError], strict: bool) -> bool:
    """Run one trade's check: True if it passed; a refusal is recorded in `refused` (raised if `strict`)."""
    try:
        check(trade)
    except VaultExecError as exc:
        if strict:
            raise
        refused[trade.trade_id] = exc
        return False
    return True
