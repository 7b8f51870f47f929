"""Gas of a swap through the vault (router path and direct path) versus the same swap from a wallet.

Run: .venv/bin/python benchmarks/vault_gas.py

Every figure is a receipt's gasUsed (the whole transaction: 21k base, calldata, execution, after refunds),
on a fresh local world (real Uniswap V2/V3 bytecode), same pools, same amount, same starting state (each
measurement runs between evm_snapshot and evm_revert). Steady state on both sides: every transaction lands
in a new block, each pool has swapped before (oracle slots already written), and the wallet and the vault
already hold every token of the routes, so no side pays a first-write SSTORE.
- "bare": the wallet's router swap with a standing unlimited allowance (no allowance write at all);
- "approve + swap": the wallet's approve transaction of the exact amount, then its swap transaction;
- "vault router": one `execute` = approve(exact amount) + router swap + allowance reset + checks + event;
  a mixed V3 -> V2 route has no single router call the vault accepts (SwapRouter02 multicall is refused);
- "vault direct": one `executeDirect` through the pools themselves (no router, no approval).
Targets (direct path, no limits): <= 1.10 x bare for single hops, <= 1.05 x for two hops; with a spend limit
<= 1.20 x. The V3 -> V2 wallet baseline is SwapRouter02's multicall (V3 hop into the router, V2 hop out).

Tables: the loss bound off (the spent asset opted in as unbounded), a rolling spend limit on the spent
asset, and the loss bound on with Chainlink-style feeds (the world vault's default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.contract import Contract

from vaultexec.testing.anvil import AnvilInstance, launch_anvil
from vaultexec.testing.plugin import CODE_SIZE_LIMIT, make_web3
from vaultexec.testing.vaults import deploy_world_vault
from vaultexec.testing.world import World, deploy_world

MAX_UINT256 = 2**256 - 1
DEADLINE = 2**40
AMOUNT_IN = 10_000 * 10**6  # 10,000 USDC
ADDRESS_THIS = "0x0000000000000000000000000000000000000002"  # SwapRouter02: keep the output in the router
#: (hops of V2/V3 from the vault's point of view) -> target of vault direct / bare
TARGETS = {1: 1.10, 2: 1.05}
LIMIT_TARGET = 1.20
V2, V3 = 1, 2  # DirectProtocol


@dataclass(frozen=True)
class Route:
    """A route of the world: tokens by symbol, and per hop (protocol, fee)."""
    label: str
    symbols: tuple[str, ...]
    hops: tuple[tuple[int, int], ...]


ROUTES: tuple[Route, ...] = (
    Route("V2 USDC->WETH", ("USDC", "WETH"), ((V2, 3000),)),
    Route("V3 USDC->WETH 0.05%", ("USDC", "WETH"), ((V3, 500),)),
    Route("V2->V2 USDC->WETH->WBTC", ("USDC", "WETH", "WBTC"), ((V2, 3000), (V2, 3000))),
    Route("V3->V3 USDC->WETH->WBTC", ("USDC", "WETH", "WBTC"), ((V3, 500), (V3, 3000))),
    Route("V3->V2 USDC->WETH->WBTC", ("USDC", "WETH", "WBTC"), ((V3, 500), (V2, 3000))),
)


@dataclass(frozen=True)
class Row:
    label: str
    hops: int
    bare_swap: int
    approve: int
    swap_after_approve: int
    vault_router: int | None
    vault_direct: int


def _send(web3: Web3, sender: str, to: str, data: str) -> int:
    # Each transaction in a later block, as on a live chain: pools then update their price oracles.
    web3.provider.make_request("evm_increaseTime", [12])  # type: ignore[arg-type]
    tx_hash = web3.eth.send_transaction({"from": sender, "to": to, "data": data, "gas": 3_000_000})  # type: ignore[typeddict-item]
    receipt = web3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1:
        raise RuntimeError(f"benchmark transaction to {to} reverted")
    return int(receipt["gasUsed"])


def _isolated(node: AnvilInstance, measure: Callable[[], int]) -> int:
    snapshot = node.rpc("evm_snapshot")
    try:
        return measure()
    finally:
        node.rpc("evm_revert", [snapshot])


def _v3_path(world: World, route: Route) -> bytes:
    out = bytes.fromhex(world.token(route.symbols[0]).address[2:])
    for (_, fee), symbol in zip(route.hops, route.symbols[1:], strict=True):
        out += fee.to_bytes(3, "big") + bytes.fromhex(world.token(symbol).address[2:])
    return out


def _router_call(world: World, route: Route, recipient: str) -> tuple[Contract, str]:
    """The wallet's (and the vault's router path's) one router call for `route`."""
    tokens = [world.token(symbol).address for symbol in route.symbols]
    kinds = {protocol for protocol, _ in route.hops}
    if kinds == {V2}:
        router = world.uniswap_v2_router
        return router, str(router.encode_abi(
            "swapExactTokensForTokens", args=[AMOUNT_IN, 1, tokens, recipient, DEADLINE]))
    if kinds == {V3}:
        router = world.swap_router
        if len(route.hops) == 1:
            return router, str(router.encode_abi("exactInputSingle", args=[(
                tokens[0], tokens[1], route.hops[0][1], recipient, DEADLINE, AMOUNT_IN, 1, 0)]))
        return router, str(router.encode_abi("exactInput", args=[(
            _v3_path(world, route), recipient, DEADLINE, AMOUNT_IN, 1)]))
    # V3 then V2: SwapRouter02 multicall, the V3 output kept in the router, then spent by the V2 hop.
    router = world.swap_router02
    first = router.encode_abi("exactInputSingle", args=[(
        tokens[0], tokens[1], route.hops[0][1], ADDRESS_THIS, AMOUNT_IN, 1, 0)])
    second = router.encode_abi("swapExactTokensForTokens", args=[0, 1, tokens[1:], recipient])
    return router, str(router.encode_abi("multicall", args=[[first, second]]))


