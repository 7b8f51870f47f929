"""Turn what a user types ("WETH/USDC", "v3", fee 500, "--via WETH") into a `TradingPairIdentifier`.

Tokens come from a symbol table (config file `[tokens]`, `--token`); routers, factories and quoters from the
DEX deployment registered for the chain (`dex.deployments`, or the config file's `[deployment]` table).
Pool addresses are read from the factories, so a pair that has no pool is refused before any planning.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, ContractLogicError

from vaultexec.dex import uniswap_v2, uniswap_v3
from vaultexec.dex.deployments import Deployment, get_deployments, register_deployment
from vaultexec.dex.token_reads import token_decimals
from vaultexec.errors import BadInputError, ConfigurationError, RouteNotFoundError
from vaultexec.model.identifiers import AssetIdentifier, ExchangeKind, TradingPairIdentifier

logger = logging.getLogger(__name__)

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
#: Pool fee tiers are below 100 % (in hundredths of a basis point).
MAX_FEE = 1_000_000
VENUES = {"v2": ExchangeKind.uniswap_v2, "v3": ExchangeKind.uniswap_v3}
DEPLOYMENT_FIELDS = ("name", "v2_factory", "v2_router", "v3_factory", "swap_router", "swap_router02", "quoter_v2")


def check_fee(value: object, what: str) -> int:
    """A pool fee tier (hundredths of a basis point) as an int, or BadInputError naming `what`."""
    try:
        if isinstance(value, bool | float):
            raise ValueError
        fee = int(str(value).strip())
    except ValueError:
        raise BadInputError(f"{what}: {value!r} is not an integer") from None
    if not 0 <= fee < MAX_FEE:
        raise BadInputError(f"{what}: fee {fee} outside 0..{MAX_FEE - 1} (0 for Uniswap V2, 500 = 0.05 %)")
    return fee


def resolve_token(reference: str, tokens: Mapping[str, str]) -> str:
    """Checksummed address of a token named by address or by a declared symbol (case-insensitive)."""
    if Web3.is_address(reference):
        return Web3.to_checksum_address(reference)
    by_symbol = {symbol.upper(): address for symbol, address in tokens.items()}
    address = by_symbol.get(reference.upper())
    if address is None:
        known = ", ".join(sorted(tokens)) or "none"
        raise BadInputError(f"Unknown token symbol {reference!r} (known: {known}). Give its address, or "
                            "declare it with --token SYMBOL=0xADDRESS / a [tokens] table.")
    if not Web3.is_address(address):
        raise BadInputError(f"Token {reference}: {address!r} is not an address (0x + 40 hex digits)")
    return Web3.to_checksum_address(address)


@dataclass(frozen=True)
class MarketRequest:
    """A pair as typed: base and quote token references, venue, V3 fee tier(s), optional intermediary."""

    base: str
    quote: str
    venue: str = "v3"
    fee: int = 3000
    via: str | None = None
    #: Fee of the intermediary/quote hop (V3); defaults to `fee`.
    via_fee: int | None = None
    router: str | None = None

    def __post_init__(self) -> None:
        """Fee tiers are checked as typed, before anything is read from chain."""
        check_fee(self.fee, "--fee")
        if self.via_fee is not None:
            check_fee(self.via_fee, "--via-fee")


def parse_pair(text: str) -> tuple[str, str]:
    """"WETH/USDC" -> ("WETH", "USDC"): base first, quote second (the reserve currency)."""
    parts = [p.strip() for p in text.replace("-", "/").split("/")]
    if len(parts) != 2 or not all(parts):
        raise BadInputError(f"Pair {text!r}: write BASE/QUOTE, e.g. WETH/USDC (use --via for a three-way route)")
    if parts[0].upper() == parts[1].upper():
        raise BadInputError(f"Pair {text!r}: base and quote are the same token")
    return parts[0], parts[1]


def check_router_option(router: str | None) -> str | None:
    """The --router value, checksummed; refused unless it is an address."""
    if router is None:
        return None
    if not Web3.is_address(router):
        raise BadInputError(f"--router {router!r} is not an address (0x + 40 hex digits)")
    return Web3.to_checksum_address(router)


def register_config_deployment(fields: Mapping[str, str], chain_id: int) -> Deployment | None:
    """Register the config file's `[deployment]` for this chain (replacing an older one of the same name)."""
    if not fields:
        return None
    unknown = set(fields) - set(DEPLOYMENT_FIELDS)
    if unknown:
        raise BadInputError(f"[deployment]: unknown keys {sorted(unknown)}; allowed: {', '.join(DEPLOYMENT_FIELDS)}")
    values: dict[str, Any] = {k: v for k, v in fields.items() if k != "name"}
    for key, value in values.items():
        if not Web3.is_address(value):
            raise BadInputError(f"[deployment] {key}: {value!r} is not an address")
    deployment = Deployment(chain_id, fields.get("name", "config"), **values)
    return register_deployment(deployment, replace_existing=True)


