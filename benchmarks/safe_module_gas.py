"""Gas of a swap through the Safe module (custody in a Safe 1.4.1, SafeL2 singleton) versus our vault versus
the same swap from a wallet: same routes, same amounts, same starting state.

Run: .venv/bin/python benchmarks/safe_module_gas.py

Figures are receipts' gasUsed, measured as in benchmarks/vault_gas.py (each between evm_snapshot and
evm_revert, every transaction in a new block, pools and holders already warm). Both guards are configured
alike: the world vault's configuration (loss bound on, Chainlink-style feeds on every asset) plus the direct
pools of the routes. The module pays for each of its moves through the Safe
(`execTransactionFromModuleReturnData`: the Safe's module check, the call, the SafeModuleTransaction and
ExecutionFromModuleSuccess events of SafeL2): approve, swap and (when the swap left any) the allowance
reset on the router path; the pool payment on the direct path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3.contract import Contract

from vaultexec.testing.anvil import AnvilInstance, launch_anvil
from vaultexec.testing.plugin import CODE_SIZE_LIMIT
from vaultexec.testing.safes import make_test_safe
from vaultexec.testing.vaults import SafeCustodyVault, deploy_world_safe_vault
from vaultexec.testing.world import World
from vaultexec.vault.safe_module import execute_as_owners, module_call_tx

from vault_gas import (  # isort: skip
    AMOUNT_IN, MAX_UINT256, ROUTES, V2, Route, _direct_route, _isolated, _router_call, _send, gas_world, warm_routes)


@dataclass(frozen=True)
class Row:
    label: str
    bare: int
    vault_router: int | None
    module_router: int | None
    vault_direct: int
    module_direct: int


def _allow_module_direct_pools(world: World, safe_vault: SafeCustodyVault) -> None:
    """The routes' pools as direct pools of the module: one Safe transaction of the owners per pool."""
    safe, seen = safe_vault.safe, set()
    for route in ROUTES:
        for (protocol, fee), a, b in zip(route.hops, route.symbols[:-1], route.symbols[1:], strict=True):
            if (protocol, a, b, fee) in seen:
                continue
            seen.add((protocol, a, b, fee))
            factory = world.uniswap_v2_factory if protocol == V2 else world.uniswap_v3_factory
            tx = module_call_tx(safe.contract, safe_vault.module, "setDirectPoolAllowed", factory.address, protocol,
                                world.token(a).address, world.token(b).address, fee, True)
            execute_as_owners(safe.contract, tx, safe.signers())


def _measure(node: AnvilInstance, world: World, vault: Contract, safe_vault: SafeCustodyVault, manager: str,
             eoa: str, route: Route) -> Row:
    web3, usdc = world.web3, world.usdc
    out_token = world.token(route.symbols[-1]).address
    router, _ = _router_call(world, route, eoa)
    mixed = len({protocol for protocol, _ in route.hops}) > 1

    def approve_data(amount: int) -> str:
        return str(usdc.encode_abi("approve", args=[router.address, amount]))

    def bare() -> int:
        _send(web3, eoa, usdc.address, approve_data(MAX_UINT256))
        return _send(web3, eoa, router.address, _router_call(world, route, eoa)[1])

    def through_router(guard: Contract, custody: str) -> int:
        calls = [(usdc.address, approve_data(AMOUNT_IN)), (router.address, _router_call(world, route, custody)[1])]
        data = guard.encode_abi("execute", args=[calls, [(usdc.address, AMOUNT_IN)], [(out_token, 1)]])
        return _send(web3, manager, guard.address, data)

    def direct(guard: Contract) -> int:
        data = guard.encode_abi("executeDirect", args=[
            [_direct_route(world, route)], [(usdc.address, AMOUNT_IN)], [(out_token, 1)]])
        return _send(web3, manager, guard.address, data)

    module, safe = safe_vault.module, safe_vault.custody
    return Row(route.label, _isolated(node, bare),
               None if mixed else _isolated(node, lambda: through_router(vault, vault.address)),
               None if mixed else _isolated(node, lambda: through_router(module, safe)),
               _isolated(node, lambda: direct(vault)), _isolated(node, lambda: direct(module)))


def _ratio(a: int | None, b: int | None) -> str:
    return "-" if a is None or b is None else f"{a / b:.3f}"


def _table(rows: list[Row]) -> list[str]:
    lines = ["| route | wallet bare swap | vault router | module router | vault direct | module direct "
             "| module/vault router | module/vault direct | module router/bare | module direct/bare |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        def fmt(value: int | None) -> str:
            return "refused" if value is None else f"{value:,}"
        lines.append(f"| {r.label} | {r.bare:,} | {fmt(r.vault_router)} | {fmt(r.module_router)} | "
                     f"{r.vault_direct:,} | {r.module_direct:,} | {_ratio(r.module_router, r.vault_router)} | "
                     f"{_ratio(r.module_direct, r.vault_direct)} | {_ratio(r.module_router, r.bare)} | "
                     f"{_ratio(r.module_direct, r.bare)} |")
    return lines


def main() -> None:
    with launch_anvil(code_size_limit=CODE_SIZE_LIMIT) as node:
        g = gas_world(node)
        world, eoa, manager, vault = g.world, g.eoa, g.manager, g.vault
        safe = make_test_safe(g.web3, world.addresses.safe, world.deployer)
        safe_vault = deploy_world_safe_vault(world, manager, safe)
        _allow_module_direct_pools(world, safe_vault)
        warm_routes(g)
        rows = [_measure(node, world, vault, safe_vault, manager, eoa, route) for route in ROUTES]

    out: list[Any] = ["Safe module gas: receipt gasUsed (whole transaction), loss bound on (the world vault's "
                      "configuration) for both guards; the module's custody is a Safe 1.4.1 (SafeL2).", ""]
    out += _table(rows)
    print("\n".join(out))


if __name__ == "__main__":
    main()
