"""Real-chain mode: with VAULTEXEC_FORK_RPC_URL set, trade through a vault on a fork of that chain using the
chain's real Uniswap deployment. Skipped (with the reason) when the variable is not set."""

from __future__ import annotations

from decimal import Decimal

import pytest
from web3 import Web3

from vaultexec.chain.wallet import HotWallet
from vaultexec.dex.deployments import get_deployment
from vaultexec.execution import VaultRouting
from vaultexec.model import AssetIdentifier, ExchangeKind, TradeExecution, TradeType, TradingPairIdentifier
from vaultexec.testing.plugin import ASSET_MANAGER_KEY
from vaultexec.testing.protocol import load_protocol_artifact
from vaultexec.vault.deploy import PoolConfig, RouterKind, SpendLimit, VaultConfig, configure_vault, deploy_vault

pytestmark = pytest.mark.real_fork

#: chain id -> (WETH9-compatible wrapped ether, native USDC) on chains whose WETH has deposit().
WETH_USDC: dict[int, tuple[str, str]] = {
    1: ("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"),
    8453: ("0x4200000000000000000000000000000000000006", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"),
    42161: ("0x82aF49447D8a07e3bd95BD0d56f35241523fBab1", "0xaf88d065e77c8cC2239327C5EDb3A432268e5831"),
}
FEE = 500


def test_sell_weth_through_a_vault_on_a_real_fork(real_fork_web3: Web3) -> None:
    web3 = real_fork_web3
    chain_id = web3.eth.chain_id
    if chain_id not in WETH_USDC:
        pytest.skip(f"no WETH9/USDC pair known for chain {chain_id}")
    weth_address, usdc_address = WETH_USDC[chain_id]
    deployment = get_deployment(chain_id)
    assert deployment.swap_router02 and deployment.v3_factory
    factory = web3.eth.contract(address=Web3.to_checksum_address(deployment.v3_factory),
                                abi=load_protocol_artifact("UniswapV3Factory").abi)
    pool = factory.functions.getPool(weth_address, usdc_address, FEE).call()

    owner = web3.eth.accounts[0]
    manager = HotWallet.from_key(ASSET_MANAGER_KEY, chain_id)
    web3.provider.make_request("anvil_setBalance", [manager.address, hex(10**19)])  # type: ignore[arg-type]
    vault = deploy_vault(web3, owner, manager.address)
    configure_vault(web3, vault, owner, VaultConfig(
        assets=[weth_address, usdc_address],
        routers={deployment.swap_router02: RouterKind.UNISWAP_V3_SWAP_ROUTER02},
        pools=[PoolConfig(deployment.swap_router02, weth_address, usdc_address, FEE)],
        spend_limits=[SpendLimit(weth_address, 10**18, 86_400)]))  # bounded by default: a spend limit
    weth = web3.eth.contract(address=Web3.to_checksum_address(weth_address), abi=load_protocol_artifact("WETH9").abi)
    weth.functions.deposit().transact({"from": owner, "value": 10**18})
    weth.functions.transfer(vault.address, 10**18).transact({"from": owner})

    weth_asset = AssetIdentifier(chain_id, weth_address, "WETH", 18)
    usdc_asset = AssetIdentifier(chain_id, usdc_address, "USDC", 6)
    pair = TradingPairIdentifier(weth_asset, usdc_asset, pool, deployment.swap_router02, FEE, ExchangeKind.uniswap_v3)
    trade = TradeExecution(
        trade_id=1, position_id=1, trade_type=TradeType.rebalance, pair=pair, opened_at=None,
        planned_quantity=Decimal("-0.5"), planned_reserve=Decimal(1), planned_price=Decimal(1),
        reserve_currency=usdc_asset, slippage_tolerance=Decimal("0.01"))
    plan = VaultRouting(web3, vault.address, manager.address, [pair]).setup_trades([trade], wallet=manager)
    signed = trade.blockchain_transactions[0].signed_bytes
    assert signed is not None
    receipt = web3.eth.wait_for_transaction_receipt(web3.eth.send_raw_transaction(signed))
    assert receipt["status"] == 1
    usdc = web3.eth.contract(address=Web3.to_checksum_address(usdc_address), abi=load_protocol_artifact("WETH9").abi)
    assert usdc.functions.balanceOf(vault.address).call() >= plan.plans[0].amount_out_min_raw
