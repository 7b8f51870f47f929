"""Known Uniswap V2/V3 (and fork) deployments per chain id; users and the local world register their own.

Sources (checked when written): Uniswap V2 docs "V2 Deployment Addresses"
(docs.uniswap.org/contracts/v2/reference/smart-contracts/v2-deployments); Uniswap v3-periphery
`deploys.md` (factory, SwapRouter, SwapRouter02, QuoterV2 per chain; Base has no original SwapRouter);
docs.base.org/chain/contracts for Base; SushiSwap's `@sushiswap/core` npm README for its Ethereum V2
(factory, router, pair init code hash). The Uniswap-V2-style exchanges of trade-executor's state files:
Trader Joe V1 on Avalanche (traderjoe-xyz/joe-docs "Joe V1 Contracts": JoeFactory, JoeRouter; its pair init
code hash and 0.3 % fee as independent public integrations give them: SushiSwap's router configuration,
Abracadabra's and others' deployment scripts), QuickSwap V2 on Polygon (factory and
router as listed by web3-ethereum-defi; init code hash = Uniswap V2's pair hash, as SushiSwap's router
provider lists it; 0.3% fee), PancakeSwap V2 on BSC (developer.pancakeswap.finance "v2 Addresses"; init code
hash as read from its factory and quoted by web3-ethereum-defi; 0.25% fee).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any, Protocol

from vaultexec.chain.gas import GWEI, FeePolicy
from vaultexec.chain.gas import min_priority_fee as chain_min_priority_fee
from vaultexec.errors import ConfigurationError
from vaultexec.model.addresses import checksum as to_checksum_address
from vaultexec.model.compat import ExchangeRouter, RouterMap
from vaultexec.model.identifiers import ExchangeKind

logger = logging.getLogger(__name__)

ETHEREUM, BSC, POLYGON, BASE, ARBITRUM, AVALANCHE = 1, 56, 137, 8453, 42161, 43114

#: Fee cap (max fee per gas, wei) per chain id: far above normal fees, so that only a fee spike (or a
#: wrong node) is refused. The tip floor is chain.gas's `MIN_PRIORITY_FEE_WEI`. Override with
#: `register_fee_policy` or `fee_policy(..., max_fee=...)`.
MAX_FEE_WEI: dict[int, int | None] = {
    ETHEREUM: 500 * GWEI,
    10: 50 * GWEI,  # OP Mainnet
    56: 100 * GWEI,  # BNB Chain
    POLYGON: 5_000 * GWEI,
    BASE: 50 * GWEI,
    ARBITRUM: 50 * GWEI,
    43114: 1_000 * GWEI,  # Avalanche C-chain
    31337: None,  # anvil / hardhat dev chains
}
_fee_policies: dict[int, FeePolicy] = {}


def register_fee_policy(chain_id: int, policy: FeePolicy) -> FeePolicy:
    """Make `policy` the fee policy of `chain_id` (replaces the built-in one)."""
    _fee_policies[chain_id] = policy
    logger.info("fee policy of chain %d: %s", chain_id, policy)
    return policy


def fee_policy(chain_id: int, min_priority_fee: int | None = None, max_fee: int | None = None,
               legacy: bool | None = None) -> FeePolicy:
    """The fee policy of `chain_id` (registered, else built in: the chain's tip floor and cap), with the
    given fields overridden (wei per gas)."""
    base = _fee_policies.get(chain_id) or FeePolicy(min_priority_fee=chain_min_priority_fee(chain_id),
                                                     max_fee=MAX_FEE_WEI.get(chain_id))
    return FeePolicy(min_priority_fee=base.min_priority_fee if min_priority_fee is None else min_priority_fee,
                     max_fee=base.max_fee if max_fee is None else max_fee,
                     legacy=base.legacy if legacy is None else legacy)



@dataclass(frozen=True)
class Deployment:
    """One DEX family on one chain. Addresses EIP-55 checksummed; None where not deployed."""

    chain_id: int
    name: str
    v2_factory: str | None = None
    v2_router: str | None = None
    v3_factory: str | None = None
    swap_router: str | None = None
    swap_router02: str | None = None
    quoter_v2: str | None = None
    #: keccak256 of the V2 pair's creation code (pair address = CREATE2(factory, tokens, this)), 0x hex.
    v2_init_code_hash: str | None = None
    #: V2 swap fee in hundredths of a bip (3000 = 0.3%); None where not published.
    v2_fee: int | None = None

    def __post_init__(self) -> None:
        for field_name in ("v2_factory", "v2_router", "v3_factory", "swap_router", "swap_router02", "quoter_v2"):
            value = getattr(self, field_name)
            if value is not None:
                object.__setattr__(self, field_name, to_checksum_address(value))

    def routers(self) -> list[str]:
        return [r for r in (self.v2_router, self.swap_router, self.swap_router02) if r is not None]


_UNISWAP_V3_COMMON: dict[str, Any] = {
    "v3_factory": "0x1F98431c8aD98523631AE4a59f267346ea31F984",
    "swap_router": "0xE592427A0AEce92De3Edee1F18E0157C05861564",
    "swap_router02": "0x68b3465833fb72A70ecDF485E0e4C7bD8665Fc45",
    "quoter_v2": "0x61fFE014bA17989E743c5F6cB21bF9697530B21e",
}

#: Uniswap V2's pair init code hash (its forks that kept the pair bytecode share it).
_UNISWAP_V2_PAIR_HASH = "0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"

KNOWN_DEPLOYMENTS: tuple[Deployment, ...] = (
    Deployment(ETHEREUM, "uniswap", v2_factory="0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f",
               v2_router="0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D", **_UNISWAP_V3_COMMON),
    Deployment(ARBITRUM, "uniswap", v2_factory="0xf1D7CC64Fb4452F05c498126312eBE29f30Fbcf9",
               v2_router="0x4752ba5dbc23f44d87826276bf6fd6b1c372ad24", **_UNISWAP_V3_COMMON),
    Deployment(POLYGON, "uniswap", v2_factory="0x9e5A52f57b3038F1B8EeE45F28b3C1967e22799C",
               v2_router="0xedf6066a2b290C185783862C7F4776A2C8077AD1", **_UNISWAP_V3_COMMON),
    Deployment(BASE, "uniswap", v2_factory="0x8909Dc15e40173Ff4699343b6eB8132c65e18eC6",
               v2_router="0x4752ba5dbc23f44d87826276bf6fd6b1c372ad24",
               v3_factory="0x33128a8fC17869897dcE68Ed026d694621f6FDfD",
               swap_router02="0x2626664c2603336E57B271c5C0b26F421741e481",
               quoter_v2="0x3d4e44Eb1374240CE5F1B871ab261CD16335B76a"),
    Deployment(ETHEREUM, "sushiswap", v2_factory="0xC0AEe478e3658e2610c5F7A4A2E1777cE9e4f2Ac",
               v2_router="0xd9e1cE17f2641f24aE83637ab66a2cca9C378B9F",
               v2_init_code_hash="0xe18a34eb0e04b04f7a0ac29a6e80748dca96319b42c54d679cb821dca90c6303", v2_fee=3000),
    Deployment(AVALANCHE, "trader-joe", v2_factory="0x9Ad6C38BE94206cA50bb0d90783181662f0Cfa10",
               v2_router="0x60aE616a2155Ee3d9A68541Ba4544862310933d4",
               v2_init_code_hash="0x0bbca9af0511ad1a1da383135cf3a8d2ac620e549ef9f6ae3a4c33c2fed0af91", v2_fee=3000),
    Deployment(POLYGON, "quickswap", v2_factory="0x5757371414417b8C6CAad45bAeF941aBc7d3Ab32",
               v2_router="0xa5E0829CaCEd8fFDD4De3c43696c57F7D7A678ff",
               v2_init_code_hash=_UNISWAP_V2_PAIR_HASH, v2_fee=3000),
    Deployment(BSC, "pancakeswap", v2_factory="0xcA143Ce32Fe78f1f7019d7d551a6402fC5350c73",
               v2_router="0x10ED43C718714eb63d5aA57B78B54704E256024E",
               v2_init_code_hash="0x00fb7f630766e6a796048ea87d01acd3068e8ff67d078148a3fa3f4a84f69bd5", v2_fee=2500),
)

_registry: dict[tuple[int, str], Deployment] = {(d.chain_id, d.name): d for d in KNOWN_DEPLOYMENTS}


def register_deployment(deployment: Deployment, replace_existing: bool = False) -> Deployment:
    """Add a deployment (e.g. a fork or a test chain); refuses to silently overwrite a known one."""
    key = (deployment.chain_id, deployment.name)
    existing = _registry.get(key)
    if existing is not None and existing != deployment and not replace_existing:
        raise ConfigurationError(
            f"A deployment {deployment.name!r} on chain {deployment.chain_id} is already registered with other "
            f"addresses; pass replace_existing=True to replace it, or use another name")
    _registry[key] = deployment
    logger.info("registered deployment %s on chain %d", deployment.name, deployment.chain_id)
    return deployment


def get_deployments(chain_id: int) -> list[Deployment]:
    """Every deployment registered for `chain_id`."""
    return [d for (chain, _), d in _registry.items() if chain == chain_id]


def get_deployment(chain_id: int, name: str = "uniswap") -> Deployment:
    try:
        return _registry[(chain_id, name)]
    except KeyError:
        known = ", ".join(f"{n}@{c}" for c, n in sorted(_registry)) or "none"
        raise ConfigurationError(
            f"No deployment {name!r} registered for chain {chain_id} (known: {known}); "
            f"register yours with register_deployment(Deployment(...))") from None


def find_deployment_of_router(chain_id: int, router: str) -> Deployment:
    """The registered deployment on `chain_id` that has `router` as one of its routers."""
    address = to_checksum_address(router)
    for deployment in get_deployments(chain_id):
        if address in deployment.routers():
            return deployment
    raise ConfigurationError(
        f"Router {address} is not in any deployment registered for chain {chain_id}; register it with "
        f"register_deployment(Deployment(chain_id={chain_id}, name=..., v2_router=... or swap_router=..., "
        f"quoter_v2=...))")


def with_chain(deployment: Deployment, chain_id: int) -> Deployment:
    """The same addresses on another chain id (a fork that kept the addresses)."""
    return replace(deployment, chain_id=chain_id)


class WorldLike(Protocol):
    """What `register_world` reads: the fields of testing.world.WorldAddresses (no import of testing here)."""

    chain_id: int
    uniswap_v2_factory: str
    uniswap_v2_router: str
    uniswap_v3_factory: str
    swap_router: str
    swap_router02: str
    quoter_v2: str


def register_world(addresses: WorldLike, name: str = "uniswap") -> Deployment:
    """Register a local world's Uniswap deployment (replacing an earlier world on the same chain id)."""
    return register_deployment(Deployment(
        addresses.chain_id, name, v2_factory=addresses.uniswap_v2_factory, v2_router=addresses.uniswap_v2_router,
        v3_factory=addresses.uniswap_v3_factory, swap_router=addresses.swap_router,
        swap_router02=addresses.swap_router02, quoter_v2=addresses.quoter_v2), replace_existing=True)


def executor_router_map() -> RouterMap:
    """Factory -> router table of every registered deployment, for loading trade-executor JSON
    (`model.compat`): V2 factories map to the V2 router, V3 factories to SwapRouter (else SwapRouter02).
    A factory registered under two names (e.g. a world registered twice) keeps its first router."""
    entries: dict[tuple[int, str], ExchangeRouter] = {}
    for deployment in _registry.values():
        v3_router = deployment.swap_router or deployment.swap_router02
        for factory, router, kind, fee in (
                (deployment.v2_factory, deployment.v2_router, ExchangeKind.uniswap_v2, deployment.v2_fee),
                (deployment.v3_factory, v3_router, ExchangeKind.uniswap_v3, None)):
            if factory and router:
                entries.setdefault((deployment.chain_id, factory),
                                   ExchangeRouter(deployment.chain_id, factory, router, kind, fee))
    return RouterMap(tuple(entries.values()))


@dataclass(frozen=True)
class PriceFeed:
    """A Chainlink USD price feed: its proxy address and heartbeat (the longest gap between two updates)."""

    chain_id: int
    symbol: str  # the token it prices (WBTC uses BTC/USD)
    pair: str
    address: str
    heartbeat: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", to_checksum_address(self.address))


#: Chainlink USD feeds of chains we know. Mainnet ETH/USD, BTC/USD and USDC/USD were cross-checked in
#: several independent public repositories (their address, 8 decimals, heartbeats 3600 / 3600 / 86400);
#: USDT/USD and DAI/USD likewise but are listed as second-hand (not checked against Chainlink's own page,
#: which this workplace cannot reach). Other chains: none listed yet (unverified here).
CHAINLINK_USD_FEEDS: tuple[PriceFeed, ...] = (
    PriceFeed(ETHEREUM, "WETH", "ETH/USD", "0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419", 3600),
    PriceFeed(ETHEREUM, "WBTC", "BTC/USD", "0xF4030086522a5bEEa4988F8cA5B36dbC97BeE88c", 3600),
    PriceFeed(ETHEREUM, "USDC", "USDC/USD", "0x8fFfFfd4AfB6115b954Bd326cbe7B4BA576818f6", 86400),
    PriceFeed(ETHEREUM, "USDT", "USDT/USD", "0x3E7d1eAB13ad0104d2750B8863b489D65364e32D", 86400),
    PriceFeed(ETHEREUM, "DAI", "DAI/USD", "0xAed0c38402a5d19df6E4c03F4E2DceD6e29c1ee9", 3600),
)


def chainlink_feeds(chain_id: int) -> dict[str, PriceFeed]:
    """Token symbol -> its Chainlink USD feed on `chain_id` (empty for a chain we know none of)."""
    return {feed.symbol: feed for feed in CHAINLINK_USD_FEEDS if feed.chain_id == chain_id}
