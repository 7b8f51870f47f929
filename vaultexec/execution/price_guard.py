"""The price guard: a fresh quote is refused when worse than the executor's decision price by more than
`planned_max_slippage`; the decision price survives re-plans in the trade's `notes` (docs/routing.md)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation, localcontext

from vaultexec.errors import BadInputError, PriceMovedError
from vaultexec.execution.routing_input import trade_label
from vaultexec.model.exact import to_decimal
from vaultexec.model.trade import TradeExecution

#: Start of the `notes` line in which an accepted plan keeps the executor's decision price (price guard).
DECISION_NOTE = "vaultexec routing: decision price "


def recorded_decision_price(trade: TradeExecution) -> Decimal | None:
    """The latest decision price routing recorded in the trade's `notes`, if any."""
    for line in reversed((trade.notes or "").splitlines()):
        if line.startswith(DECISION_NOTE):
            try:
                value = Decimal(line.removeprefix(DECISION_NOTE).split(" ", 1)[0])
            except InvalidOperation:
                return None
            return value if value.is_finite() and value > 0 else None
    return None


def record_decision_price(trade: TradeExecution, price: Decimal) -> None:
    """Keep `price` in the trade's `notes` (one line) unless it is the one recorded last."""
    if recorded_decision_price(trade) != price:
        trade.add_note(f"{DECISION_NOTE}{price} {trade.pair.quote.token_symbol} per "
                       f"{trade.pair.base.token_symbol} (the executor's; the price guard judges re-plans "
                       f"against it)")


def _carries_routing_prices(trade: TradeExecution) -> bool:
    """Whether planned_price / planned_mid_price are still the ones routing's last quote wrote."""
    pricing = trade.price_structure
    if pricing is None:
        return False
    mid = trade.planned_mid_price if trade.planned_mid_price is not None else trade.planned_price
    return bool(trade.planned_price == pricing.price and mid == pricing.mid_price)


def _executor_mid_price(trade: TradeExecution) -> Decimal | None:
    """planned_mid_price when the executor set it; None when unset or still the pool mid routing wrote."""
    mid = trade.planned_mid_price
    if mid is None or _routing_wrote_mid(trade, mid):
        return None
    return mid


def _routing_wrote_mid(trade: TradeExecution, mid: Decimal) -> bool:
    """`mid` is the pool mid of routing's last quote: routing quoted the trade (its decision price is in
    `notes`) and `price_structure.mid_price` is still `mid`. The trading executor's own trades carry a
    `price_structure` whose mid equals their planned mid too; that one is the executor's."""
    pricing = trade.price_structure
    return pricing is not None and mid == pricing.mid_price and recorded_decision_price(trade) is not None


def decision_price(trade: TradeExecution) -> tuple[object, str]:
    """The executor's decision price (reserve per base) and the field it comes from.

    Before routing's first quote: `planned_mid_price`, else `planned_price`. An accepted plan overwrites both
    with the pool's prices, so it records the decision price in `notes` (price guard on only); a re-plan
    reads it back while the trade still carries routing's prices. That survives a new VaultRouting, a store
    round trip and a new process. A trade the executor re-priced since is judged on its new price: once
    routing has quoted the trade (a decision price in `notes`), a `planned_mid_price` still equal to routing's
    mid (`price_structure.mid_price`) is routing's, not the executor's, so a new `planned_price` alone is the
    reference then. Before that the mid is the executor's, even when its own `price_structure` repeats it.
    """
    recorded = recorded_decision_price(trade)
    if recorded is not None and _carries_routing_prices(trade):
        return recorded, "the decision price in notes"
    mid = _executor_mid_price(trade)
    if mid is not None:
        return mid, "planned_mid_price"
    return trade.planned_price, "planned_price"


def price_guard(trade: TradeExecution) -> tuple[Decimal, Decimal] | None:
    """(planned_max_slippage, decision price) when the price guard is on, both checked; None when off."""
    if trade.planned_max_slippage is None:
        return None
    name = trade_label(trade)
    max_move = to_decimal(trade.planned_max_slippage, f"{name} planned_max_slippage")
    if not Decimal(0) <= max_move < Decimal(1):
        raise BadInputError(
            f"{name}: planned_max_slippage {max_move} outside [0, 1); it is the fraction the quote may be worse "
            f"than the decision price (0.02 = 2 %)")
    value, source = decision_price(trade)
    reference = to_decimal(value, f"{name} {source}")
    if reference <= 0:
        raise BadInputError(
            f"{name}: {source} {reference} is not a price; the price guard (planned_max_slippage {max_move}) "
            f"judges the quote against the executor's decision price: set it in "
            f"{trade.pair.quote.token_symbol} per {trade.pair.base.token_symbol}")
    return max_move, reference


def check_price_moved(trade: TradeExecution, max_move: Decimal, reference: Decimal, out_amount: Decimal,
                      in_amount: Decimal) -> None:
    """Refuse a quote worse than the executor's decision price `reference` by more than `max_move`.

    Without `planned_max_slippage` there is no check: the slippage tolerance then bounds only the distance
    from the fresh quote.
    """
    with localcontext() as ctx:
        ctx.prec = 40
        quoted = in_amount / out_amount if trade.is_buy() else out_amount / in_amount
        worst = reference * (1 + max_move) if trade.is_buy() else reference * (1 - max_move)
        moved = (quoted - reference) / reference
    if (trade.is_buy() and quoted > worst) or (trade.is_sell() and quoted < worst):
        raise PriceMovedError(
            f"{trade_label(trade)}: the pool quotes {quoted:.8g} {trade.pair.quote.token_symbol} per "
            f"{trade.pair.base.token_symbol}, {moved:+.4%} from the decision price {reference:.8g}, beyond "
            f"planned_max_slippage {max_move:.4%}. Nothing was sent; re-decide the trade at the current price "
            f"or check the pool for manipulation.")
