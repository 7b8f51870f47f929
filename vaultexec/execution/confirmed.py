"""Send what the user confirmed: the executor re-plans a trade just before signing it, and that fresh plan
may not be worse for the vault than the plan shown; a trade refused before signing reports its own error.

`vaultexec trade` and scripts/trade_one_pair.py print a plan, ask, then hand the trade to the executor,
which quotes it again. Without a bound the pool could move between the two (or be pushed by a sandwich)
and the trade would be sent with a lower minimum receive than the one confirmed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from vaultexec.errors import PriceMovedError, VaultExecError
from vaultexec.execution.executor import PlannedTrade, RoutingPlanner
from vaultexec.execution.plan import TradePlan
from vaultexec.execution.routing import VaultRouting
from vaultexec.execution.routing_input import trade_label
from vaultexec.model.deltas import AssetDelta
from vaultexec.model.safetext import escape_text
from vaultexec.model.trade import TradeExecution


class ConfirmedPlanner:
    """The executor's planner (a `RoutingPlanner`) holding confirmed trades to the plan the user saw.

    After `confirm(plan)`, a fresh plan of that trade that would spend more or may receive less than the
    confirmed one is refused with PriceMovedError: the trade fails before signing, nothing is sent. A
    fresh quote as good or better passes (and is what is sent). Every refusal before signing is kept in
    `refusals`, so the caller can report that error and its exit code.
    """

    def __init__(self, routing: VaultRouting) -> None:
        self.routing = routing
        self._planner = RoutingPlanner(routing, accept=self._held_to_confirmed)
        self._confirmed: dict[int, TradePlan] = {}
        self.refusals: dict[int, VaultExecError] = {}

    def confirm(self, plan: TradePlan) -> None:
        """Bind the plan's trade to it: what it spends at most and receives at least."""
        self._confirmed[plan.trade_id] = plan

    def plan_trades(self, trades: Sequence[TradeExecution]) -> list[PlannedTrade]:
        planned = self._planner.plan_trades(trades)
        self.refusals.update({p.trade.trade_id: p.error for p in planned if p.error is not None})
        return planned

    def _held_to_confirmed(self, trade: TradeExecution, plan: TradePlan) -> VaultExecError | None:
        """Inside the batch's planning: a fresh plan worse than the confirmed one is refused there, so the
        rest of the batch is pre-flighted without it."""
        confirmed = self._confirmed.get(trade.trade_id)
        if confirmed is None:
            return None
        return worse_than_confirmed(trade, plan.asset_deltas, confirmed.asset_deltas)


def worse_than_confirmed(trade: TradeExecution, fresh: Sequence[AssetDelta],
                         confirmed: Sequence[AssetDelta]) -> PriceMovedError | None:
    """PriceMovedError when the fresh [spend, minimum receive] is worse for the vault than the confirmed one."""
    (spend, receive), (confirmed_spend, confirmed_receive) = fresh, confirmed
    same_assets = spend.asset == confirmed_spend.asset and receive.asset == confirmed_receive.asset
    if same_assets and spend.raw_amount >= confirmed_spend.raw_amount \
            and receive.raw_amount >= confirmed_receive.raw_amount:
        return None
    return PriceMovedError(
        f"{trade_label(trade)}: the pool moved since the plan was confirmed; the fresh quote would spend up to "
        f"{_amount(spend)} for at least {_amount(receive)}, the confirmed plan up to {_amount(confirmed_spend)} "
        f"for at least {_amount(confirmed_receive)}. Nothing was sent; run the trade again to see the current "
        "price.")


def _amount(delta: AssetDelta) -> str:
    return f"{delta.asset.convert_to_decimal(abs(delta.raw_amount))} {delta.asset.token_symbol}"


def was_sent(trade: TradeExecution) -> bool:
    """Whether any transaction of `trade` was ever signed (a hash exists): only then can it be on chain."""
    return any(tx.tx_hash for tx in trade.blockchain_transactions)


def raise_if_refused(trade: TradeExecution, refusals: Mapping[int, VaultExecError]) -> None:
    """Raise the error that failed `trade` before anything was signed (its own class and exit code), from
    `refusals` (`ConfirmedPlanner.refusals`)."""
    if not trade.is_failed() or was_sent(trade):
        return
    refusal = refusals.get(trade.trade_id)
    if refusal is None:
        refusal = VaultExecError(f"trade #{trade.trade_id} was not sent: {failure_reason(trade)}")
    raise refusal


def failure_reason(trade: TradeExecution) -> str:
    """Why `trade` failed: the decoded revert reason, else the last reason or note stored on it."""
    last = trade.blockchain_transactions[-1] if trade.blockchain_transactions else None
    notes = (trade.notes or "").splitlines()
    return escape_text(trade.get_revert_reason() or (last.revert_reason if last is not None else None)
                       or (notes[-1] if notes else None) or "no reason recorded")
