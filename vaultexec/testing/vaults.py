"""A vault on the local world: deployed, its guard configured for every world pool, and funded."""

from __future__ import annotations

from web3.contract import Contract

from vaultexec.testing.world import World
from vaultexec.vault.deploy import PoolConfig, RouterKind, VaultConfig, configure_vault, deploy_vault

#: Human amounts the world vault starts with.
VAULT_FUNDING: dict[str, int] = {"USDC": 1_000_000, "WETH": 300, "WBTC": 10, "USDT": 200_000, "DAI": 200_000}


def world_vault_config(world: World) -> VaultConfig:
    """Allow every world token, the three routers, and every world pool on each router that can reach it
    (V2 pairs on the V2 router and SwapRouter02, V3 pools on SwapRouter and SwapRouter02)."""
    v2_router = world.uniswap_v2_router.address
    v3_router = world.swap_router.address
    router02 = world.swap_router02.address
    pools: list[PoolConfig] = []
    for key in world.addresses.v2_pairs:
        token_a, token_b = (world.token(symbol).address for symbol in key.split("/"))
        pools += [PoolConfig(v2_router, token_a, token_b, 0), PoolConfig(router02, token_a, token_b, 0)]
    for key in world.addresses.v3_pools:
        symbol_a, symbol_b, fee = key.split("/")
        token_a, token_b = world.token(symbol_a).address, world.token(symbol_b).address
        pools += [PoolConfig(v3_router, token_a, token_b, int(fee)), PoolConfig(router02, token_a, token_b, int(fee))]
    return VaultConfig(
        assets=[token.address for token in world.tokens.values()],
        routers={v2_router: RouterKind.UNISWAP_V2, v3_router: RouterKind.UNISWAP_V3_SWAP_ROUTER,
                 router02: RouterKind.UNISWAP_V3_SWAP_ROUTER02},
        pools=pools,
    )


def deploy_world_vault(world: World, asset_manager: str, fund: bool = True) -> Contract:
    """Deploy a vault owned by the world's deployer, configure it for the world and fund it with the
    `VAULT_FUNDING` of each token the world has."""
    vault = deploy_vault(world.web3, world.deployer, asset_manager)
    configure_vault(world.web3, vault, world.deployer, world_vault_config(world))
    if fund:
        for symbol, human in VAULT_FUNDING.items():
            if symbol in world.tokens:
                world.fund(symbol, vault.address, human * 10 ** world.decimals(symbol))
    return vault
