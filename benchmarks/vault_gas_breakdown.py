"""Where the gas of one `executeDirect` goes: per-opcode accounting of the vault's own frame.

Run: .venv/bin/python benchmarks/vault_gas_breakdown.py [route label prefix, default "V2 USDC"] [--limit] [--dump]

Same world and steady state as benchmarks/vault_gas.py (loss bound off, the spent asset opted in as
unbounded; `--limit`: a rolling spend limit on it instead). The transaction is traced with
`debug_traceTransaction` (struct logs). Each opcode of the vault's frame (depth 1) costs the gas between it
and the next opcode of that frame, so a CALL/STATICCALL includes everything its callee spent (reported per
callee and selector). Printed: intrinsic gas (21k + calldata zero/non-zero bytes), the vault frame by
category (cold/warm SLOAD with the slot, SSTORE, calls, LOG, transient storage, memory/compute), the refund,
and the wallet's bare router swap of the same route for comparison.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from vault_gas import ROUTES, _direct_route, _router_call, _send, gas_world, warm_routes
from web3 import Web3

from vaultexec.testing.anvil import launch_anvil
from vaultexec.testing.plugin import CODE_SIZE_LIMIT

DUMP = Path("/tmp/vault_gas_steps.json")
CALLS = {"CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"}
SELECTORS = {"70a08231": "balanceOf", "a9059cbb": "transfer", "0902f1ac": "getReserves", "022c0d9f": "swap(V2)",
             "128acb08": "swap(V3)", "095ea7b3": "approve", "dd62ed3e": "allowance", "fa461e33": "callback"}


def _frame_costs(logs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], int]]:
    """(step, gas) for every step of depth 1, a call's gas including its callee's."""
    out: list[tuple[dict[str, Any], int]] = []
    n = len(logs)
    for i, step in enumerate(logs):
        if step["depth"] != 1:
            continue
        j = i + 1
        while j < n and logs[j]["depth"] != 1:
            j += 1
        cost = step["gas"] - logs[j]["gas"] if j < n else step["gasCost"]
        out.append((step, cost))
    return out


def _categorise(steps: list[tuple[dict[str, Any], int]], names: dict[str, str]) -> dict[str, int]:
    """Gas per category; opcodes worth counting (SLOAD, calls, LOG, SSTORE, transient) named with (xN)."""
    cats: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    for step, cost in steps:
        op = step["op"]
        key = _key(op, step.get("stack", []), cost, names)
        if key is not None:
            counts[key] += 1
        elif op == "KECCAK256":
            key = "KECCAK256"
        elif op in ("CALLDATALOAD", "CALLDATACOPY", "CALLDATASIZE"):
            key = "calldata reads"
        elif op in ("MLOAD", "MSTORE", "MSTORE8", "MCOPY", "RETURNDATACOPY", "RETURN", "REVERT"):
            key = "memory / return"
        else:
            key = "compute (stack, jumps, arithmetic)"
        cats[key] += cost
    return {f"{name} (x{counts[name]})" if name in counts else name: cost for name, cost in cats.items()}


def _key(op: str, stack: list[str], cost: int, names: dict[str, str]) -> str | None:
    if op == "SLOAD":
        return f"SLOAD {'cold' if cost >= 2100 else 'warm'} {stack[-1][:18]}..."
    if op in CALLS:
        target = "0x" + stack[-2][-40:].rjust(40, "0")
        return f"{op} {names.get(Web3.to_checksum_address(target), target)}"
    if op == "SSTORE" or op.startswith("LOG") or op in ("TLOAD", "TSTORE"):
        return op
    return None


def main() -> None:
    prefix = next((a for a in sys.argv[1:] if not a.startswith("--")), "V2 USDC")
    route = next(r for r in ROUTES if r.label.startswith(prefix))
    with launch_anvil(code_size_limit=CODE_SIZE_LIMIT, extra_args=["--steps-tracing"]) as node:
        g = gas_world(node)
        web3, world, eoa, manager, vault = g.web3, g.world, g.eoa, g.manager, g.vault
        warm_routes(g, 2**256 - 1)
        fns, usdc = vault.functions, world.usdc.address
        fns.disableLossBound().transact({"from": world.deployer})
        if "--limit" in sys.argv:
            fns.setSpendLimit(usdc, 10**12, 86_400).transact({"from": world.deployer})
        else:
            fns.setUnboundedSpendAllowed(usdc, True).transact({"from": world.deployer})

        names: dict[str, str] = {vault.address: "vault"}
        for symbol, token in world.tokens.items():
            names[token.address] = symbol
        _, pools, *_ = _direct_route(world, route)
        for k, pool in enumerate(pools):
            names[Web3.to_checksum_address(pool)] = f"pool{k}"
        out_token = world.token(route.symbols[-1]).address
        data = vault.encode_abi("executeDirect", args=[[_direct_route(world, route)], [(usdc, 10_000 * 10**6)],
                                                       [(out_token, 1)]])
        bare_router, bare_data = _router_call(world, route, eoa)
        bare = _send(web3, eoa, bare_router.address, bare_data)
        bare_hash = web3.eth.get_block("latest")["transactions"][0]
        bare_trace = node.rpc("debug_traceTransaction", [_hex(bare_hash), {"enableMemory": False}], timeout=120)
        names[bare_router.address] = "router"
        web3.provider.make_request("evm_increaseTime", [12])  # type: ignore[arg-type]
        tx_hash = web3.eth.send_transaction({"from": manager, "to": vault.address, "data": data, "gas": 3_000_000})
        receipt = web3.eth.wait_for_transaction_receipt(tx_hash)
        trace = node.rpc("debug_traceTransaction", [_hex(tx_hash), {"enableMemory": False}], timeout=120)

    raw = bytes.fromhex(data[2:])
    zeros = raw.count(0)
    calldata_gas = 4 * zeros + 16 * (len(raw) - zeros)
    logs = trace["structLogs"]
    steps = _frame_costs(logs)
    cats = _categorise(steps, names)
    if "--dump" in sys.argv:  # (pc, op, gas) of the vault's frame, for attributing it to source lines
        DUMP.write_text(json.dumps([(st["pc"], st["op"], cost) for st, cost in steps]))
    frame = sum(cats.values())
    used = int(receipt["gasUsed"])
    print(f"executeDirect {route.label}: gasUsed {used:,}; wallet bare router swap {bare:,} ({used / bare:.3f}x)")
    print(f"intrinsic: 21,000 + calldata {len(raw)} bytes ({zeros} zero x4, {len(raw) - zeros} non-zero x16)"
          f" = {calldata_gas:,}")
    print(f"vault frame: {frame:,} (refund / rounding: {21_000 + calldata_gas + frame - used:,})")
    for name, cost in sorted(cats.items(), key=lambda kv: -kv[1]):
        print(f"  {cost:>8,}  {name}")
    bare_raw = bytes.fromhex(bare_data[2:])
    bare_zeros = bare_raw.count(0)
    bare_cats = _categorise(_frame_costs(bare_trace["structLogs"]), names)
    print(f"\nwallet bare router swap: gasUsed {bare:,}; calldata {len(bare_raw)} bytes ({bare_zeros} zero) = "
          f"{4 * bare_zeros + 16 * (len(bare_raw) - bare_zeros):,}; router frame {sum(bare_cats.values()):,}")
    for name, cost in sorted(bare_cats.items(), key=lambda kv: -kv[1]):
        print(f"  {cost:>8,}  {name}")


def _hex(value: Any) -> str:
    text = value.hex() if hasattr(value, "hex") else str(value)
    return text if text.startswith("0x") else "0x" + text


if __name__ == "__main__":
    main()
