"""Shared helpers of the routing tests (no tests here): world pairs, trades, sending a planned transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.dex.deployments import register_world
from vaultexec.execution.plan import TradePlan
from vaultexec.model import AssetIdentifier, ExchangeKind, TradeExecution, TradeType, TradingPairIdentifier
from vaultexec.testing.plugin import ASSET_MANAGER_KEY
from vaultexec.testing.world import World


def asset(world: World, symbol: str) -> AssetIdentifier:
    return AssetIdentifier(world.chain_id, world.token(symbol).address, symbol, world.decimals(symbol))


def world_pairs(world: World) -> dict[str, TradingPairIdentifier]:
    """The routes of the acceptance list, keyed by a short name; registers the world's deployment."""
    register_world(world.addresses)
    usdc, weth, wbtc = asset(world, "USDC"), asset(world, "WETH"), asset(world, "WBTC")
    v2, v3 = ExchangeKind.uniswap_v2, ExchangeKind.uniswap_v3
    router, swap_router, router02 = (world.uniswap_v2_router.address, world.swap_router.address,
                                     world.swap_router02.address)
    weth_usdc_v2 = TradingPairIdentifier(weth, usdc, world.v2_pair("USDC", "WETH"), router, 3000, v2)
    weth_usdc_v3 = TradingPairIdentifier(weth, usdc, world.v3_pool("USDC", "WETH", 500), swap_router, 500, v3)
    weth_usdc_r02 = TradingPairIdentifier(weth, usdc, world.v3_pool("USDC", "WETH", 3000), router02, 3000, v3)
    return {
        "v2": weth_usdc_v2,
        "v2_router02": TradingPairIdentifier(weth, usdc, world.v2_pair("USDC", "WETH"), router02, 3000, v2),
        "v2_three_way": TradingPairIdentifier(wbtc, usdc, world.v2_pair("WETH", "WBTC"), router, 3000, v2,
                                              intermediary_pair=weth_usdc_v2),
        "v3": weth_usdc_v3,
        "v3_router02": weth_usdc_r02,
        "v3_two_hop": TradingPairIdentifier(wbtc, usdc, world.v3_pool("WETH", "WBTC", 500), router02, 500, v3,
                                            intermediary_pair=weth_usdc_r02),
        "v3_two_hop_v1": TradingPairIdentifier(wbtc, usdc, world.v3_pool("WETH", "WBTC", 3000), swap_router, 3000,
                                               v3, intermediary_pair=weth_usdc_v3),
    }


#: Rough prices of the world, to give trades a plausible planned output.
PRICES = {"WETH": Decimal(3000), "WBTC": Decimal(60000)}


def make_trade(trade_id: int, pair: TradingPairIdentifier, usd: Decimal, buy: bool = True,
               tolerance: Decimal | None = Decimal("0.01")) -> TradeExecution:
    """A planned trade of about `usd` dollars of the pair's base."""
    price = PRICES[pair.base.token_symbol]
    quantity = (usd / price).quantize(Decimal(10) ** -min(pair.base.decimals, 12))
    return TradeExecution(
        trade_id=trade_id, position_id=1, trade_type=TradeType.rebalance, pair=pair, opened_at=None,
        planned_quantity=quantity if buy else -quantity, planned_reserve=usd, planned_price=price,
        reserve_currency=pair.quote, slippage_tolerance=tolerance)


def send_plan(web3: Web3, manager: LocalAccount, plan: TradePlan, vault: Contract) -> dict[str, Any]:
    """Sign and send the planned vault transaction with plain web3; returns the Executed event's args."""
    assert plan.gas_limit is not None
    tx = {"to": vault.address, "data": "0x" + plan.vault_calldata.hex(), "gas": plan.gas_limit, "value": 0,
          "nonce": web3.eth.get_transaction_count(manager.address), "chainId": web3.eth.chain_id,
          "maxFeePerGas": 2 * web3.eth.get_block("latest")["baseFeePerGas"] + 10**9,
          "maxPriorityFeePerGas": 10**9}
    signed = manager.sign_transaction(tx)
    receipt = web3.eth.wait_for_transaction_receipt(web3.eth.send_raw_transaction(signed.raw_transaction))
    assert receipt["status"] == 1, f"vault transaction reverted: {receipt}"
    (event,) = vault.events.Executed().process_receipt(receipt, errors=DISCARD)
    return dict(event["args"]) | {"gasUsed": receipt["gasUsed"]}


def nonce(web3: Web3, account: LocalAccount) -> int:
    return web3.eth.get_transaction_count(account.address, "pending")


def synced_wallet(web3: Web3) -> HotWallet:
    """The asset manager's hot wallet with its nonce already read: a signature would move `next_nonce`."""
    wallet = HotWallet.from_key(ASSET_MANAGER_KEY, web3.eth.chain_id)
    wallet.sync_nonce(RPCClient(web3.provider.endpoint_uri))  # type: ignore[attr-defined]
    return wallet
