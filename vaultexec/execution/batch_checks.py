"""The two chain checks of a planned batch, in one round trip where the node has eth_simulateV1: the vault's
oracle loss bound (every plan's `quoteLoss` at the planning block, `loss_bound`) and the pre-flight (the
batch's `execute` calls in the blocks after it, `preflight`). The node may run the two simulations side by
side; a node without eth_simulateV1 gets them one after the other, as before."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from vaultexec.dex.reads import CALLS_PER_BLOCK, BlockHeader, CallRunner
from vaultexec.errors import VaultExecError
from vaultexec.execution.loss_bound import loss_calls, loss_refusals, losses_from
from vaultexec.execution.plan import TradePlan
from vaultexec.execution.preflight import preflight_calls, record_simulation, simulate_plans


def check_batch(runner: CallRunner, vault: str, asset_manager: str, plans: Sequence[TradePlan], block: BlockHeader,
                labels: Mapping[int, str] | None = None) -> dict[int, VaultExecError]:
    """The plans the loss bound refuses (trade id -> error). When it refuses none, each plan's pre-flight is
    recorded on it (`simulation`, `gas_estimate`, `gas_limit`); otherwise the pre-flight is not used (the
    batch is planned again without the refused trades, and pre-flighted again)."""
    both = runner.simulate_together((loss_calls(vault, plans), block.tag, CALLS_PER_BLOCK),
                                    (preflight_calls(vault, asset_manager, plans), block, 1))
    if both is None:
        _, refused = loss_refusals(runner, vault, plans, block, labels)
        if not refused:
            simulate_plans(runner, vault, asset_manager, plans, block)
        return refused
    losses, simulated = both
    _, refused = losses_from(losses, vault, plans, labels)
    if not refused:
        record_simulation(plans, simulated)
    return refused
