"""The world on a fork of a real chain: that chain's Uniswap deployment and tokens, bound as a `World`.

The routers, factories and quoter come from the `vaultexec.dex.deployments` registry; the
NonfungiblePositionManager from SwapRouter02's `positionManager()`; the tokens from `KNOWN_TOKENS` or
`register_chain_tokens`. Pools are looked up on chain: only the `POOLS` pairs (and V3 fee tiers) that
exist there are in the world.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from web3 import Web3

from vaultexec.dex.deployments import Deployment, chainlink_feeds, get_deployment
from vaultexec.errors import BadInputError, ConfigurationError
from vaultexec.model.addresses import checksum
from vaultexec.testing.protocol import load_protocol_artifact
from vaultexec.testing.world import POOLS, V3_FEE_TIERS, World, WorldAddresses, attach_world

logger = logging.getLogger(__name__)

ZERO_ADDRESS = "0x" + "00" * 20
#: ETH the fork's deployer gets, to wrap into the WETH `World.fund` hands out.
DEPLOYER_ETH = 10**6 * 10**18
#: Deployment fields a `World` binds; a deployment without one of them cannot back a world.
REQUIRED_CONTRACTS = ("v2_factory", "v2_router", "v3_factory", "swap_router", "swap_router02", "quoter_v2")

#: chain id -> symbol -> token address, for the symbols of the world's `TOKENS`.
KNOWN_TOKENS: dict[int, dict[str, str]] = {
    1: {"WETH": "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "USDC": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
        "USDT": "0xdAC17F958D2ee523a2206206994597C13D831ec7", "WBTC": "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599",
        "DAI": "0x6B175474E89094C44Da98b954EedeAC495271d0F"},
    42161: {"WETH": "0x82aF49447D8a07e3bd95BD0d56f35241523fBab1",
            "USDC": "0xaf88d065e77c8cC2239327C5EDb3A432268e5831",
            "USDT": "0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9",
            "WBTC": "0x2f2a2543B76A4166549F7aaB2e75Bef0aefC5B0f",
            "DAI": "0xDA10009cBd5D07dd0CeCc66161FC93D7c9000da1"},
    8453: {"WETH": "0x4200000000000000000000000000000000000006",
           "USDC": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"},
}

_chain_tokens: dict[int, dict[str, str]] = {chain: dict(tokens) for chain, tokens in KNOWN_TOKENS.items()}


def register_chain_tokens(chain_id: int, tokens: Mapping[str, str]) -> None:
    """Add (or replace) the tokens the world uses on `chain_id`: symbol -> address. WETH must be WETH9-like
    (`deposit()`), as `World.fund` wraps ETH into it."""
    try:
        checked = {symbol: checksum(address) for symbol, address in tokens.items()}
    except ValueError as exc:
        raise BadInputError(f"A token address for chain {chain_id} is malformed: {exc}") from None
    _chain_tokens.setdefault(chain_id, {}).update(checked)


def chain_tokens(chain_id: int) -> dict[str, str]:
    """The registered tokens of `chain_id`; ConfigurationError when there are none."""
    tokens = _chain_tokens.get(chain_id)
    if not tokens:
        known = ", ".join(str(chain) for chain in sorted(_chain_tokens)) or "none"
        raise ConfigurationError(
            f"No world tokens are known for chain {chain_id} (known chains: {known}). Register them before the "
            "fixtures start, e.g. in conftest.py: register_chain_tokens(chain_id, {'WETH': ..., 'USDC': ...}) "
            "from vaultexec.testing.realchain")
    return dict(tokens)


def prepare_real_world(web3: Web3, deployment_name: str = "uniswap") -> World:
    """Bind the forked chain's deployment and tokens as a `World`, and give its deployer ETH to wrap.

    The deployer is the fork's first dev account: it owns no token and mints nothing; `World.fund`
    deals tokens with anvil_dealERC20 instead.
    """
    chain_id = web3.eth.chain_id
    deployment = _complete_deployment(chain_id, deployment_name)
    tokens = chain_tokens(chain_id)
    deployer = web3.eth.accounts[0]
    web3.provider.make_request("anvil_setBalance", [deployer, hex(DEPLOYER_ETH)])  # type: ignore[arg-type]
    router02 = web3.eth.contract(address=checksum(str(deployment.swap_router02)),
                                 abi=load_protocol_artifact("SwapRouter02").abi)
    addresses = WorldAddresses(
        chain_id=chain_id, deployer=deployer, tokens=tokens,
        uniswap_v2_factory=str(deployment.v2_factory), uniswap_v2_router=str(deployment.v2_router),
        uniswap_v3_factory=str(deployment.v3_factory), swap_router=str(deployment.swap_router),
        swap_router02=str(deployment.swap_router02), quoter_v2=str(deployment.quoter_v2),
        position_manager=router02.functions.positionManager().call(), local=False,
        # Fork mode prices with the chain's real Chainlink feeds (dex.deployments).
        feeds={symbol: feed.address for symbol, feed in chainlink_feeds(chain_id).items() if symbol in tokens},
    )
    world = attach_world(web3, addresses)
    addresses.decimals = {symbol: token.functions.decimals().call() for symbol, token in world.tokens.items()}
    _find_pools(world)
    logger.info("real-chain world on chain %d: %d tokens, %d V2 pairs, %d V3 pools", chain_id, len(tokens),
                len(addresses.v2_pairs), len(addresses.v3_pools))
    return world


def _complete_deployment(chain_id: int, name: str) -> Deployment:
    deployment = get_deployment(chain_id, name)
    missing = [field for field in REQUIRED_CONTRACTS if getattr(deployment, field) is None]
    if missing:
        raise ConfigurationError(
            f"The {name!r} deployment on chain {chain_id} has no {', '.join(missing)}; the test world needs "
            f"every one of {', '.join(REQUIRED_CONTRACTS)}. Register a complete deployment with "
            "register_deployment(Deployment(...), replace_existing=True) under another name and pass it.")
    return deployment


def _find_pools(world: World) -> None:
    """Record the `POOLS` pairs that exist on the chain: V2 pairs and V3 pools at each of `V3_FEE_TIERS`."""
    for symbol_a, symbol_b, _ in POOLS:
        if symbol_a not in world.tokens or symbol_b not in world.tokens:
            continue
        token_a, token_b = world.token(symbol_a).address, world.token(symbol_b).address
        pair = world.uniswap_v2_factory.functions.getPair(token_a, token_b).call()
        if pair != ZERO_ADDRESS:
            world.addresses.v2_pairs[f"{symbol_a}/{symbol_b}"] = pair
        for fee in V3_FEE_TIERS:
            pool = world.uniswap_v3_factory.functions.getPool(token_a, token_b, fee).call()
            if pool != ZERO_ADDRESS:
                world.addresses.v3_pools[f"{symbol_a}/{symbol_b}/{fee}"] = pool
