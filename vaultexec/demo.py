"""The `vaultexec demo` job: the whole mission on a local world in one command.

Starts anvil, deploys the world (real Uniswap V2/V3 bytecode) and a vault (configured and funded), then
runs a batch of buys and sells (V2, V3, a three-way route) and one trade that fails on purpose: it passes
pre-flight, then a whale moves the pool's price before it is broadcast, so the vault reverts it on chain
and the decoded revert reason is reported. Reports go to the store given, by default the demo's own
`DEMO_STORE_URL`: every fresh dev chain gives the vault the same address, so sharing a store with
`vaultexec world` would mix both runs' trades under one vault. Each run is a new chain, and a store is
bound to its chain (store.chainbinding): a run with the default store replaces the previous run's file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from vaultexec.chain.rpc import RPCClient, connect_web3
from vaultexec.chain.wallet import HotWallet
from vaultexec.dex.deployments import register_world
from vaultexec.execution.assembly import bind_store, build_executor, make_trade, next_trade_id
from vaultexec.execution.executor import STAGE_SIGNED
from vaultexec.execution.markets import MarketRequest, MarketResolver
from vaultexec.model.identifiers import TradingPairIdentifier
from vaultexec.model.trade import TradeExecution
from vaultexec.store import ExecutionStore, open_store
from vaultexec.testing.anvil import launch_anvil
from vaultexec.testing.vaults import deploy_world_vault
from vaultexec.testing.world import World, deploy_world

logger = logging.getLogger(__name__)

#: NonfungiblePositionManager is above EIP-170's 24 KiB (same limit as the test plugin).
CODE_SIZE_LIMIT = 100_000
ASSET_MANAGER_ETH = 100 * 10**18
#: The demo's own store (not the CLI's default `sqlite:///vaultexec.db`, which `vaultexec world` users share).
DEMO_STORE_URL = "sqlite:///vaultexec-demo.db"
#: USDC the whale swaps into the victim's pool between pre-flight and broadcast (pool holds 10 M USD a side).
WHALE_USDC = 2_000_000


@dataclass(frozen=True)
class DemoTrade:
    """One trade of the demo: market, side, amount (quote for buys, base for sells), tolerance (fraction)."""

    market: MarketRequest
    buy: bool
    amount: Decimal
    slippage: Decimal = Decimal("0.005")


BATCH: tuple[DemoTrade, ...] = (
    DemoTrade(MarketRequest("WETH", "USDC", "v2"), True, Decimal(5_000)),
    DemoTrade(MarketRequest("WETH", "USDC", "v3", 500), True, Decimal(20_000)),
    DemoTrade(MarketRequest("WBTC", "USDC", "v3", 3000, via="WETH", via_fee=500), True, Decimal(30_000)),
    DemoTrade(MarketRequest("DAI", "USDC", "v2"), True, Decimal(2_500)),
    DemoTrade(MarketRequest("WETH", "USDC", "v3", 500), False, Decimal(2)),
    DemoTrade(MarketRequest("WBTC", "USDC", "v3", 3000, via="WETH", via_fee=500), False, Decimal("0.1")),
)
#: Passes pre-flight, then the whale front-runs it: its minimum receive can no longer be met.
DOOMED = DemoTrade(MarketRequest("WETH", "USDC", "v3", 3000), True, Decimal(10_000), Decimal("0.001"))


@dataclass
class DemoResult:
    vault: str
    store_url: str
    trades: list[TradeExecution] = field(default_factory=list)
    seconds: float = 0.0


#: Progress callback: (message, steps done so far).
Progress = Callable[[str, int], None]
DEMO_STEPS = 7


def world_config_document(world: World) -> dict[str, object]:
    """The world as a `vaultexec` config file (tokens, deployment, assets, routers, pools), JSON-ready."""
    from vaultexec.testing.vaults import world_vault_config

    config = world_vault_config(world)
    a = world.addresses
    kinds = {1: "uniswap_v2", 2: "uniswap_v3_swap_router", 3: "uniswap_v3_swap_router02"}
    return {
        "tokens": dict(a.tokens),
        "deployment": {"name": "world", "v2_factory": a.uniswap_v2_factory, "v2_router": a.uniswap_v2_router,
                       "v3_factory": a.uniswap_v3_factory, "swap_router": a.swap_router,
                       "swap_router02": a.swap_router02, "quoter_v2": a.quoter_v2},
        "assets": list(config.assets),
        "routers": {router: kinds[int(kind)] for router, kind in config.routers.items()},
        "pools": [{"router": p.router, "tokens": [p.token_a, p.token_b], "fee": p.fee} for p in config.pools],
        "price_feeds": [{"asset": f.asset, "feed": f.feed, "heartbeat": f.heartbeat} for f in config.price_feeds],
        "price_twaps": [{"asset": t.asset, "pool": t.pool, "window": t.window} for t in config.price_twaps],
        "spend_limits": [{"asset": s.asset, "capacity": str(Decimal(s.capacity).scaleb(-_decimals_of(world, s.asset))),
                          "refill_period": s.refill_period} for s in config.spend_limits],
        **({"loss_bound": {"cap_bps": config.loss_bound.cap_bps,
                           "budget": str(Decimal(config.loss_bound.capacity).scaleb(-18)),
                           "refill_period": config.loss_bound.refill_period}} if config.loss_bound else {}),
    }


def _decimals_of(world: World, address: str) -> int:
    symbol = next(symbol for symbol, token in world.tokens.items() if token.address == address)
    return world.decimals(symbol)


def _whale_swap(world: World, pair: TradingPairIdentifier) -> None:
    """The world's deployer buys WETH with `WHALE_USDC` on the victim's V3 pool, moving its price up."""
    whale, raw = world.deployer, WHALE_USDC * 10 ** world.decimals("USDC")
    world.fund("USDC", whale, raw)
    world.usdc.functions.approve(world.swap_router.address, raw).transact({"from": whale})
    world.swap_router.functions.exactInputSingle((world.usdc.address, world.weth.address, pair.fee, whale,
                                                  2**63, raw, 1, 0)).transact({"from": whale})
    logger.info("whale swapped %d USDC into %s", WHALE_USDC, pair)


def _execute(store: ExecutionStore, client: RPCClient, web3: Web3, vault: str, wallet: HotWallet,
             resolver: MarketResolver, specs: Sequence[DemoTrade],
             on_signed: Callable[[], None] | None = None) -> list[TradeExecution]:
    pairs = {spec.market: resolver.pair(spec.market) for spec in specs}
    first_id = next_trade_id(store)
    trades = [make_trade(first_id + n, pairs[spec.market], spec.buy, spec.amount, spec.slippage)
              for n, spec in enumerate(specs)]
    model, _ = build_executor(client, web3, vault, wallet, store, list(dict.fromkeys(pairs.values())))
    if on_signed is not None:
        hook = on_signed
        model.on_stage = lambda stage, _trades: hook() if stage == STAGE_SIGNED else None
    return model.execute_trades(trades)


def remove_previous_demo_store() -> None:
    """Delete the default demo store of an earlier run (its chain is gone; this run's chain is a new one)."""
    path = Path(DEMO_STORE_URL.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def run_demo(store_url: str, progress: Progress) -> DemoResult:
    """Run the demo end to end; anvil is stopped whatever happens. Returns the stored trades of this run.
    With the default store (`DEMO_STORE_URL`) the previous run's store is replaced."""
    started = time.monotonic()
    if store_url == DEMO_STORE_URL:
        remove_previous_demo_store()
    progress("starting anvil", 0)
    with launch_anvil(code_size_limit=CODE_SIZE_LIMIT) as node:
        deploy_web3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 60}))
        progress("deploying the world: WETH9, tokens, Uniswap V2 and V3, liquidity", 1)
        world = deploy_world(deploy_web3)
        register_world(world.addresses)
        progress("deploying, configuring and funding the vault", 2)
        manager: LocalAccount = Account.create()
        deploy_web3.provider.make_request("anvil_setBalance",  # type: ignore[arg-type]
                                          [manager.address, hex(ASSET_MANAGER_ETH)])
        vault = deploy_world_vault(world, manager.address, direct_pools=True).address
        client = RPCClient(node.url)
        web3 = connect_web3(client)
        wallet = HotWallet(manager, world.chain_id)
        resolver = MarketResolver(web3, world.chain_id, world.addresses.tokens)
        store = open_store(store_url, vault)
        try:
            bind_store(store, client, world.chain_id, store_url)
            progress(f"batch of {len(BATCH)} buys and sells (V2, V3, three-way)", 3)
            first_id = next_trade_id(store)
            _execute(store, client, web3, vault, wallet, resolver, BATCH)
            progress("one trade doomed on purpose: a whale moves the pool after its pre-flight", 5)
            victim = resolver.pair(DOOMED.market)
            _execute(store, client, web3, vault, wallet, resolver, [DOOMED],
                     on_signed=lambda: _whale_swap(world, victim))
            progress("reading the reports back from the store", 6)
            trades = [t for t in store.export_all() if t.trade_id >= first_id]
        finally:
            store.close()
            client.close()
        progress("stopping anvil", DEMO_STEPS)
    return DemoResult(vault, store_url, trades, time.monotonic() - started)


@dataclass
class LocalWorld:
    """A running local world with a funded vault, as `vaultexec world` serves it."""

    rpc_url: str
    chain_id: int
    vault: str
    config: dict[str, object]


def serve_world(asset_manager: str, port: int | None, ready: Callable[[LocalWorld], None],
                wait: Callable[[], None]) -> None:
    """Start anvil with the world and a funded world vault traded by `asset_manager`; call `ready`, then
    `wait` (e.g. until Ctrl-C); anvil is stopped when `wait` returns or raises."""
    with launch_anvil(port=port, code_size_limit=CODE_SIZE_LIMIT) as node:
        web3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 60}))
        world = deploy_world(web3)
        web3.provider.make_request("anvil_setBalance",  # type: ignore[arg-type]
                                   [Web3.to_checksum_address(asset_manager), hex(ASSET_MANAGER_ETH)])
        vault = deploy_world_vault(world, asset_manager, direct_pools=True).address
        ready(LocalWorld(node.url, world.chain_id, vault, world_config_document(world)))
        wait()
