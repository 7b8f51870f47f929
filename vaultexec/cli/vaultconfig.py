"""Read a vault configuration (assets, routers, pools, spend limits, price sources, loss bound) from a
TOML/JSON file and from flags.

Tokens may be named by address or by a symbol declared in the file's `[tokens]` table (or `--token
SYMBOL=ADDRESS`). Spend limits are human amounts converted with the token's on-chain decimals, rounded
down (a limit is never raised by rounding).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from web3 import Web3

from vaultexec.errors import BadInputError
from vaultexec.execution.markets import check_fee, resolve_token
from vaultexec.vault.deploy import LossBound, PoolConfig, PriceFeed, PriceTwap, RouterKind, SpendLimit, VaultConfig

#: Router kinds as written in config files and flags.
ROUTER_KINDS: dict[str, RouterKind] = {
    "uniswap_v2": RouterKind.UNISWAP_V2,
    "uniswap_v3": RouterKind.UNISWAP_V3_SWAP_ROUTER,
    "uniswap_v3_swap_router": RouterKind.UNISWAP_V3_SWAP_ROUTER,
    "uniswap_v3_swap_router02": RouterKind.UNISWAP_V3_SWAP_ROUTER02,
}
#: Valuation units of the loss budget (the feeds' unit, e.g. USD) have 18 decimals on chain.
VALUE_DECIMALS = 18


@dataclass
class RawLossBound:
    """A loss bound as written: cap in basis points, budget in human valuation units (e.g. USD), period."""

    cap_bps: int
    budget: Decimal
    refill_period: int


@dataclass
class RawSpendLimit:
    """A spend limit as written: token reference, human capacity, refill period in seconds."""

    token: str
    capacity: Decimal
    refill_period: int


@dataclass
class ConfigRequest:
    """A configuration with tokens still named as the user wrote them (before symbol resolution)."""

    tokens: dict[str, str] = field(default_factory=dict)
    assets: list[str] = field(default_factory=list)
    routers: dict[str, str] = field(default_factory=dict)
    pools: list[tuple[str, str, str, int]] = field(default_factory=list)
    spend_limits: list[RawSpendLimit] = field(default_factory=list)
    #: A DEX deployment to register (field names of `dex.deployments.Deployment`, chain id excluded).
    deployment: dict[str, str] = field(default_factory=dict)
    #: (token, feed address, heartbeat seconds)
    price_feeds: list[tuple[str, str, int]] = field(default_factory=list)
    #: (token, V3 pool address, window seconds)
    price_twaps: list[tuple[str, str, int]] = field(default_factory=list)
    loss_bound: RawLossBound | None = None

    def merge(self, other: ConfigRequest) -> ConfigRequest:
        return ConfigRequest({**self.tokens, **other.tokens}, [*self.assets, *other.assets],
                             {**self.routers, **other.routers}, [*self.pools, *other.pools],
                             [*self.spend_limits, *other.spend_limits], {**self.deployment, **other.deployment},
                             [*self.price_feeds, *other.price_feeds], [*self.price_twaps, *other.price_twaps],
                             other.loss_bound or self.loss_bound)

    def is_empty(self) -> bool:
        return not (self.assets or self.routers or self.pools or self.spend_limits or self.price_feeds
                    or self.price_twaps or self.loss_bound)


def parse_decimal(text: object, what: str) -> Decimal:
    """A finite positive Decimal from a string/int (never a float: floats are refused)."""
    if isinstance(text, float | bool) or not isinstance(text, str | int):
        raise BadInputError(f"{what}: {text!r} must be written as a string or an integer (no floats)")
    try:
        value = Decimal(str(text).strip().replace("_", ""))
    except InvalidOperation:
        raise BadInputError(f"{what}: {text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise BadInputError(f"{what}: {text!r} must be a positive number")
    return value


def _int(value: object, what: str) -> int:
    try:
        if isinstance(value, bool | float):
            raise ValueError
        return int(str(value).strip())
    except ValueError:
        raise BadInputError(f"{what}: {value!r} is not an integer") from None


def load_config_file(path: Path) -> ConfigRequest:
    """Parse a `.toml` or `.json` vault configuration file (layout in docs/cli.md)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise BadInputError(f"Cannot read config file {path}: {exc.strerror}") from None
    try:
        data: dict[str, Any] = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise BadInputError(f"Config file {path} is not valid {path.suffix.lstrip('.').upper() or 'TOML'}: "
                            f"{exc}") from None
    return config_from_mapping(data, str(path))


