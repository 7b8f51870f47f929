"""Runnable example of the routing interface (docs/routing.md): plan, sign and send one vault trade.

Starts its own anvil, deploys the local world and a vault, then buys WETH with 10,000 USDC through
Uniswap V3 via the vault. Run: `.venv/bin/python scripts/routing_example.py`.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from vaultexec.chain.rpc import RPCClient, connect_web3
from vaultexec.chain.wallet import HotWallet
from vaultexec.dex.deployments import register_world
from vaultexec.execution import VaultRouting
from vaultexec.model import AssetIdentifier, ExchangeKind, TradeExecution, TradeType, TradingPairIdentifier
from vaultexec.testing.anvil import launch_anvil
from vaultexec.testing.vaults import deploy_world_vault
from vaultexec.testing.world import deploy_world

MANAGER_KEY = "0x" + "11" * 32


def main() -> None:
    with launch_anvil(code_size_limit=100_000) as anvil:
        client = RPCClient(anvil.url)
        web3 = connect_web3(client)
        world = deploy_world(web3)
        register_world(world.addresses)  # on a real chain the registry already knows Uniswap
        manager = HotWallet.from_key(MANAGER_KEY, world.chain_id)
        web3.provider.make_request("anvil_setBalance", [manager.address, hex(10**18)])  # type: ignore[arg-type]
        vault = deploy_world_vault(world, manager.address)

        usdc = AssetIdentifier(world.chain_id, world.usdc.address, "USDC", 6)
        weth = AssetIdentifier(world.chain_id, world.weth.address, "WETH", 18)
        pair = TradingPairIdentifier(weth, usdc, world.v3_pool("USDC", "WETH", 500), world.swap_router.address,
                                     500, ExchangeKind.uniswap_v3)
        trade = TradeExecution(
            trade_id=1, position_id=1, trade_type=TradeType.rebalance, pair=pair, opened_at=None,
            planned_quantity=Decimal("3.3"), planned_reserve=Decimal(10_000), planned_price=Decimal(3000),
            reserve_currency=usdc, slippage_tolerance=Decimal("0.005"))

        routing = VaultRouting(web3, vault.address, manager.address, [pair])
        plan = routing.setup_trades([trade], wallet=manager)
        trade_plan = plan.plans[0]
        tx = trade.blockchain_transactions[0]
        print(f"planned at block {plan.block_number} with {plan.rpc_requests} JSON-RPC requests")
        print(f"route: {trade_plan.route.describe()}")
        print(f"spend {trade_plan.raw_amount_in} raw USDC, expect {trade_plan.expected_out_raw} raw WETH, "
              f"at least {trade_plan.amount_out_min_raw}")
        print(f"price {trade.planned_price:.4f}, mid {trade.planned_mid_price:.4f}, "
              f"LP fees {trade.lp_fees_estimated:.6f} USDC; gas limit {tx.gas_limit}")

        assert tx.signed_bytes is not None
        tx_hash = client.call("eth_sendRawTransaction", [tx.signed_bytes])
        receipt = web3.eth.wait_for_transaction_receipt(tx_hash)
        print(f"sent {tx_hash}: status {receipt['status']}, gas used {receipt['gasUsed']}")
        received = world.weth.functions.balanceOf(vault.address).call() - 300 * 10**18
        print(f"vault received {received} raw WETH (minimum was {trade_plan.amount_out_min_raw})")
        assert receipt["status"] == 1 and received >= trade_plan.amount_out_min_raw


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
