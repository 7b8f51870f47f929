"""Deploy a vault, configure its guard (assets, routers, pools, spend limits, prices, loss bound)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import ConfigurationError
from vaultexec.vault.contracts import load_artifact
from vaultexec.vault.sender import Sender, send_and_wait, sender_address

logger = logging.getLogger(__name__)

VAULT_CONTRACT = "Vault"
UNLIMITED = 2**256 - 1


class RouterKind(IntEnum):
    """Mirror of the Solidity `RouterKind` enum (IVault.sol)."""

    NONE = 0
    UNISWAP_V2 = 1
    UNISWAP_V3_SWAP_ROUTER = 2
    UNISWAP_V3_SWAP_ROUTER02 = 3


@dataclass(frozen=True)
class PoolConfig:
    """One pool the guard allows on one router; fee 0 for Uniswap V2 pairs."""

    router: str
    token_a: str
    token_b: str
    fee: int = 0


@dataclass(frozen=True)
class DirectPoolConfig:
    """One pool the guard allows on the direct path (`setDirectPoolAllowed`): the vault asks `factory` for
    it. `protocol` is the vault's `DirectProtocol` (1 Uniswap V2, 2 Uniswap V3); `fee` in hundredths of a
    bip (the V3 fee tier, or the V2 pair's swap fee: 3000 for Uniswap V2)."""

    factory: str
    protocol: int
    token_a: str
    token_b: str
    fee: int


@dataclass(frozen=True)
class SpendLimit:
    """A rolling per-asset spend limit in raw units, refilling linearly over `refill_period` seconds."""

    asset: str
    capacity: int
    refill_period: int


@dataclass(frozen=True)
class PriceFeed:
    """A Chainlink-style price of `asset`; answers older than `heartbeat` seconds are refused."""

    asset: str
    feed: str
    heartbeat: int


@dataclass(frozen=True)
class PriceTwap:
    """A Uniswap V3 time-weighted price of `asset` over `window` seconds, in the pool's other token
    (which needs a `PriceFeed`)."""

    asset: str
    pool: str
    window: int


@dataclass(frozen=True)
class LossBound:
    """The oracle-priced loss bound: per-execute cap in bps of the value spent, and a rolling budget of
    `capacity` valuation units (18 decimals, USD for USD feeds) refilling over `refill_period` seconds."""

    cap_bps: int
    capacity: int
    refill_period: int


@dataclass
class VaultConfig:
    """Everything the owner configures on a fresh vault.

    `unbounded` lists the assets the owner knowingly allows to be spent with nothing bounding them (no
    spend limit, no price under the loss bound): the vault refuses to spend any other unbounded asset.
    """

    assets: list[str] = field(default_factory=list)
    routers: dict[str, RouterKind] = field(default_factory=dict)
    pools: list[PoolConfig] = field(default_factory=list)
    direct_pools: list[DirectPoolConfig] = field(default_factory=list)
    spend_limits: list[SpendLimit] = field(default_factory=list)
    price_feeds: list[PriceFeed] = field(default_factory=list)
    price_twaps: list[PriceTwap] = field(default_factory=list)
    loss_bound: LossBound | None = None
    unbounded: list[str] = field(default_factory=list)


def unbounded_assets(config: VaultConfig) -> list[str]:
    """The allowed assets nothing would bound: no spend limit, and not priced under a loss bound.

    A leaked asset-manager key could sell all of such an asset at a price it manipulated (a sandwich), so
    the vault refuses to spend them unless the owner opts in (`VaultConfig.unbounded`)."""
    limited = {Web3.to_checksum_address(limit.asset) for limit in config.spend_limits if limit.capacity > 0}
    priced: set[str] = set()
    if config.loss_bound is not None:
        priced = {Web3.to_checksum_address(p.asset) for p in config.price_feeds} | {
            Web3.to_checksum_address(t.asset) for t in config.price_twaps}
    return [asset for asset in config.assets if Web3.to_checksum_address(asset) not in limited | priced]


def get_vault(web3: Web3, address: str) -> Contract:
    """A contract object for the vault at `address`; refuses an address with no code."""
    checksum = Web3.to_checksum_address(address)
    if not web3.eth.get_code(checksum):
        raise ConfigurationError(
            f"No contract at {checksum} on chain {web3.eth.chain_id}: check the vault address and the RPC URL.")
    return web3.eth.contract(address=checksum, abi=load_artifact(VAULT_CONTRACT)["abi"])


def deploy_vault(web3: Web3, owner: Sender, asset_manager: str) -> Contract:
    """Deploy a new vault owned by `owner` (who sends the deployment) with one asset manager."""
    artifact = load_artifact(VAULT_CONTRACT)
    factory = web3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = send_and_wait(web3, owner, factory.constructor(sender_address(owner),
                                                             Web3.to_checksum_address(asset_manager)))
    address: ChecksumAddress = receipt["contractAddress"]  # type: ignore[assignment]
    logger.info("vault deployed at %s (owner %s, manager %s)", address, sender_address(owner), asset_manager)
    return web3.eth.contract(address=address, abi=artifact["abi"])


def configure_vault(web3: Web3, vault: Contract, owner: Sender, config: VaultConfig) -> None:
    """Apply `config` with one owner transaction per setting (each emits its event on chain)."""
    for call in configuration_calls(vault, config):
        send_and_wait(web3, owner, call)


def configuration_calls(guard: Contract, config: VaultConfig) -> list[Any]:
    """The owner's calls that apply `config` to a guard (our vault or the Safe module), in the order they must
    run: price feeds before the TWAPs they price, the loss bound after its sources."""
    checksum = Web3.to_checksum_address
    fn = guard.functions
    calls: list[Any] = [fn.setAssetAllowed(checksum(asset), True) for asset in config.assets]
    calls += [fn.setRouter(checksum(router), int(kind)) for router, kind in config.routers.items()]
    calls += [fn.setPoolAllowed(checksum(pool.router), checksum(pool.token_a), checksum(pool.token_b), pool.fee, True)
              for pool in config.pools]
    calls += [fn.setDirectPoolAllowed(checksum(direct.factory), direct.protocol, checksum(direct.token_a),
                                      checksum(direct.token_b), direct.fee, True) for direct in config.direct_pools]
    calls += [fn.setSpendLimit(checksum(limit.asset), limit.capacity, limit.refill_period)
              for limit in config.spend_limits]
    calls += [fn.setPriceFeed(checksum(feed.asset), checksum(feed.feed), feed.heartbeat) for feed in config.price_feeds]
    calls += [fn.setPriceTwap(checksum(twap.asset), checksum(twap.pool), twap.window) for twap in config.price_twaps]
    if config.loss_bound is not None:
        bound = config.loss_bound
        calls.append(fn.setLossBound(bound.cap_bps, bound.capacity, bound.refill_period))
    calls += [fn.setUnboundedSpendAllowed(checksum(asset), True) for asset in config.unbounded]
    return calls