def config_from_mapping(data: Mapping[str, Any], source: str) -> ConfigRequest:
    """A ConfigRequest from a parsed file; every key's type is checked, naming the key and what it must be."""
    if not isinstance(data, Mapping):
        raise BadInputError(f"{source}: the file must hold a table of settings (tokens, assets, ...), "
                            f"not {_kind(data)}")
    unknown = set(data) - {"tokens", "assets", "routers", "pools", "spend_limits", "deployment", "price_feeds",
                           "price_twaps", "loss_bound"}
    if unknown:
        raise BadInputError(f"{source}: unknown keys {sorted(unknown)}; expected tokens, deployment, assets, "
                            "routers, pools, spend_limits, price_feeds, price_twaps, loss_bound")
    pools = [_pool(pool, f"{source} pools[{i}]") for i, pool in enumerate(_list_of_tables(data, "pools", source))]
    limits = [_spend_limit(limit, f"{source} spend_limits[{i}]")
              for i, limit in enumerate(_list_of_tables(data, "spend_limits", source))]
    feeds = [_source(item, f"{source} price_feeds[{i}]", "feed", "heartbeat")
             for i, item in enumerate(_list_of_tables(data, "price_feeds", source))]
    twaps = [_source(item, f"{source} price_twaps[{i}]", "pool", "window")
             for i, item in enumerate(_list_of_tables(data, "price_twaps", source))]
    bound = data.get("loss_bound")
    if bound is not None and not isinstance(bound, Mapping):
        raise _wrong(f"{source}: `loss_bound`", "a table ([loss_bound] in TOML)", bound)
    return ConfigRequest(
        tokens=_string_table(data, "tokens", source), assets=_string_list(data, "assets", source),
        routers=_string_table(data, "routers", source), pools=pools, spend_limits=limits,
        deployment=_string_table(data, "deployment", source), price_feeds=feeds, price_twaps=twaps,
        loss_bound=_loss_bound(bound, f"{source} loss_bound") if bound is not None else None)


def _source(item: Mapping[str, Any], where: str, address_key: str, seconds_key: str) -> tuple[str, str, int]:
    if not {"asset", address_key, seconds_key} <= set(item) or not isinstance(item["asset"], str) \
            or not isinstance(item[address_key], str):
        raise BadInputError(f"{where}: write asset = \"WETH\", {address_key} = \"0x...\", {seconds_key} = 3600")
    return item["asset"], item[address_key], _int(item[seconds_key], f"{where} {seconds_key}")


def _loss_bound(bound: Mapping[str, Any], where: str) -> RawLossBound:
    if not {"cap_bps", "budget", "refill_period"} <= set(bound):
        raise BadInputError(f"{where}: write cap_bps = 100, budget = \"10000\", refill_period = 86400")
    return RawLossBound(_int(bound["cap_bps"], f"{where} cap_bps"), parse_decimal(bound["budget"], f"{where} budget"),
                        _int(bound["refill_period"], f"{where} refill_period"))


def _kind(value: object) -> str:
    """How a parsed value is described in a message: `a string ('x')`, `a list`, ..."""
    names = {str: "a string", int: "an integer", float: "a float", bool: "a boolean", list: "a list",
             dict: "a table"}
    name = next((label for cls, label in names.items() if type(value) is cls), type(value).__name__)
    return f"{name} ({value!r})" if isinstance(value, str | int | float) else name


def _wrong(where: str, expected: str, value: object) -> BadInputError:
    return BadInputError(f"{where} must be {expected}, not {_kind(value)}")


def _string_table(data: Mapping[str, Any], key: str, source: str) -> dict[str, str]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise _wrong(f"{source}: `{key}`", 'a table of strings ([' + key + '] NAME = "0x...")', value)
    for name, item in value.items():
        if not isinstance(item, str):
            raise _wrong(f"{source}: `{key}.{name}`", "a string", item)
    return {str(name): item for name, item in value.items()}


