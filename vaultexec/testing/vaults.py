"""A vault on the local world: deployed, its guard configured for every world pool, priced, loss-bounded,
and funded; or the same guard as a module on a Safe that holds the funds."""

from __future__ import annotations

from dataclasses import dataclass

from web3.contract import Contract

from vaultexec.testing.safes import WorldSafe
from vaultexec.testing.world import World
from vaultexec.vault.deploy import (
    DirectPoolConfig,
    LossBound,
    PoolConfig,
    PriceFeed,
    PriceTwap,
    RouterKind,
    SpendLimit,
    VaultConfig,
    configure_vault,
    deploy_vault,
)
from vaultexec.vault.safe_module import configure_module_tx, deploy_module, enable_module_tx, execute_as_owners

#: Human amounts the world vault starts with.
VAULT_FUNDING: dict[str, int] = {"USDC": 1_000_000, "WETH": 300, "WBTC": 10, "USDT": 200_000, "DAI": 200_000}

#: The world vault's loss bound: a trade may lose at most 5% of its value at the oracle prices, and all
#: trades together at most $250,000 a day (the vault holds about $2.9M).
WORLD_LOSS_CAP_BPS = 500
WORLD_LOSS_BUDGET_USD = 250_000
DAY = 86_400
#: The local world's feeds are Chainlink's MockV3Aggregator set once at deployment, never updated: a
#: heartbeat of a year keeps them fresh for the world's lifetime (real feeds: 1 h to 1 day).
LOCAL_FEED_HEARTBEAT = 365 * DAY
#: WBTC is priced by the WETH/WBTC 0.3% V3 pool's 30-minute TWAP, in WETH (priced by its feed).
TWAP_PRICED: dict[str, tuple[str, int]] = {"WBTC": ("WETH/WBTC/3000", 1800)}
#: A rolling spend limit on DAI: a whole day's worth of the vault's DAI (spend limits and the loss bound
#: work side by side).
WORLD_SPEND_LIMITS: dict[str, int] = {"DAI": VAULT_FUNDING["DAI"]}
#: The vault's `DirectProtocol` values and Uniswap V2's swap fee (hundredths of a bip).
DIRECT_V2, DIRECT_V3 = 1, 2
UNISWAP_V2_FEE = 3000


def world_vault_config(world: World, direct_pools: bool = False) -> VaultConfig:
    """Allow every world token, the three routers, and every world pool on each router that can reach it
    (V2 pairs on the V2 router and SwapRouter02, V3 pools on SwapRouter and SwapRouter02). `direct_pools`:
    also every world pool on the direct path (`executeDirect`), so that routing's default `venue="auto"`
    swaps through the pools themselves (the demo and `vaultexec world` do; the test fixture's vault keeps
    the router path unless a test allows a pool)."""
    v2_router = world.uniswap_v2_router.address
    v3_router = world.swap_router.address
    router02 = world.swap_router02.address
    v2_factory, v3_factory = world.uniswap_v2_factory.address, world.uniswap_v3_factory.address
    pools: list[PoolConfig] = []
    direct: list[DirectPoolConfig] = []
    for key in world.addresses.v2_pairs:
        token_a, token_b = (world.token(symbol).address for symbol in key.split("/"))
        pools += [PoolConfig(v2_router, token_a, token_b, 0), PoolConfig(router02, token_a, token_b, 0)]
        if direct_pools:
            direct.append(DirectPoolConfig(v2_factory, DIRECT_V2, token_a, token_b, UNISWAP_V2_FEE))
    for key in world.addresses.v3_pools:
        symbol_a, symbol_b, fee = key.split("/")
        token_a, token_b = world.token(symbol_a).address, world.token(symbol_b).address
        pools += [PoolConfig(v3_router, token_a, token_b, int(fee)), PoolConfig(router02, token_a, token_b, int(fee))]
        if direct_pools:
            direct.append(DirectPoolConfig(v3_factory, DIRECT_V3, token_a, token_b, int(fee)))
    feeds, twaps = world_prices(world)
    priced = {p.asset for p in feeds} | {t.asset for t in twaps}
    limits = [SpendLimit(world.token(symbol).address, human * 10 ** world.decimals(symbol), DAY)
              for symbol, human in WORLD_SPEND_LIMITS.items() if symbol in world.tokens]
    limited = {limit.asset for limit in limits}
    return VaultConfig(
        assets=[token.address for token in world.tokens.values()],
        routers={v2_router: RouterKind.UNISWAP_V2, v3_router: RouterKind.UNISWAP_V3_SWAP_ROUTER,
                 router02: RouterKind.UNISWAP_V3_SWAP_ROUTER02},
        pools=pools,
        direct_pools=direct,
        spend_limits=limits,
        price_feeds=feeds,
        price_twaps=twaps,
        loss_bound=LossBound(WORLD_LOSS_CAP_BPS, WORLD_LOSS_BUDGET_USD * 10**18, DAY) if priced else None,
        # A fork's token without a feed: the test vault opts in explicitly (never a product default).
        unbounded=[t.address for t in world.tokens.values() if t.address not in priced | limited],
    )


