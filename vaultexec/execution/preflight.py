"""Pre-flight: simulate every vault transaction from the asset manager before anything is signed.

One `eth_simulateV1` request runs the batch's `execute` calls in execution order on top of the latest
block, state carried from call to call, so a buy funded by an earlier sell of the same batch is judged
on the balance it will really have. Its gasUsed per call gives the gas estimate. Nodes without
`eth_simulateV1` get one HTTP batch of `eth_call` + `eth_estimateGas` per trade instead; those calls are
independent, so in that mode a buy that needs an earlier sell's proceeds is refused (plan it in a later
batch).

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
from vaultexec.chain.rpc import RPCClient
from vaultexec.dex.reads import CallRunner, ContractCall
from vaultexec.errors import PreflightRefusedError
from vaultexec.execution.plan import SimulationResult, TradePlan

logger = logging.getLogger(__name__)

REFUND_NUMERATOR = 5
REFUND_DENOMINATOR = 4


def estimate_from_gas_used(gas_used: int) -> int:
    """Pre-refund gas bound from a simulation's (post-refund) gasUsed: * 5/4, rounded up."""
    return -(-gas_used * REFUND_NUMERATOR // REFUND_DENOMINATOR)


def simulate_plans(runner: CallRunner, vault: str, asset_manager: str, plans: Sequence[TradePlan],
                   block: str = "latest") -> None:
    """Simulate `plans` in order; fill `simulation`, `gas_estimate`, `gas_limit` on each (no raise here)."""
    calls = [ContractCall(vault, plan.vault_calldata, asset_manager) for plan in plans]
    if runner.use_simulate is not False:
        results, _ = runner.run(calls, block)
    if runner.use_simulate is False:
        _simulate_with_eth_call(runner.client, calls, plans, block)
        return
    for plan, result in zip(plans, results, strict=True):
        if result.success and result.gas_used is not None:
            estimate = estimate_from_gas_used(result.gas_used)
            plan.simulation = SimulationResult(True, "eth_simulateV1", result.gas_used)
            plan.gas_estimate = estimate
            plan.gas_limit = gas_limit_from_estimate(estimate)
        else:
            plan.simulation = SimulationResult(False, "eth_simulateV1", result.gas_used,
                                               _decode(result.data, result.error_message))


def _simulate_with_eth_call(client: RPCClient, calls: Sequence[ContractCall], plans: Sequence[TradePlan],
                            block: str) -> None:
    requests: list[tuple[str, list[object]]] = []
    for call in calls:
        requests += [("eth_call", [call.to_json(), block]), ("eth_estimateGas", [call.to_json(), block])]
    replies = client.batch(requests)
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
