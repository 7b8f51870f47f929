"""Routing's one read request: the calls a batch needs, their results, and the checks made on them.

`collect_reads` lists every call of the batch (deduplicated) with a key per purpose; after the request,
`check_vault` / `confirm_factories` / `check_route` judge the vault's guard and the configured pools and
`Ledger` books each spend against the vault's balances and spend limits in execution order.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Sequence
from typing import Any

from vaultexec.dex import erc20, uniswap_v2, uniswap_v3
from vaultexec.dex.abiread import decode_words as decode
from vaultexec.dex.abiwords import address, uint
from vaultexec.dex.erc20 import selector
from vaultexec.dex.reads import CallResult, ContractCall
from vaultexec.errors import BadInputError, ConfigurationError, GuardRefusedError, InsufficientBalanceError
from vaultexec.execution.plan import Route
from vaultexec.execution.routing_input import raw_amount_in, trade_label
from vaultexec.model.addresses import checksum as to_checksum_address
from vaultexec.model.deltas import AssetDelta
from vaultexec.model.identifiers import AssetIdentifier, ExchangeKind, TradingPairIdentifier
from vaultexec.model.trade import TradeExecution
from vaultexec.vault.deploy import RouterKind

_PAUSED = selector("paused()")
_ASSET_MANAGER = selector("assetManager()")
_IS_ASSET_ALLOWED = selector("isAssetAllowed(address)")
_ROUTER_KIND = selector("routerKind(address)")
_IS_POOL_ALLOWED = selector("isPoolAllowed(address,address,address,uint24)")
_AVAILABLE_SPEND = selector("availableSpend(address)")
_DIRECT_POOL = selector("directPool(address,address,address)")

#: The vault's router kind each (protocol, role of the router in its deployment) must have.
_EXPECTED_KINDS: dict[ExchangeKind, tuple[RouterKind, ...]] = {
    ExchangeKind.uniswap_v2: (RouterKind.UNISWAP_V2, RouterKind.UNISWAP_V3_SWAP_ROUTER02),
    ExchangeKind.uniswap_v3: (RouterKind.UNISWAP_V3_SWAP_ROUTER, RouterKind.UNISWAP_V3_SWAP_ROUTER02),
}

#: A read's key: (checksummed target, calldata).
ReadKey = tuple[str, bytes]


class ReadBatch:
    """Collects deduplicated calls for one request and hands each caller its result."""

    def __init__(self) -> None:
        self.calls: list[ContractCall] = []
        self.index: dict[ReadKey, int] = {}
        self.results: list[CallResult] = []

    def add(self, to: str, data: bytes) -> ReadKey:
        key = (to_checksum_address(to), data)
        if key not in self.index:
            self.index[key] = len(self.calls)
            self.calls.append(ContractCall(key[0], data))
        return key

    def get(self, key: ReadKey) -> CallResult:
        return self.results[self.index[key]]

    def value(self, key: ReadKey, decoder: Callable[[bytes], Any], what: str) -> Any:
        result = self.get(key)
        if not result.success or not result.data:
            raise ConfigurationError(f"Reading {what} from {key[0]} failed "
                                     f"({result.error_message or 'no data'}): is it the right contract?")
        return decoder(result.data)


def abi1(kind: str) -> Callable[[bytes], Any]:
    """Decoder of a single ABI value of type `kind`."""
    return lambda data: decode([kind], data)[0]


def factory_key(route: Route) -> str:
    return f"factory:{route.router}:{route.protocol.value}"


def hop_pairs(pair: TradingPairIdentifier, buy: bool) -> list[TradingPairIdentifier]:
    """The pair of each hop in swap order (as `get_route_pools`)."""
    hops = [pair] if pair.intermediary_pair is None else [pair.intermediary_pair, pair]
    return hops if buy else hops[::-1]


def collect_reads(vault: str, trades: Sequence[TradeExecution], routes: dict[int, Route],
                  factory_getters: dict[tuple[str, ExchangeKind], bytes], known_decimals: Container[str],
                  custody: str | None = None) -> tuple[ReadBatch, dict[str, Any]]:
    """Every call the batch needs and a key per purpose: quotes, pool states, the factory's pool of each hop,
    the vault's guard, balances and spend limits, unknown decimals, and the router's `factory()` for the
    (router, protocol) pairs in `factory_getters` (not confirmed yet). Balances are read at `custody` (a
    Safe module's Safe), default the vault itself."""
    reads = ReadBatch()
    keys: dict[str, Any] = {"paused": reads.add(vault, _PAUSED), "manager": reads.add(vault, _ASSET_MANAGER)}
    for trade in trades:
        route = routes[trade.trade_id]
        raw_in = raw_amount_in(trade)
        tid = trade.trade_id
        if route.protocol == ExchangeKind.uniswap_v2:
            keys[f"quote{tid}"] = reads.add(route.quoter, uniswap_v2.encode_get_amounts_out(raw_in, route.tokens))
        else:
            keys[f"quote{tid}"] = reads.add(route.quoter, uniswap_v3.encode_quote(raw_in, route.tokens, route.fees))
        keys[f"kind:{route.router}"] = reads.add(vault, _ROUTER_KIND + address(route.router))
        getter = factory_getters.get((route.router, route.protocol))
        if getter is not None:
            keys[factory_key(route)] = reads.add(route.router, getter)
        assert route.factory is not None
        for n, pool in enumerate(route.pools):
            a, b = route.tokens[n], route.tokens[n + 1]
            if route.protocol == ExchangeKind.uniswap_v2:
                state_call, pool_of = uniswap_v2.encode_get_reserves(), uniswap_v2.encode_get_pair(a, b)
            else:
                state_call, pool_of = uniswap_v3.encode_slot0(), uniswap_v3.encode_get_pool(a, b, route.fees[n])
            keys[f"pool{tid}:{n}"] = reads.add(pool, state_call)
            keys[f"pool_of{tid}:{n}"] = reads.add(route.factory, pool_of)
            keys[f"allowed{tid}:{n}"] = reads.add(vault, _IS_POOL_ALLOWED + address(route.router) + address(a)
                                                  + address(b) + uint(route.fees[n]))
            keys[f"direct{tid}:{n}"] = reads.add(vault, _DIRECT_POOL + address(pool) + address(a) + address(b))
        for token in route.tokens:
            keys[f"asset:{token}"] = reads.add(vault, _IS_ASSET_ALLOWED + address(token))
            keys[f"balance:{token}"] = reads.add(token, erc20.encode_balance_of(custody or vault))
            if token not in known_decimals:
                keys[f"decimals:{token}"] = reads.add(token, erc20.encode_decimals())
        keys[f"limit:{route.tokens[0]}"] = reads.add(vault, _AVAILABLE_SPEND + address(route.tokens[0]))
    return reads, keys


def router_kind(reads: ReadBatch, keys: dict[str, Any], route: Route) -> RouterKind:
    """The ABI the vault knows the route's router by (NONE: not allowed)."""
    return RouterKind(reads.value(keys[f"kind:{route.router}"], abi1("uint8"), "routerKind()"))


def check_vault(reads: ReadBatch, keys: dict[str, Any], vault: str, asset_manager: str) -> None:
    manager = to_checksum_address(reads.value(keys["manager"], abi1("address"), "assetManager()"))
    if manager != asset_manager:
        raise ConfigurationError(
            f"Vault {vault} has asset manager {manager}, not {asset_manager}: the vault "
            f"would refuse every trade; use the vault's asset manager")
    if reads.value(keys["paused"], abi1("bool"), "paused()"):
        raise GuardRefusedError(f"Vault {vault} is paused: no trade can execute until its "
                                f"owner unpauses it")


def confirm_factories(routes: Iterable[Route], reads: ReadBatch, keys: dict[str, Any],
                      factories: dict[tuple[str, ExchangeKind], str]) -> None:
    """The factory a registered deployment gives must be the one its router names on chain; a confirmed
    factory is added to `factories`."""
    for route in routes:
        key = (route.router, route.protocol)
        if key in factories:
            continue
        named = to_checksum_address(reads.value(keys[factory_key(route)], abi1("address"), "factory()"))
        if named != route.factory:
            raise ConfigurationError(
                f"Router {route.router} swaps {route.protocol.value} pools of factory {named}, but the "
                f"registered deployment says {route.factory}: fix the deployment registration")
        factories[key] = named


def check_route(trade: TradeExecution, route: Route, reads: ReadBatch, keys: dict[str, Any],
                decimals: dict[str, int], vault: str) -> None:
    """Token decimals, configured pools and the vault's guard against what the chain says."""
    name = trade_label(trade)
    for asset in trade.pair.get_all_assets():
        on_chain = decimals.get(asset.address)
        if on_chain is not None and on_chain != asset.decimals:
            raise BadInputError(
                f"{name}: {asset.token_symbol} says {asset.decimals} decimals but the token contract "
                f"{asset.address} says {on_chain}; fix the AssetIdentifier (amounts would be off by "
                f"10^{abs(on_chain - asset.decimals)})")
    _check_pools(trade, route, reads, keys)
    kind = router_kind(reads, keys, route)
    if kind == RouterKind.NONE:
        raise GuardRefusedError(
            f"{name}: router {route.router} is not allowed by vault {vault}; the owner "
            f"must call setRouter(router, kind) first")
    if kind not in _EXPECTED_KINDS[route.protocol]:
        raise ConfigurationError(
            f"{name}: the vault knows router {route.router} as {kind.name}, which cannot trade "
            f"{route.protocol.value} pools; pick a pair on a matching router")
    for token in route.tokens:
        if not reads.value(keys[f"asset:{token}"], abi1("bool"), "isAssetAllowed()"):
            symbol = next((a.token_symbol for a in trade.pair.get_all_assets() if a.address == token), token)
            raise GuardRefusedError(
                f"{name}: token {symbol} ({token}) is not allowed by vault {vault}'s "
                f"guard; the owner must call setAssetAllowed({token}, true)")
    for n in range(route.hops):
        if not reads.value(keys[f"allowed{trade.trade_id}:{n}"], abi1("bool"), "isPoolAllowed()"):
            raise GuardRefusedError(
                f"{name}: pool {route.pools[n]} ({route.tokens[n]} -> {route.tokens[n + 1]}, fee "
                f"{route.fees[n]}) is not allowed on router {route.router} by vault {vault}; "
                f"the owner must call setPoolAllowed(...)")


def _check_pools(trade: TradeExecution, route: Route, reads: ReadBatch, keys: dict[str, Any]) -> None:
    """Each hop's configured pool must be the factory's pool of its tokens (and fee): the mid price is
    read from it while the swap goes wherever the router finds the factory's pool."""
    hops = hop_pairs(trade.pair, trade.is_buy())
    for n, configured in enumerate(route.pools):
        getter = "getPair()" if route.protocol == ExchangeKind.uniswap_v2 else "getPool()"
        real = to_checksum_address(reads.value(keys[f"pool_of{trade.trade_id}:{n}"], abi1("address"), getter))
        if real == configured:
            continue
        hop = hops[n]
        fee = f" fee {route.fees[n]}" if route.protocol == ExchangeKind.uniswap_v3 else ""
        found = ("has no such pool" if int(real, 16) == 0 else f"has {real}")
        raise ConfigurationError(
            f"{trade_label(trade)}: pair {hop.get_ticker()} is configured with pool {configured}, but factory "
            f"{route.factory} of router {route.router} {found} for {hop.base.token_symbol}/"
            f"{hop.quote.token_symbol}{fee}; fix the pair's pool_address (or its router and fee)")


class Ledger:
    """The vault's balances and spend limits as the batch runs in execution order (raw units): a sell's
    minimum receive counts toward a later buy."""

    def __init__(self, vault: str, reads: ReadBatch, keys: dict[str, Any]) -> None:
        self.vault = vault
        self.reads = reads
        self.keys = keys
        self.balances: dict[str, int] = {}
        self.limits: dict[str, int] = {}

    def _balance(self, token: str) -> int:
        if token not in self.balances:
            self.balances[token] = self.reads.value(self.keys[f"balance:{token}"], erc20.decode_uint, "balanceOf()")
        return self.balances[token]

    def spend(self, trade: TradeExecution, asset: AssetIdentifier, raw: int) -> None:
        """Refuse a spend above what the vault holds or its spend limit allows now, else book it."""
        self.check_spend(trade, asset, raw)
        token = asset.address
        self.balances[token] -= raw
        self.limits[token] -= raw

    def check_spend(self, trade: TradeExecution, asset: AssetIdentifier, raw: int) -> None:
        """Refuse a spend above what the vault holds or its spend limit allows now (books nothing)."""
        token = asset.address
        if token not in self.limits:
            self.limits[token] = self.reads.value(self.keys[f"limit:{token}"], erc20.decode_uint,
                                                  "availableSpend()")
        balance = self._balance(token)
        if raw > balance:
            raise InsufficientBalanceError(
                f"{trade_label(trade)}: needs {asset.convert_to_decimal(raw)} {asset.token_symbol} but vault "
                f"{self.vault} holds {asset.convert_to_decimal(balance)} for it (after earlier trades of this "
                f"batch); reduce the trade or fund the vault")
        if raw > self.limits[token]:
            raise GuardRefusedError(
                f"{trade_label(trade)}: spends {asset.convert_to_decimal(raw)} {asset.token_symbol} but the "
                f"vault's spend limit allows {asset.convert_to_decimal(self.limits[token])} now; wait for it to "
                f"refill or ask the owner to raise it")

    def receive(self, delta: AssetDelta) -> None:
        token = delta.asset.address
        self.balances[token] = self._balance(token) + delta.raw_amount