def world_prices(world: World) -> tuple[list[PriceFeed], list[PriceTwap]]:
    """The world's price sources: its USD feeds, and (local world) the `TWAP_PRICED` tokens through their
    V3 pool; a fork uses the chain's real Chainlink feeds only."""
    heartbeat = LOCAL_FEED_HEARTBEAT if world.is_local else DAY
    twaps = [PriceTwap(world.token(symbol).address, world.addresses.v3_pools[pool], window)
             for symbol, (pool, window) in TWAP_PRICED.items()
             if world.is_local and symbol in world.tokens and pool in world.addresses.v3_pools]
    twap_assets = {twap.asset for twap in twaps}
    feeds = [PriceFeed(world.token(symbol).address, feed, heartbeat)
             for symbol, feed in world.addresses.feeds.items()
             if symbol in world.tokens and world.token(symbol).address not in twap_assets]
    return feeds, twaps


def deploy_world_vault(world: World, asset_manager: str, fund: bool = True, direct_pools: bool = False) -> Contract:
    """Deploy a vault owned by the world's deployer, configure it for the world (`direct_pools`: see
    `world_vault_config`) and fund it with the `VAULT_FUNDING` of each token the world has."""
    vault = deploy_vault(world.web3, world.deployer, asset_manager)
    configure_vault(world.web3, vault, world.deployer, world_vault_config(world, direct_pools))
    if fund:
        for symbol, human in VAULT_FUNDING.items():
            if symbol in world.tokens:
                world.fund(symbol, vault.address, human * 10 ** world.decimals(symbol))
    return vault


@dataclass(frozen=True)
class SafeCustodyVault:
    """A Safe-custody vault: the Safe holds the funds, the module is what the asset manager calls."""

    module: Contract
    safe: WorldSafe

    @property
    def address(self) -> str:
        """The module: what the executor calls, where its `Executed` events are."""
        return self.module.address

    @property
    def custody(self) -> str:
        """The Safe: where the balances are."""
        return self.safe.address


def deploy_world_safe_vault(world: World, asset_manager: str, safe: WorldSafe, fund: bool = True,
                            direct_pools: bool = False) -> SafeCustodyVault:
    """Deploy a module on `safe`, enable it and configure it like the world vault (`world_vault_config`, with
    `direct_pools` as there) with two Safe transactions signed by the owners, and fund the Safe with
    `VAULT_FUNDING`."""
    module = deploy_module(world.web3, world.deployer, safe.address, asset_manager)
    owners = safe.signers()
    execute_as_owners(safe.contract, enable_module_tx(safe.contract, module.address), owners)
    config_tx = configure_module_tx(safe.contract, module, world_vault_config(world, direct_pools),
                                    safe.deployment.multi_send_call_only)
    execute_as_owners(safe.contract, config_tx, owners)
    if fund:
        for symbol, human in VAULT_FUNDING.items():
            if symbol in world.tokens:
                world.fund(symbol, safe.address, human * 10 ** world.decimals(symbol))
    return SafeCustodyVault(module, safe)
