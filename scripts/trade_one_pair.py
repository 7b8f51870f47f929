"""Trade one pair through a vault with the library API (what `vaultexec trade` does, in ~60 lines).

Usage (key in VAULTEXEC_PRIVATE_KEY, the asset manager's):
    .venv/bin/python scripts/trade_one_pair.py --rpc-url URL --vault 0xVAULT --base 0xWETH --quote 0xUSDC \
        --router 0xSWAPROUTER --pool 0xPOOL --kind uniswap_v3 --fee 500 --buy 1000 --slippage 0.005
A buy spends AMOUNT of quote, a sell (--sell AMOUNT) sells AMOUNT of base. The router's deployment must be
known for the chain (dex.deployments; register yours with register_deployment for a fork or a test chain).
"""

from __future__ import annotations

import argparse
from decimal import Decimal

from vaultexec.chain.rpc import RPCClient, connect_web3
from vaultexec.chain.wallet import HotWallet
from vaultexec.dex.erc20 import decode_uint, encode_decimals, selector
from vaultexec.execution.executor import RoutingPlanner, VaultExecutionModel
from vaultexec.execution.routing import VaultRouting
from vaultexec.model import AssetIdentifier, ExchangeKind, TradeExecution, TradeType, TradingPairIdentifier, utc_now
from vaultexec.store import open_store


def read_asset(client: RPCClient, chain_id: int, address: str) -> AssetIdentifier:
    """Symbol and decimals from the token contract itself."""
    web3 = connect_web3(client)
    token = web3.to_checksum_address(address)
    decimals = decode_uint(bytes(web3.eth.call({"to": token, "data": encode_decimals()})))
    raw_symbol = bytes(web3.eth.call({"to": token, "data": selector("symbol()")}))
    symbol = raw_symbol[64:64 + int.from_bytes(raw_symbol[32:64], "big")].decode() if len(raw_symbol) > 32 else "?"
    return AssetIdentifier(chain_id, address, symbol, decimals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("--rpc-url", "--vault", "--base", "--quote", "--router", "--pool"):
        parser.add_argument(name, required=True)
    parser.add_argument("--kind", choices=[k.value for k in ExchangeKind], default="uniswap_v3")
    parser.add_argument("--fee", type=int, default=3000, help="pool fee tier; 0 for Uniswap V2")
    side = parser.add_mutually_exclusive_group(required=True)
    side.add_argument("--buy", metavar="AMOUNT", help="quote to spend")
    side.add_argument("--sell", metavar="AMOUNT", help="base to sell")
    parser.add_argument("--slippage", default="0.005", help="tolerance as a fraction (0.005 = 0.5 %%)")
    parser.add_argument("--store", default="sqlite:///vaultexec.db")
    args = parser.parse_args()

    client = RPCClient(args.rpc_url)
    chain_id = int(client.call("eth_chainId"), 16)
    wallet = HotWallet.from_env(chain_id)  # VAULTEXEC_PRIVATE_KEY; never printed
    base, quote = read_asset(client, chain_id, args.base), read_asset(client, chain_id, args.quote)
    pair = TradingPairIdentifier(base, quote, args.pool, args.router, args.fee, ExchangeKind(args.kind))
    amount = Decimal(args.buy or args.sell)
    buy = args.buy is not None
    store = open_store(args.store, args.vault)
    trade_id = max((t.trade_id for t in store.export_all()), default=0) + 1
    trade = TradeExecution(
        trade_id=trade_id, position_id=trade_id, trade_type=TradeType.rebalance, pair=pair, opened_at=utc_now(),
        planned_quantity=Decimal(1) if buy else -amount,  # routing replaces the unquoted side
        planned_reserve=amount if buy else Decimal(1), planned_price=Decimal(1), reserve_currency=quote,
        slippage_tolerance=Decimal(args.slippage))
    routing = VaultRouting(connect_web3(client), args.vault, wallet.address, [pair], client=client)
    executor = VaultExecutionModel(client, args.vault, RoutingPlanner(routing), wallet, store)
    (done,) = executor.execute_trades([trade])
    print(f"trade #{done.trade_id} {done.get_status().value}: {done.get_human_description()}")
    if done.is_failed():
        print(f"revert reason: {done.get_revert_reason()}")
    store.close()


if __name__ == "__main__":
    main()