def _string_list(data: Mapping[str, Any], key: str, source: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise _wrong(f"{source}: `{key}`", f'a list of strings ({key} = ["USDC", "0x..."])', value)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise _wrong(f"{source}: `{key}[{i}]`", "a string", item)
    return list(value)


def _list_of_tables(data: Mapping[str, Any], key: str, source: str) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise _wrong(f"{source}: `{key}`", f"a list of tables ([[{key}]] in TOML)", value)
    for i, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise _wrong(f"{source}: `{key}[{i}]`", f"a table ([[{key}]] in TOML)", item)
    return value


def _pool(pool: Mapping[str, Any], where: str) -> tuple[str, str, str, int]:
    tokens, router = pool.get("tokens"), pool.get("router")
    if not (isinstance(tokens, list) and len(tokens) == 2 and all(isinstance(t, str) for t in tokens)
            and isinstance(router, str)):
        raise BadInputError(f"{where}: write router = \"0x...\", tokens = [\"A\", \"B\"], fee = 500")
    return router, tokens[0], tokens[1], check_fee(pool.get("fee", 0), where)


def _spend_limit(limit: Mapping[str, Any], where: str) -> RawSpendLimit:
    if not {"asset", "capacity", "refill_period"} <= set(limit) or not isinstance(limit["asset"], str):
        raise BadInputError(f"{where}: write asset = \"USDC\", capacity = \"50000\", refill_period = 86400")
    return RawSpendLimit(limit["asset"], parse_decimal(limit["capacity"], f"{where} capacity"),
                         _int(limit["refill_period"], f"{where} refill_period"))


def _split(text: str, sep: str, parts: int, option: str, form: str) -> list[str]:
    pieces = [p.strip() for p in text.split(sep)]
    if len(pieces) != parts or not all(pieces):
        raise BadInputError(f"{option} {text!r}: expected {form}")
    return pieces


def config_from_flags(tokens: Iterable[str], assets: Iterable[str], routers: Iterable[str],
                      pools: Iterable[str], spend_limits: Iterable[str], price_feeds: Iterable[str] = (),
                      loss_bound: str | None = None) -> ConfigRequest:
    """Flags: --token SYM=ADDR, --asset TOKEN, --router ADDR=KIND, --pool ROUTER:A:B:FEE, --spend-limit T:CAP:SECS,
    --price-feed TOKEN:0xFEED:HEARTBEAT, --loss-bound CAP_BPS:BUDGET:SECONDS."""
    request = ConfigRequest(assets=list(assets))
    for item in price_feeds:
        token, feed, heartbeat = _split(item, ":", 3, "--price-feed", "TOKEN:0xFEED:HEARTBEAT_SECONDS")
        request.price_feeds.append((token, feed, _int(heartbeat, f"--price-feed {item}")))
    if loss_bound is not None:
        cap, budget, period = _split(loss_bound, ":", 3, "--loss-bound", "CAP_BPS:BUDGET:REFILL_SECONDS")
        request.loss_bound = RawLossBound(_int(cap, f"--loss-bound {loss_bound}"),
                                          parse_decimal(budget, f"--loss-bound {loss_bound}"),
                                          _int(period, f"--loss-bound {loss_bound}"))
    for item in tokens:
        symbol, address = _split(item, "=", 2, "--token", "SYMBOL=0xADDRESS")
        request.tokens[symbol] = address
    for item in routers:
        address, kind = _split(item, "=", 2, "--router", "0xROUTER=KIND")
        request.routers[address] = kind
    for item in pools:
        router, a, b, fee = _split(item, ":", 4, "--pool", "0xROUTER:TOKEN_A:TOKEN_B:FEE")
        request.pools.append((router, a, b, check_fee(fee, f"--pool {item}")))
    for item in spend_limits:
        token, capacity, period = _split(item, ":", 3, "--spend-limit", "TOKEN:CAPACITY:REFILL_SECONDS")
        request.spend_limits.append(RawSpendLimit(token, parse_decimal(capacity, f"--spend-limit {item}"),
                                                  _int(period, f"--spend-limit {item}")))
    return request


def _router(address: str, what: str) -> str:
    if not Web3.is_address(address):
        raise BadInputError(f"{what}: {address!r} is not a router address (0x + 40 hex digits)")
    return Web3.to_checksum_address(address)


def _address(address: str, what: str) -> str:
    if not Web3.is_address(address):
        raise BadInputError(f"{what}: {address!r} is not an address (0x + 40 hex digits)")
    return Web3.to_checksum_address(address)


def resolve_config(request: ConfigRequest, decimals_of: Callable[[str], int]) -> VaultConfig:
    """Resolve symbols and human amounts; `decimals_of(address)` reads a token's decimals."""
    tokens = request.tokens
    config = VaultConfig(assets=list(dict.fromkeys(resolve_token(a, tokens) for a in request.assets)))
    for address, kind in request.routers.items():
        if kind.lower() not in ROUTER_KINDS:
            raise BadInputError(f"Router {address}: kind {kind!r} unknown; use one of {', '.join(ROUTER_KINDS)}")
        config.routers[_router(address, "routers")] = ROUTER_KINDS[kind.lower()]
    for router, a, b, fee in request.pools:
        config.pools.append(PoolConfig(_router(router, "pools"), resolve_token(a, tokens),
                                       resolve_token(b, tokens), fee))
    for limit in request.spend_limits:
        asset = resolve_token(limit.token, tokens)
        raw = int(limit.capacity.scaleb(decimals_of(asset)).to_integral_value(rounding="ROUND_FLOOR"))
        if limit.refill_period <= 0 or raw <= 0:
            raise BadInputError(f"Spend limit of {limit.token}: capacity {limit.capacity} and refill period "
                                f"{limit.refill_period}s must both be positive")
        config.spend_limits.append(SpendLimit(asset, raw, limit.refill_period))
    for token, feed, heartbeat in request.price_feeds:
        if heartbeat <= 0:
            raise BadInputError(f"Price feed of {token}: heartbeat {heartbeat}s must be positive")
        config.price_feeds.append(PriceFeed(resolve_token(token, tokens), _address(feed, "price feed"), heartbeat))
    for token, pool, window in request.price_twaps:
        if window < 300:
            raise BadInputError(f"TWAP of {token}: window {window}s is below the vault's minimum of 300s")
        config.price_twaps.append(PriceTwap(resolve_token(token, tokens), _address(pool, "TWAP pool"), window))
    if request.loss_bound is not None:
        bound = request.loss_bound
        if not 0 <= bound.cap_bps <= 10_000 or bound.refill_period <= 0:
            raise BadInputError(f"Loss bound: cap {bound.cap_bps} bps must be within 0..10000 and the refill period "
                                f"{bound.refill_period}s positive")
        capacity = int(bound.budget.scaleb(VALUE_DECIMALS).to_integral_value(rounding="ROUND_FLOOR"))
        config.loss_bound = LossBound(bound.cap_bps, capacity, bound.refill_period)
    return config