def _deployment_for(chain_id: int, router: str | None) -> Deployment:
    deployments = get_deployments(chain_id)
    if router is not None:
        for deployment in deployments:
            if Web3.to_checksum_address(router) in deployment.routers():
                return deployment
        raise ConfigurationError(f"Router {router} is not in any DEX deployment known for chain {chain_id}; "
                                 "describe it in a [deployment] table of the config file.")
    if not deployments:
        raise ConfigurationError(f"No DEX deployment known for chain {chain_id}: describe one in a [deployment] "
                                 "table of the config file (--config).")
    return deployments[0]


def _router_for(deployment: Deployment, kind: ExchangeKind, router: str | None) -> str:
    if router is not None:
        return Web3.to_checksum_address(router)
    choice = (deployment.v2_router if kind is ExchangeKind.uniswap_v2
              else deployment.swap_router or deployment.swap_router02)
    if choice is None:
        raise ConfigurationError(f"Deployment {deployment.name} on chain {deployment.chain_id} has no "
                                 f"{kind.value} router; pass --router or pick the other venue.")
    return choice


def _read_pool(web3: Web3, deployment: Deployment, kind: ExchangeKind, factory: str, data: bytes) -> str:
    """The pool address the factory answers `data` with; ConfigurationError when it is no Uniswap factory."""
    checksum = Web3.to_checksum_address(factory)
    call = "getPair" if kind is ExchangeKind.uniswap_v2 else "getPool"
    try:
        result = bytes(web3.eth.call({"to": checksum, "data": Web3.to_hex(data)}))
        (address,) = decode(["address"], result)
    except (ContractLogicError, BadFunctionCallOutput, DecodingError) as exc:
        raise ConfigurationError(
            f"The {kind.value} factory {checksum} of deployment {deployment.name} (chain {deployment.chain_id}) "
            f"is not a Uniswap factory: it does not answer {call} ({type(exc).__name__}). Check the factory "
            "addresses of the config's [deployment].") from exc
    return Web3.to_checksum_address(address)


def find_pool(web3: Web3, deployment: Deployment, kind: ExchangeKind, a: AssetIdentifier,
              b: AssetIdentifier, fee: int) -> str:
    """The pool of a/b on the deployment's factory; RouteNotFoundError when there is none."""
    if kind is ExchangeKind.uniswap_v2:
        factory = deployment.v2_factory
        data = uniswap_v2.encode_get_pair(a.address, b.address)
    else:
        factory = deployment.v3_factory
        data = uniswap_v3.encode_get_pool(a.address, b.address, fee)
    if factory is None:
        raise ConfigurationError(f"Deployment {deployment.name} has no {kind.value} factory to find pools on.")
    pool = _read_pool(web3, deployment, kind, factory, data)
    if pool == ZERO_ADDRESS:
        tier = "" if kind is ExchangeKind.uniswap_v2 else f" with fee {fee}"
        raise RouteNotFoundError(f"No {kind.value} pool for {a.token_symbol}/{b.token_symbol}{tier} on "
                                 f"{deployment.name} (chain {deployment.chain_id}); try the other venue or fee.")
    return pool


class MarketResolver:
    """Builds pairs on one chain from a token table, with decimals read once per token."""

    def __init__(self, web3: Web3, chain_id: int, tokens: Mapping[str, str]) -> None:
        self.web3 = web3
        self.chain_id = chain_id
        self.tokens = dict(tokens)
        self._assets: dict[str, AssetIdentifier] = {}

    def asset(self, reference: str) -> AssetIdentifier:
        address = resolve_token(reference, self.tokens)
        if address not in self._assets:
            symbol = next((s for s, a in self.tokens.items() if Web3.to_checksum_address(a) == address), reference)
            self._assets[address] = AssetIdentifier(self.chain_id, address, symbol,
                                                    token_decimals(self.web3, address))
        return self._assets[address]

    def pair(self, request: MarketRequest) -> TradingPairIdentifier:
        if request.venue not in VENUES:
            raise BadInputError(f"Venue {request.venue!r}: use one of {', '.join(VENUES)}")
        kind = VENUES[request.venue]
        check_router_option(request.router)
        fee = 0 if kind is ExchangeKind.uniswap_v2 else request.fee
        base, quote = self.asset(request.base), self.asset(request.quote)
        deployment = _deployment_for(self.chain_id, request.router)
        router = _router_for(deployment, kind, request.router)
        middle_pair = None
        first = quote
        if request.via is not None:
            middle = self.asset(request.via)
            middle_fee = 0 if kind is ExchangeKind.uniswap_v2 else (request.via_fee or request.fee)
            middle_pool = find_pool(self.web3, deployment, kind, middle, quote, middle_fee)
            middle_pair = TradingPairIdentifier(middle, quote, middle_pool, router, middle_fee, kind,
                                                exchange_name=deployment.name)
            first = middle
        pool = find_pool(self.web3, deployment, kind, base, first, fee)
        return TradingPairIdentifier(base, quote, pool, router, fee, kind, exchange_name=deployment.name,
                                     intermediary_pair=middle_pair)
