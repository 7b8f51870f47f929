"""Trade one pair through a vault with the library API (what `vaultexec trade` does, without the CLI).

Usage (key in VAULTEXEC_PRIVATE_KEY, the asset manager's; never printed):
    .venv/bin/python scripts/trade_one_pair.py --rpc-url URL --vault 0xVAULT --base 0xWETH --quote 0xUSDC \
        --router 0xSWAPROUTER --pool 0xPOOL --kind uniswap_v3 --fee 500 --buy 1000 --slippage 0.005 [--dry-run]
A buy spends AMOUNT of quote, a sell (--sell AMOUNT) sells AMOUNT of base. The plan (route, amounts, bounds,
gas, pre-flight) is printed first; --dry-run stops there, otherwise it asks before sending (--yes does not ask).
V3 quotes need the router's QuoterV2: known for the chains of dex.deployments, else give --quoter 0xQUOTERV2
(a fork or a test chain). The trade is quoted again just before it is signed: if it would spend more or may
receive less than the plan shown, nothing is sent (exit 14). A mistake is one line on stderr (-v adds
debug logs and the traceback); exit codes are those of `vaultexec trade` (docs/cli.md): 12 the trade
failed on chain, 9 still in flight (finish it with `vaultexec resume`), a refusal before sending its own.
"""

from __future__ import annotations

import sys
from decimal import Decimal

from web3 import Web3

from vaultexec.chain.rpc import RPCClient, connect_web3
from vaultexec.chain.wallet import HotWallet
from vaultexec.cli.argtypes import address, positive_decimal, script_parser
from vaultexec.cli.chainread import token_decimals, token_symbol
from vaultexec.cli.failures import EXIT_ABORTED, EXIT_TRADE_FAILED, NOTHING_SENT_MESSAGE, run_script
from vaultexec.dex.deployments import Deployment
from vaultexec.errors import TransactionTimeoutError
from vaultexec.execution.assembly import build_executor, make_trade, next_trade_id
from vaultexec.execution.confirmed import failure_reason, raise_if_refused
from vaultexec.execution.plan import TradePlan
from vaultexec.model import AssetIdentifier, ExchangeKind, TradeExecution, TradingPairIdentifier
from vaultexec.store import open_store


def read_asset(web3: Web3, chain_id: int, token: str) -> AssetIdentifier:
    """Symbol and decimals from the token contract itself."""
    return AssetIdentifier(chain_id, token, token_symbol(web3, token), token_decimals(web3, token))


def print_plan(trade: TradeExecution, plan: TradePlan) -> None:
    spend, receive = plan.asset_deltas
    got = receive.asset
    print(f"plan of trade #{trade.trade_id}: {trade.get_human_description()}")
    print(f"  route: {plan.route.describe()}")
    print(f"  vault spends at most {spend.asset.convert_to_decimal(-spend.raw_amount)} {spend.asset.token_symbol}")
    print(f"  expected {got.convert_to_decimal(plan.expected_out_raw)} {got.token_symbol}, "
          f"minimum {got.convert_to_decimal(receive.raw_amount)} {got.token_symbol}")
    print(f"  gas limit {plan.gas_limit}; pre-flight passed at block {plan.quoted_at_block}")


def confirmed(question: str) -> bool:
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def main() -> int:
    parser = script_parser(__doc__)
    parser.add_argument("--rpc-url", required=True)
    for name in ("--vault", "--base", "--quote", "--router", "--pool"):
        parser.add_argument(name, required=True, type=address)
    parser.add_argument("--quoter", type=address, help="QuoterV2 of the router, if dex.deployments does not know it")
    parser.add_argument("--kind", choices=[k.value for k in ExchangeKind], default="uniswap_v3")
    parser.add_argument("--fee", type=int, default=3000, help="pool fee tier; 0 for Uniswap V2")
    side = parser.add_mutually_exclusive_group(required=True)
    side.add_argument("--buy", metavar="AMOUNT", type=positive_decimal, help="quote to spend")
    side.add_argument("--sell", metavar="AMOUNT", type=positive_decimal, help="base to sell")
    parser.add_argument("--slippage", default=Decimal("0.005"), type=positive_decimal,
                        help="tolerance as a fraction (0.005 = 0.5 %%)")
    parser.add_argument("--store", default="sqlite:///vaultexec.db")
    parser.add_argument("--dry-run", action="store_true", help="print the plan; sign and send nothing")
    parser.add_argument("--yes", action="store_true", help="send without asking")
    args = parser.parse_args()

    client = RPCClient(args.rpc_url)
    web3 = connect_web3(client)
    chain_id = int(client.call("eth_chainId"), 16)
    wallet = HotWallet.from_env(chain_id)  # VAULTEXEC_PRIVATE_KEY; never printed
    base, quote = read_asset(web3, chain_id, args.base), read_asset(web3, chain_id, args.quote)
    pair = TradingPairIdentifier(base, quote, args.pool, args.router, args.fee, ExchangeKind(args.kind))
    buy, amount = args.buy is not None, args.buy or args.sell
    store = open_store(args.store, args.vault)
    try:
        trade = make_trade(next_trade_id(store), pair, buy, amount, args.slippage)
        given = Deployment(chain_id, "given", swap_router=args.router, quoter_v2=args.quoter) if args.quoter else None
        model, planner = build_executor(client, web3, args.vault, wallet, store, [pair], deployment=given)
        plan = planner.routing.plan_trades([trade]).plans[0]  # refused: a one-line error, nothing sent
        print_plan(trade, plan)
        if args.dry_run:
            print("--dry-run: nothing was signed or sent")
            return 0
        if not args.yes and not confirmed(f"Send it from {wallet.address} through vault {args.vault}?"):
            print(NOTHING_SENT_MESSAGE, file=sys.stderr)
            return EXIT_ABORTED
        planner.confirm(plan)
        (done,) = model.execute_trades([trade])
    finally:
        store.close()
    print(f"trade #{done.trade_id} {done.get_status().value}: {done.get_human_description()}")
    if done.is_pending():
        raise TransactionTimeoutError(f"trade #{done.trade_id} is still in flight: finish it with `vaultexec "
                                      f"--vault {args.vault} --store {args.store} resume`")
    raise_if_refused(done, planner.refusals)  # failed before anything was sent: that error and its exit code
    if done.is_failed():
        print(f"revert reason: {failure_reason(done)}", file=sys.stderr)
        return EXIT_TRADE_FAILED
    return 0


if __name__ == "__main__":
    run_script(main)
