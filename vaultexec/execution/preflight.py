"""Pre-flight: simulate every vault transaction from the asset manager before anything is signed.

One `eth_simulateV1` request runs the batch's `execute` calls in execution order on top of the block the
quotes were read at, state carried from call to call, so a buy funded by an earlier sell of the same batch
is judged on the balance it will really have. Its gasUsed per call gives the gas estimate. Nodes without
`eth_simulateV1` get one HTTP batch of `eth_call` + `eth_estimateGas` per trade instead; those calls are
independent, so in that mode a buy that needs an earlier sell's proceeds is refused (plan it in a later
batch).

Each call runs in a block of its own after that block (number + 1, + 2, ..., one second apart), never in
the block itself: a transaction lands later, and a V2 pair or V3 pool swapped in the latest block's second
writes its price oracle only when the timestamp has moved (up to ~45k gas more for a V2 swap on a fresh
pair). One block per call is the upper bound: two trades of the batch on one pool each pay the oracle
write, as they do when mined in different seconds. The eth_call fallback runs every call in the next
block (block overrides, see dex.reads). Swap deadlines (read block's timestamp + `deadline_seconds`, 600
by default) lie beyond the simulated timestamps (at most + 256 s); a shorter one is refused here.

Gas limit = `gas_limit_from_estimate(estimate)` (+20 %, chain/gas.py). gasUsed from a simulation is
after refunds (the vault's allowance resets earn some), while a transaction needs its gas before
refunds; refunds are capped at gasUsed / 4 of the pre-refund figure (EIP-3529: 1/5 of the gas used), so
the estimate taken from gasUsed is gasUsed * 5/4, rounded up. eth_estimateGas answers are used as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from vaultexec.chain.gas import gas_limit_from_estimate
from vaultexec.chain.revert import DecodedRevert, decode_revert
from vaultexec.dex.reads import BlockHeader, CallResult, CallRunner, ContractCall
from vaultexec.errors import PreflightRefusedError, VaultExecError
from vaultexec.execution.plan import SimulationResult, TradePlan
from vaultexec.model.trade import TradeExecution

logger = logging.getLogger(__name__)

REFUND_NUMERATOR = 5
REFUND_DENOMINATOR = 4


def estimate_from_gas_used(gas_used: int) -> int:
    """Pre-refund gas bound from a simulation's (post-refund) gasUsed: * 5/4, rounded up."""
    return -(-gas_used * REFUND_NUMERATOR // REFUND_DENOMINATOR)


def simulate_plans(runner: CallRunner, vault: str, asset_manager: str, plans: Sequence[TradePlan],
                   after: BlockHeader | None = None) -> None:
    """Simulate `plans` in order in the blocks after `after` (default: the latest block, read first); fill
    `simulation`, `gas_estimate`, `gas_limit` on each (no raise here)."""
    if after is None:
        after = BlockHeader.from_json(runner.client.call("eth_getBlockByNumber", ["latest", False]))
    calls = preflight_calls(vault, asset_manager, plans)
    if runner.use_simulate is not False:
        results, _ = runner.run(calls, after, calls_per_block=1)
    if runner.use_simulate is False:
        _simulate_with_eth_call(runner, calls, plans, after)
        return
    record_simulation(plans, results)


def preflight_calls(vault: str, asset_manager: str, plans: Sequence[TradePlan]) -> list[ContractCall]:
    """The batch's `execute` calls from the asset manager, in order (run one per block after the planning block)."""
    return [ContractCall(vault, plan.vault_calldata, asset_manager) for plan in plans]


def record_simulation(plans: Sequence[TradePlan], results: Sequence[CallResult]) -> None:
    """Fill `simulation`, `gas_estimate`, `gas_limit` of each plan from its eth_simulateV1 result."""
    for plan, result in zip(plans, results, strict=True):
        if result.success and result.gas_used is not None:
            estimate = estimate_from_gas_used(result.gas_used)
            plan.simulation = SimulationResult(True, "eth_simulateV1", result.gas_used)
            plan.gas_estimate = estimate
            plan.gas_limit = gas_limit_from_estimate(estimate)
        else:
            plan.simulation = SimulationResult(False, "eth_simulateV1", result.gas_used,
                                               _decode(result.data, result.error_message))


def _simulate_with_eth_call(runner: CallRunner, calls: Sequence[ContractCall], plans: Sequence[TradePlan],
                            after: BlockHeader) -> None:
    replies = runner.batch_calls([(method, call) for call in calls for method in ("eth_call", "eth_estimateGas")],
                                 after)
    for n, plan in enumerate(plans):
        call_reply, gas_reply = replies[2 * n], replies[2 * n + 1]
        if call_reply.error is None and gas_reply.error is None:
            estimate = int(gas_reply.result, 16)
            plan.simulation = SimulationResult(True, "eth_call", estimate)
            plan.gas_estimate = estimate
            plan.gas_limit = gas_limit_from_estimate(estimate)
        else:
            error = call_reply.error or gas_reply.error
            assert error is not None
            data = error.data if isinstance(error.data, str) else None
            plan.simulation = SimulationResult(False, "eth_call", None, _decode(data, error.rpc_message))


def _decode(data: bytes | str | None, message: str | None) -> DecodedRevert:
    decoded = decode_revert(data)
    if decoded.kind == "empty" and message and "out of gas" in message.lower():
        return DecodedRevert("out_of_gas", message)
    return decoded


def refuse_failed(plans: Sequence[TradePlan], describe: dict[int, str]) -> None:
    """Raise `PreflightRefusedError` naming every plan whose simulation failed (nothing was sent)."""
    failed = [p for p in plans if p.simulation is not None and not p.simulation.success]
    if not failed:
        return
    lines = []
    for plan in failed:
        assert plan.simulation is not None and plan.simulation.revert is not None
        lines.append(f"trade #{plan.trade_id} ({describe.get(plan.trade_id, '')}) would revert: "
                     f"{plan.simulation.revert}")
    first = failed[0].simulation
    assert first is not None and first.revert is not None
    message = ("; ".join(lines) + ". Nothing was signed or sent. Re-plan with a fresh quote or a wider "
               "slippage tolerance if it is a price move, otherwise fix the vault's guard or balances as "
               "the reason says.")
    raise PreflightRefusedError(message, [p.trade_id for p in failed], str(first.revert), first.revert.raw)


def record_failed(plans: list[TradePlan], trades: Sequence[TradeExecution],
                  refused: dict[int, VaultExecError]) -> bool:
    """Record each plan whose pre-flight failed as its trade's own PreflightRefusedError; True if any did."""
    describe = {t.trade_id: t.get_human_description() for t in trades}
    failed = [p for p in plans if p.simulation is not None and not p.simulation.success]
    for trade_plan in failed:
        try:
            refuse_failed([trade_plan], describe)
        except PreflightRefusedError as exc:
            refused[trade_plan.trade_id] = exc
    return bool(failed)