def _direct_route(world: World, route: Route) -> tuple[list[str], list[str], int, int, int]:
    tokens: list[str] = [world.token(symbol).address for symbol in route.symbols]
    pools: list[str] = [world.v2_pair(a, b) if protocol == V2 else world.v3_pool(a, b, fee)
             for (protocol, fee), a, b in zip(route.hops, route.symbols[:-1], route.symbols[1:], strict=True)]
    return (tokens, pools, AMOUNT_IN, 1, DEADLINE)


def _measure(node: AnvilInstance, world: World, vault: Contract, manager: str, eoa: str, route: Route) -> Row:
    web3, usdc = world.web3, world.usdc
    out_token = world.token(route.symbols[-1]).address
    router, _ = _router_call(world, route, eoa)

    def approve_data(amount: int) -> str:
        return str(usdc.encode_abi("approve", args=[router.address, amount]))

    def bare() -> int:
        _send(web3, eoa, usdc.address, approve_data(MAX_UINT256))
        return _send(web3, eoa, router.address, _router_call(world, route, eoa)[1])

    def approve_only() -> int:
        return _send(web3, eoa, usdc.address, approve_data(AMOUNT_IN))

    def swap_after_approve() -> int:
        _send(web3, eoa, usdc.address, approve_data(AMOUNT_IN))
        return _send(web3, eoa, router.address, _router_call(world, route, eoa)[1])

    def vault_router() -> int:
        swap = _router_call(world, route, vault.address)[1]
        calls = [(usdc.address, approve_data(AMOUNT_IN)), (router.address, swap)]
        data = vault.encode_abi("execute", args=[calls, [(usdc.address, AMOUNT_IN)], [(out_token, 1)]])
        return _send(web3, manager, vault.address, data)

    def vault_direct() -> int:
        data = vault.encode_abi("executeDirect", args=[
            [_direct_route(world, route)], [(usdc.address, AMOUNT_IN)], [(out_token, 1)]])
        return _send(web3, manager, vault.address, data)

    mixed = len({protocol for protocol, _ in route.hops}) > 1
    return Row(route.label, len(route.hops), _isolated(node, bare), _isolated(node, approve_only),
               _isolated(node, swap_after_approve), None if mixed else _isolated(node, vault_router),
               _isolated(node, vault_direct))


