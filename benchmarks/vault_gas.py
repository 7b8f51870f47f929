"""Gas of a swap through the vault versus the same swap sent straight to the router from an EOA.

Run: .venv/bin/python benchmarks/vault_gas.py

Every figure is a receipt's gasUsed (the whole transaction: 21k base, calldata, execution, after refunds),
on a fresh local world (real Uniswap V2/V3 bytecode), same pool, same amount, same starting state (each
measurement runs between evm_snapshot and evm_revert). Steady state on both sides: every transaction lands
in a new block, each pool has swapped before (oracle slots already written), and the EOA and the vault
already hold both tokens, so no side pays a first-write SSTORE.
- "bare swap": the EOA's swap with a standing unlimited allowance (no allowance write at all);
- "approve + swap": the EOA's approve transaction of the exact amount, then its swap transaction (this swap
  is the cheaper one: the allowance x -> 0 write earns a refund);
- "vault": one `execute` = approve(exact amount) + swap + allowance reset + bounds checks + `Executed`.
Targets: vault <= 1.25 x the cheaper of the two EOA swaps; vault <= 1.0 x approve + swap.

Tables: the loss bound off (the spent asset opted in as unbounded), the loss bound on with Chainlink-style
feeds on both assets (the world vault's default), the bound on with the received WETH priced by the
USDC/WETH 0.3% V3 pool's 30-minute TWAP (in USDC, itself feed-priced), and a rolling spend limit. The last
table prints what the loss bound costs per execute (gas with the bound - gas without it).
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
SINGLE_TARGET = 1.25
TWO_TX_TARGET = 1.0

#: (label, router attribute of World, swap builder) ; builder(world, router, recipient) -> calldata hex
SwapBuilder = Callable[[World, Contract, str], str]


def _v2_swap(world: World, router: Contract, recipient: str) -> str:
    return str(router.encode_abi("swapExactTokensForTokens", args=[
        AMOUNT_IN, 1, [world.usdc.address, world.weth.address], recipient, DEADLINE]))


def _v3_single(world: World, router: Contract, recipient: str) -> str:
    return str(router.encode_abi("exactInputSingle", args=[(
        world.usdc.address, world.weth.address, 500, recipient, DEADLINE, AMOUNT_IN, 1, 0)]))


def _router02_v3_single(world: World, router: Contract, recipient: str) -> str:
    return str(router.encode_abi("exactInputSingle", args=[(
        world.usdc.address, world.weth.address, 500, recipient, AMOUNT_IN, 1, 0)]))


SCENARIOS: tuple[tuple[str, str, SwapBuilder], ...] = (
    ("V2 USDC->WETH (UniswapV2Router02)", "uniswap_v2_router", _v2_swap),
    ("V3 USDC->WETH 0.05% (SwapRouter)", "swap_router", _v3_single),
    ("V3 USDC->WETH 0.05% (SwapRouter02)", "swap_router02", _router02_v3_single),
)


@dataclass(frozen=True)
class Row:
    label: str
    bare_swap: int
    approve: int
    swap_after_approve: int
    vault: int


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


def _measure(node: AnvilInstance, world: World, vault: Contract, manager: str, eoa: str,
             label: str, router_name: str, build: SwapBuilder) -> Row:
    web3 = world.web3
    router: Contract = getattr(world, router_name)
    usdc = world.usdc

    def approve_data(amount: int) -> str:
        return str(usdc.encode_abi("approve", args=[router.address, amount]))

    def bare() -> int:
        _send(web3, eoa, usdc.address, approve_data(MAX_UINT256))
        return _send(web3, eoa, router.address, build(world, router, eoa))

    def approve_only() -> int:
        return _send(web3, eoa, usdc.address, approve_data(AMOUNT_IN))

    def swap_after_approve() -> int:
        _send(web3, eoa, usdc.address, approve_data(AMOUNT_IN))
        return _send(web3, eoa, router.address, build(world, router, eoa))

    def through_vault() -> int:
        calls = [(usdc.address, approve_data(AMOUNT_IN)), (router.address, build(world, router, vault.address))]
        data = vault.encode_abi("execute", args=[calls, [(usdc.address, AMOUNT_IN)], [(world.weth.address, 1)]])
        return _send(web3, manager, vault.address, data)

    return Row(label, _isolated(node, bare), _isolated(node, approve_only), _isolated(node, swap_after_approve),
               _isolated(node, through_vault))


def _table(title: str, rows: list[Row]) -> list[str]:
    lines = [f"### {title}", "",
             "| swap | bare swap (max allowance) | approve + swap | vault execute "
             "| vault / cheaper EOA swap | vault / (approve + swap) |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        two_tx = row.approve + row.swap_after_approve
        single, both = row.vault / min(row.bare_swap, row.swap_after_approve), row.vault / two_tx
        lines.append(
            f"| {row.label} | {row.bare_swap:,} | {row.approve:,} + {row.swap_after_approve:,} = {two_tx:,} "
            f"| {row.vault:,} | {single:.3f} {'ok' if single <= SINGLE_TARGET else 'MISS'} "
            f"| {both:.3f} {'ok' if both <= TWO_TX_TARGET else 'MISS'} |")
    return lines


def main() -> None:
    with launch_anvil(code_size_limit=CODE_SIZE_LIMIT) as node:
        web3 = make_web3(node.url)
        world = deploy_world(web3)
        accounts = list(web3.eth.accounts)
        eoa, manager = Web3.to_checksum_address(accounts[1]), Web3.to_checksum_address(accounts[2])
        vault = deploy_world_vault(world, manager)
        for symbol in ("USDC", "WETH"):  # steady state: the EOA holds both tokens, like the vault
            world.fund(symbol, eoa, 1_000_000 * 10 ** world.decimals(symbol) // (1 if symbol == "USDC" else 3000))

        for _, router_name, build in SCENARIOS:  # oracle slots written once, so no first-write SSTORE later
            router = getattr(world, router_name)
            _send(web3, eoa, world.usdc.address, world.usdc.encode_abi("approve", args=[router.address, AMOUNT_IN]))
            _send(web3, eoa, router.address, build(world, router, eoa))

        def measured(*settings: Any) -> list[Row]:
            snapshot = node.rpc("evm_snapshot")
            for fn in settings:
                fn.transact({"from": world.deployer})
            rows = [_measure(node, world, vault, manager, eoa, *scenario) for scenario in SCENARIOS]
            node.rpc("evm_revert", [snapshot])
            return rows

        fns, usdc = vault.functions, world.usdc.address
        off = measured(fns.disableLossBound(), fns.setUnboundedSpendAllowed(usdc, True))
        chainlink = measured()  # the world vault: both assets feed-priced, loss bound on
        twap = measured(fns.setPriceTwap(world.weth.address, world.v3_pool("USDC", "WETH", 3000), 1800))
        limited = measured(fns.disableLossBound(), fns.setSpendLimit(usdc, 10**6 * 10**6, 86_400))

    out: list[Any] = ["Vault gas: receipt gasUsed (whole transaction); targets: vault / cheaper EOA swap "
                      f"<= {SINGLE_TARGET}, vault / (approve + swap) <= {TWO_TX_TARGET}", ""]
    out += [*_table("loss bound off (spent asset opted in as unbounded), no spend limit", off), ""]
    out += [*_table("loss bound on: Chainlink-style feeds (MockV3Aggregator) on USDC and WETH", chainlink), ""]
    out += [*_table("loss bound on: WETH by the USDC/WETH 0.3% V3 TWAP (30 min), USDC by its feed", twap), ""]
    out += [*_table("loss bound off, rolling spend limit on the spent asset (one more storage write)", limited), ""]
    out += ["### what the loss bound costs per execute (gas with it - gas without it)", "",
            "| swap | Chainlink feeds | TWAP + feed |", "| --- | ---: | ---: |"]
    for base, feed, pool in zip(off, chainlink, twap, strict=True):
        out.append(f"| {base.label} | +{feed.vault - base.vault:,} | +{pool.vault - base.vault:,} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
