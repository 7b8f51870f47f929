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

from web3 import Web3
from web3.exceptions import ContractLogicError, Web3Exception

from vaultexec.errors import OracleLossRefusedError, SimulationRevertedError, VaultExecError
from vaultexec.execution.plan import TradePlan
from vaultexec.vault.contracts import load_artifact
from vaultexec.vault.deploy import VAULT_CONTRACT
from vaultexec.vault.state import decode_vault_error, revert_data

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


def loss_refusals(web3: Web3, vault_address: str, plans: Sequence[TradePlan], block: int,
                  labels: Mapping[int, str] | None = None) -> tuple[list[PlanLoss], dict[int, VaultExecError]]:
    """Each plan's loss at its minimum receive, and the plans the vault would refuse (trade id -> error): a
    loss above the cap, or above the budget left after the accepted plans before it (a refused plan consumes
    none), or a trade the vault cannot price. No bound on the vault: nothing refused."""
    vault = web3.eth.contract(address=Web3.to_checksum_address(vault_address),
                              abi=load_artifact(VAULT_CONTRACT)["abi"])
    try:
        active, cap_bps, _capacity, _period = vault.functions.lossBound().call(block_identifier=block)
    except (ContractLogicError, Web3Exception) as exc:  # a vault of an older build: it has no loss bound
        logger.debug("vault %s has no loss bound to read (%s)", vault_address, exc)
        return [], {}
    if not active:
        return [], {}
    budget = int(vault.functions.availableLossBudget().call(block_identifier=block))
    losses: list[PlanLoss] = []
    refusals: dict[int, VaultExecError] = {}
    for plan in plans:
        label = (labels or {}).get(plan.trade_id, f"trade {plan.trade_id}")
        args = ([Web3.to_checksum_address(b.asset) for b in plan.max_spend], [b.amount for b in plan.max_spend],
                [Web3.to_checksum_address(b.asset) for b in plan.min_receive], [b.amount for b in plan.min_receive])
        try:
            spent, received, loss, _max = vault.functions.quoteLoss(*args).call(block_identifier=block)
        except ContractLogicError as exc:
            error = decode_vault_error(revert_data(exc))
            refusals[plan.trade_id] = SimulationRevertedError(
                f"{label}: the vault cannot price this trade ({error or exc}); it would refuse it, so nothing "
                "was sent. Check the vault's price sources (feeds fresh, every traded asset priced).",
                reason=str(error) if error else None, raw=revert_data(exc))
            continue
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
