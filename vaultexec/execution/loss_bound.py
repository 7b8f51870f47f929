"""The vault's oracle-priced loss bound, checked before signing: each plan's loss at its minimum receive.

The vault values every spent and received amount at its oracle prices (Chainlink-style feeds, Uniswap V3
TWAPs) and refuses an execute whose loss (value spent - value received) exceeds its per-execute cap (bps of
the value spent) or its rolling loss budget. Here each plan is valued by the vault itself (`quoteLoss`, an
eth_call at the planning block) at its worst acceptable outcome, the minimum receive; a plan the vault
could refuse is refused now with the numbers, and nothing is signed. The plans of one batch consume the
budget in order.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from vaultexec.dex.abiread import decode_words as decode
from vaultexec.dex.abiwords import address_array_tail, dynamic, tuple_of, uint_array_tail
from vaultexec.dex.erc20 import selector
from vaultexec.dex.reads import BlockHeader, CallResult, CallRunner, ContractCall
from vaultexec.errors import OracleLossRefusedError, SimulationRevertedError, VaultExecError
from vaultexec.execution.plan import TradePlan
from vaultexec.vault.state import decode_vault_error

logger = logging.getLogger(__name__)

#: Valuation units have 18 decimals.
VALUE_DECIMALS = 18
BPS = 10_000


@dataclass(frozen=True)
class PlanLoss:
    """One plan valued at its bounds: raw valuation units (18 decimals)."""

    trade_id: int
    value_spent: int
    value_received: int
    loss: int
    max_loss: int


def to_value(raw: int) -> Decimal:
    """Raw valuation units -> Decimal (exact: a power-of-ten shift)."""
    return Decimal(raw).scaleb(-VALUE_DECIMALS)


_LOSS_BOUND = selector("lossBound()")
_AVAILABLE_BUDGET = selector("availableLossBudget()")
_QUOTE_LOSS = selector("quoteLoss(address[],uint256[],address[],uint256[])")


def _quote_loss_call(vault: str, plan: TradePlan) -> ContractCall:
    spend, receive = plan.max_spend, plan.min_receive
    return ContractCall(vault, _QUOTE_LOSS + quote_loss_arguments(
        [b.asset for b in spend], [b.amount for b in spend], [b.asset for b in receive], [b.amount for b in receive]))


def quote_loss_arguments(spend_assets: Sequence[str], spend: Sequence[int], receive_assets: Sequence[str],
                         receive: Sequence[int]) -> bytes:
    """The arguments of the vault's `quoteLoss(address[],uint256[],address[],uint256[])` (fast words, equal to
    eth-abi's: tests/dex/test_abiwords.py)."""
    return tuple_of(dynamic(address_array_tail(spend_assets)), dynamic(uint_array_tail(spend)),
                    dynamic(address_array_tail(receive_assets)), dynamic(uint_array_tail(receive)))


def loss_refusals(runner: CallRunner, vault_address: str, plans: Sequence[TradePlan], block: BlockHeader,
                  labels: Mapping[int, str] | None = None) -> tuple[list[PlanLoss], dict[int, VaultExecError]]:
    """Each plan's loss at its minimum receive, and the plans the vault would refuse (trade id -> error): a
    loss above the cap, or above the budget left after the accepted plans before it (a refused plan consumes
    none), or a trade the vault cannot price. No bound on the vault: nothing refused.

    One read request at `block` (the planning block): the bound, the budget left and every plan's `quoteLoss`.
    """
    results, _ = runner.run(loss_calls(vault_address, plans), block.tag)
    return losses_from(results, vault_address, plans, labels)


def loss_calls(vault_address: str, plans: Sequence[TradePlan]) -> list[ContractCall]:
    """The reads of `loss_refusals`: the bound, the budget left and every plan's `quoteLoss` (views)."""
    return [ContractCall(vault_address, _LOSS_BOUND), ContractCall(vault_address, _AVAILABLE_BUDGET),
            *(_quote_loss_call(vault_address, plan) for plan in plans)]


def losses_from(results: Sequence[CallResult], vault_address: str, plans: Sequence[TradePlan],
                labels: Mapping[int, str] | None = None) -> tuple[list[PlanLoss], dict[int, VaultExecError]]:
    """`loss_refusals` from the results of `loss_calls`."""
    bound, available, quotes = results[0], results[1], results[2:]
    if not bound.success or len(bound.data) < 128:  # a vault of an older build: it has no loss bound
        logger.debug("vault %s has no loss bound to read (%s)", vault_address, bound.error_message)
        return [], {}
    active, cap_bps, _capacity, _period = decode(["bool", "uint256", "uint256", "uint256"], bound.data)
    if not active:
        return [], {}
    budget = int(decode(["uint256"], available.data)[0])
    losses: list[PlanLoss] = []
    refusals: dict[int, VaultExecError] = {}
    for plan, quote in zip(plans, quotes, strict=True):
        label = (labels or {}).get(plan.trade_id, f"trade {plan.trade_id}")
        if not quote.success:
            error = decode_vault_error(quote.data)
            refusals[plan.trade_id] = SimulationRevertedError(
                f"{label}: the vault cannot price this trade ({error or quote.error_message}); it would refuse "
                "it, so nothing was sent. Check the vault's price sources (feeds fresh, every traded asset "
                "priced).", reason=str(error) if error else None, raw=quote.data)
            continue
        spent, received, loss, _max = decode(["uint256", "uint256", "uint256", "uint256"], quote.data)
        cap = spent * cap_bps // BPS
        if loss > cap:
            refusals[plan.trade_id] = OracleLossRefusedError(
                f"{label}: at its minimum receive it would lose {to_value(loss)} of {to_value(spent)} spent at "
                f"the vault's oracle prices, above the vault's per-trade cap of {cap_bps} bps ({to_value(cap)}). "
                "Nothing was signed. Lower the slippage tolerance or the size, or check the pool's price "
                "against the oracle (a manipulated pool looks exactly like this).",
                plan.trade_id, to_value(loss), to_value(cap))
            continue
        if loss > budget:
            refusals[plan.trade_id] = OracleLossRefusedError(
                f"{label}: at its minimum receive it would lose {to_value(loss)} at the vault's oracle prices, "
                f"more than the {to_value(budget)} left of the vault's rolling loss budget (after the trades "
                "before it in this batch). Nothing was signed. Wait for the budget to refill, trade smaller or "
                "with a tighter slippage tolerance.",
                plan.trade_id, to_value(loss), to_value(budget))
            continue
        losses.append(PlanLoss(plan.trade_id, spent, received, loss, min(cap, budget)))
        budget -= loss
    return losses, refusals