def _table(title: str, rows: list[Row], limited: bool) -> list[str]:
    lines = [f"### {title}", "",
             "| route | bare swap (max allowance) | approve + swap | vault router | vault direct "
             "| direct / bare | router / bare | direct / router |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        target = LIMIT_TARGET if limited else TARGETS[row.hops]
        direct = row.vault_direct / row.bare_swap
        router = "refused" if row.vault_router is None else f"{row.vault_router:,}"
        router_ratio = "-" if row.vault_router is None else f"{row.vault_router / row.bare_swap:.3f}"
        vs_router = "-" if row.vault_router is None else f"{row.vault_direct / row.vault_router:.3f}"
        lines.append(
            f"| {row.label} | {row.bare_swap:,} | {row.approve:,} + {row.swap_after_approve:,} "
            f"= {row.approve + row.swap_after_approve:,} | {router} | {row.vault_direct:,} "
            f"| {direct:.3f} {'ok' if direct <= target else 'MISS'} (<= {target}) | {router_ratio} | {vs_router} |")
    return lines


def _allow_direct_pools(world: World, vault: Contract) -> None:
    owner = world.deployer
    fns = vault.functions
    seen: set[tuple[int, str, str, int]] = set()
    for route in ROUTES:
        for (protocol, fee), a, b in zip(route.hops, route.symbols[:-1], route.symbols[1:], strict=True):
            key = (protocol, a, b, fee)
            if key in seen:
                continue
            seen.add(key)
            factory = world.uniswap_v2_factory if protocol == V2 else world.uniswap_v3_factory
            fns.setDirectPoolAllowed(factory.address, protocol, world.token(a).address, world.token(b).address,
                                     fee, True).transact({"from": owner})


@dataclass(frozen=True)
class GasWorld:
    """The benchmarks' world: a wallet (`eoa`) holding every token of the routes, the asset manager, and the
    world vault with every pool of the routes allowed on the direct path."""
    web3: Web3
    world: World
    eoa: str
    manager: str
    vault: Contract


def gas_world(node: AnvilInstance) -> GasWorld:
    """Deploy the world and the vault on `node`; fund the wallet (steady state: it holds every token, like
    the vault)."""
    web3 = make_web3(node.url)
    world = deploy_world(web3)
    accounts = list(web3.eth.accounts)
    eoa, manager = Web3.to_checksum_address(accounts[1]), Web3.to_checksum_address(accounts[2])
    vault = deploy_world_vault(world, manager)
    _allow_direct_pools(world, vault)
    for symbol in ("USDC", "WETH", "WBTC"):
        world.fund(symbol, eoa, 10 ** world.decimals(symbol) * {"USDC": 1_000_000, "WETH": 300, "WBTC": 10}[symbol])
    return GasWorld(web3, world, eoa, manager, vault)


def warm_routes(g: GasWorld, allowance: int = AMOUNT_IN) -> None:
    """One wallet swap per route first: every pool has swapped (oracle slots written), so no measurement
    pays a first-write SSTORE."""
    for route in ROUTES:
        router, data = _router_call(g.world, route, g.eoa)
        _send(g.web3, g.eoa, g.world.usdc.address, g.world.usdc.encode_abi("approve", args=[router.address, allowance]))
        _send(g.web3, g.eoa, router.address, data)


def main() -> None:
    with launch_anvil(code_size_limit=CODE_SIZE_LIMIT) as node:
        g = gas_world(node)
        world, eoa, manager, vault = g.world, g.eoa, g.manager, g.vault
        warm_routes(g)

        def measured(*settings: Any) -> list[Row]:
            snapshot = node.rpc("evm_snapshot")
            for fn in settings:
                fn.transact({"from": world.deployer})
            rows = [_measure(node, world, vault, manager, eoa, route) for route in ROUTES]
            node.rpc("evm_revert", [snapshot])
            return rows

        fns, usdc = vault.functions, world.usdc.address
        off = measured(fns.disableLossBound(), fns.setUnboundedSpendAllowed(usdc, True))
        limited = measured(fns.disableLossBound(), fns.setSpendLimit(usdc, 10**6 * 10**6, 86_400))
        chainlink = measured()  # the world vault: every asset feed-priced, loss bound on

    out: list[Any] = ["Vault gas: receipt gasUsed (whole transaction); targets: vault direct / bare "
                      f"<= {TARGETS[1]} (one hop), <= {TARGETS[2]} (two hops); with a spend limit <= {LIMIT_TARGET}",
                      ""]
    out += [*_table("no limits: loss bound off (spent asset opted in as unbounded), no spend limit", off, False), ""]
    out += [*_table("rolling spend limit on the spent asset, loss bound off", limited, True), ""]
    out += [*_table("loss bound on: Chainlink-style feeds (MockV3Aggregator) on every asset", chainlink, True), ""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
