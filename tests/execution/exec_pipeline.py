"""Helpers of the executor, settlement, resume and crash tests: world pairs, trades, a wired executor.

Importable from a test module (pytest puts this directory on sys.path) and from the crash worker script.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from vaultexec.chain.broadcast import TrackerConfig
from vaultexec.chain.gas import FeePolicy
from vaultexec.chain.rpc import RetryPolicy, RPCClient, connect_web3
from vaultexec.chain.wallet import HotWallet
from vaultexec.dex.deployments import register_world as register_dex_world
from vaultexec.execution.executor import ExecutorConfig, RoutingPlanner, StageHook, VaultExecutionModel
from vaultexec.execution.routing import VaultRouting
from vaultexec.model.identifiers import AssetIdentifier, ExchangeKind, TradingPairIdentifier
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeExecution, TradeType
from vaultexec.store.protocol import ExecutionStore
from vaultexec.testing.plugin import ASSET_MANAGER_KEY
from vaultexec.testing.world import TOKENS, WorldAddresses

USD_PRICE = {spec.symbol: spec.usd_price for spec in TOKENS}
DECIMALS = {spec.symbol: spec.decimals for spec in TOKENS}
OPENED_AT = datetime.datetime(2026, 1, 1)
FAST_RETRY = RetryPolicy(attempts=8, initial_backoff=0.02, max_backoff=0.5, deadline=30.0)


def register_world(addresses: WorldAddresses) -> None:
    """Tell routing where the world's QuoterV2 and routers are."""
    register_dex_world(addresses, name="world")


def asset(addresses: WorldAddresses, symbol: str) -> AssetIdentifier:
    return AssetIdentifier(addresses.chain_id, addresses.tokens[symbol], symbol, DECIMALS[symbol])


def _lookup(table: dict[str, str], *parts: str) -> str:
    a, b, *rest = parts
    for key in ("/".join([a, b, *rest]), "/".join([b, a, *rest])):
        if key in table:
            return table[key]
    raise KeyError(parts)


def pair(addresses: WorldAddresses, base: str, quote: str, fee: int | None = None) -> TradingPairIdentifier:
    """A V2 pair (fee None) on the V2 router, or a V3 pool of `fee` on SwapRouter."""
    if fee is None:
        return TradingPairIdentifier(asset(addresses, base), asset(addresses, quote),
                                     _lookup(addresses.v2_pairs, base, quote), addresses.uniswap_v2_router, 3000,
                                     ExchangeKind.uniswap_v2)
    return TradingPairIdentifier(asset(addresses, base), asset(addresses, quote),
                                 _lookup(addresses.v3_pools, base, quote, str(fee)), addresses.swap_router, fee,
                                 ExchangeKind.uniswap_v3)


def make_trade(trade_id: int, trading_pair: TradingPairIdentifier, reserve: str, buy: bool = True,
               tolerance: str = "0.02") -> TradeExecution:
    """A planned buy (spend `reserve` of the quote) or sell (of base worth `reserve`) at the world's prices."""
    price = USD_PRICE[trading_pair.base.token_symbol] / USD_PRICE[trading_pair.quote.token_symbol]
    amount = Decimal(reserve)
    quantity = (amount / price).quantize(Decimal(1).scaleb(-trading_pair.base.decimals))
    return TradeExecution(
        trade_id=trade_id, position_id=1, trade_type=TradeType.rebalance, pair=trading_pair, opened_at=OPENED_AT,
        planned_quantity=quantity if buy else -quantity, planned_reserve=amount, planned_price=price,
        reserve_currency=trading_pair.quote, slippage_tolerance=Decimal(tolerance))


def world_pairs(addresses: WorldAddresses) -> list[TradingPairIdentifier]:
    return [pair(addresses, "WETH", "USDC"), pair(addresses, "WETH", "USDC", 500),
            pair(addresses, "WETH", "USDC", 3000), pair(addresses, "WBTC", "WETH", 3000),
            pair(addresses, "USDT", "USDC", 500)]


def make_executor(url: str, vault: str, chain_id: int, pairs: Sequence[TradingPairIdentifier],
                  store: ExecutionStore, run_state: RunState | None = None, on_stage: StageHook | None = None,
                  tracker: TrackerConfig | None = None, retry: RetryPolicy = FAST_RETRY,
                  fee_policy: FeePolicy | None = None, client: RPCClient | None = None) -> VaultExecutionModel:
    """The executor as an application would wire it: one RPC client (or a given one, e.g. a ProviderSet),
    routing, the asset manager's wallet."""
    client = client or RPCClient(url, timeout=30, retry=retry)
    wallet = HotWallet.from_key(ASSET_MANAGER_KEY, chain_id)
    routing = VaultRouting(connect_web3(client), vault, wallet.address, pairs, client=client)
    config = ExecutorConfig(tracker or TrackerConfig(confirmations=0, poll_interval=0.05, timeout=30.0,
                                                     stuck_after=60.0, drop_check_after=2.0,
                                                     nonce_consumed_after=0.5, nonce_consumed_blocks=0),
                            fee_policy=fee_policy)
    return VaultExecutionModel(client, vault, RoutingPlanner(routing), wallet, store, run_state, config, on_stage)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"
