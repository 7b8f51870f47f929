"""Lossless adapter between trade-executor's TradeExecution JSON and the vaultexec model.

Trade-executor and vaultexec share field names but not meanings in three places of the pair:
`exchange_address` is the DEX factory there (the router here), `fee` a float fraction there (0.0005;
an int tier in hundredths of a bip here, 500) and `kind` a TradingPairKind there ("spot_market_hold";
an `ExchangeKind` here). A `RouterMap` resolves factory -> (router, protocol).

Losslessness: every object loaded from an executor dict carries an `ExecutorExtra` (read it with
`get_executor_extra`): the executor fields we do not model, verbatim, and the executor's original value of
each field whose mapping would not reproduce it (the factory address, "spot_market_hold", an int where we
would write 1.0...). An original value is written back only while our field still holds the value it was
loaded as, so what vaultexec changes (execution results, transaction receipts) wins. The extra is the
`executor_extra` field of each object (see `model.extra`): kept by copy/deepcopy/pickle and by vaultexec's
own JSON (so by the execution store), outside equality and hashing.

Numbers: the executor dict is the tree `serialisation.parse_json_text` gives (non-integer numbers as exact
`Decimal`); floats in the input are taken by their repr. `trade_to_executor_dict(trade_from_executor_dict(d))
== d` for such a tree.

Three-way trades: trade-executor keeps the target pair (e.g. Cake/BNB) with a reserve currency that is not
its quote (BUSD) and the intermediary pair (BNB/BUSD) only in `price_structure.path`. They load as our
three-way pair (Cake/BUSD via BNB, `intermediary_pair` = BNB/BUSD) and are written back in executor form.

Transaction call arguments (`transaction_args`, `wrapped_args`) are pickled Python objects in executor JSON:
they are kept opaque (never unpickled: untrusted bytes) and written back verbatim; ours stay None.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from vaultexec.errors import BadInputError, ExecutorRecordError, SerialisationError
from vaultexec.model.deltas import AssetDelta
from vaultexec.model.extra import EXECUTOR_EXTRA_FIELD, ExecutorExtra, ExecutorOverride, get_executor_extra
from vaultexec.model.identifiers import (
    FEE_DENOMINATOR,
    AssetIdentifier,
    ExchangeKind,
    TradingPairIdentifier,
    checksum_address,
)
from vaultexec.model.jsontext import float_form_tree
from vaultexec.model.serialisation import (
    MAX_JSON_DEPTH,
    JsonNumber,
    encode_dataclass,
    load_dict,
    parse_json_text,
    write_json_tree,
)
from vaultexec.model.trade import TradeExecution, TradePricing
from vaultexec.model.transaction import BlockchainTransaction, TxState

logger = logging.getLogger(__name__)

#: TradingPairKind values that are plain DEX swaps; lending and vault kinds are refused.
_SPOT_KINDS = ("spot_market_hold", "spot_market_rebalancing token")
_DEFAULT_KIND = "spot_market_hold"

#: BlockchainTransaction fields with the same name and meaning on both sides.
_TX_SHARED_FIELDS = (
    "chain_id",
    "from_address",
    "contract_address",
    "function_selector",
    "wrapped_function_selector",
    "tx_hash",
    "nonce",
    "details",
    "signed_bytes",
    "broadcasted_at",
    "included_at",
    "block_number",
    "block_hash",
    "status",
    "realised_gas_units_consumed",
    "realised_gas_price",
    "revert_reason",
    "stack_trace",
    "args",
    "notes",
)
#: Executor call arguments pickled as hex: kept opaque, our fields stay None.
_TX_PICKLED_FIELDS = ("transaction_args", "wrapped_args")
_TRADE_NESTED_FIELDS = ("pair", "reserve_currency", "blockchain_transactions", "price_structure")


# ---------------------------------------------------------------- router map


@dataclass(frozen=True)
class ExchangeRouter:
    """One DEX deployment: the factory trade-executor names and the router vaultexec swaps through."""

    chain_id: int
    factory: str
    router: str
    kind: ExchangeKind
    #: The exchange's one swap fee (V2 style, hundredths of a bip: 3000 = 0.3%), when it has one; it fills
    #: a legacy record's missing pair fee (written back as it was, null).
    fee: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "factory", checksum_address(self.factory, f"chain {self.chain_id} factory"))
        object.__setattr__(self, "router", checksum_address(self.router, f"chain {self.chain_id} router"))
        if not isinstance(self.kind, ExchangeKind):
            raise BadInputError(f"router {self.router}: kind {self.kind!r} is not an ExchangeKind")


@dataclass(frozen=True)
class RouterMap:
    """Factory -> router table, one entry per (chain id, factory)."""

    routers: tuple[ExchangeRouter, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "routers", tuple(self.routers))
        seen: set[tuple[int, str]] = set()
        for entry in self.routers:
            key = (entry.chain_id, entry.factory)
            if key in seen:
                raise BadInputError(f"factory {entry.factory} on chain {entry.chain_id} is listed twice")
            seen.add(key)

    def find_by_factory(self, chain_id: int, factory: object) -> ExchangeRouter:
        """The router of `factory`; BadInputError naming the factory when it is not in the map."""
        address = checksum_address(factory, f"chain {chain_id} exchange (factory) address")
        for entry in self.routers:
            if entry.chain_id == chain_id and entry.factory == address:
                return entry
        known = ", ".join(f"{e.factory} ({e.kind.value})" for e in self.routers if e.chain_id == chain_id)
        raise BadInputError(
            f"unknown exchange factory {address} on chain {chain_id}: add it to the RouterMap "
            f"(known on this chain: {known or 'none'})"
        )

    def find_by_router(self, chain_id: int, router: str) -> ExchangeRouter | None:
        for entry in self.routers:
            if entry.chain_id == chain_id and entry.router == router:
                return entry
        return None


# ---------------------------------------------------------------- fees


def fee_fraction_to_tier(fee: object, what: str = "fee") -> int:
    """Executor fee fraction (0.0005) -> Uniswap tier in hundredths of a bip (500), exactly.

    A float is read by its repr (the literal the executor wrote). Refuses a fee that is not a whole
    number of hundredths of a bip, or outside [0, 1).
    """
    if isinstance(fee, float):
        value = Decimal(repr(fee))
    elif isinstance(fee, Decimal) or (isinstance(fee, int) and not isinstance(fee, bool)):
        value = Decimal(fee)
    else:
        raise BadInputError(f"{what}: expected a fee fraction like 0.003, got {type(fee).__name__} {fee!r}")
    if not value.is_finite():
        raise BadInputError(f"{what}: fee {value} is not a finite number")
    tier = value * FEE_DENOMINATOR
    if tier != tier.to_integral_value():
        raise BadInputError(
            f"{what}: fee {value} is not a whole number of hundredths of a bip "
            f"({tier} / {FEE_DENOMINATOR}); Uniswap fee tiers are like 0.0005, 0.003, 0.01"
        )
    if not 0 <= tier < FEE_DENOMINATOR:
        raise BadInputError(f"{what}: fee {value} outside [0, 1)")
    return int(tier)


def fee_tier_to_fraction(tier: int) -> Decimal:
    """Uniswap tier (500) -> executor fee fraction (0.0005), shortest exact digits ("0.0" for zero)."""
    fraction = (Decimal(tier) / FEE_DENOMINATOR).normalize()
    return Decimal("0.0") if fraction == 0 else fraction


# ---------------------------------------------------------------- extras


def _set_extra(obj: object, extra: ExecutorExtra | None) -> None:
    object.__setattr__(obj, EXECUTOR_EXTRA_FIELD, extra)


def _same(a: Any, b: Any) -> bool:
    """Same JSON tree, literally: types must match and decimals keep their digits ("1.0" != "1")."""
    if type(a) is not type(b):
        return False
    if isinstance(a, Decimal):
        return str(a) == str(b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _remember(obj: object, original: dict[str, Any], ours: dict[str, Any]) -> None:
    """Attach what `ours` (our export of `obj`) misses or changes of the executor's `original` dict."""
    extra = ExecutorExtra(order=list(original))
    for key, value in original.items():
        if key not in ours:
            extra.unknown[key] = value
        elif not _same(ours[key], value):
            extra.overrides[key] = ExecutorOverride(as_loaded=ours[key], original=value)
    extra.absent = {key: value for key, value in ours.items() if key not in original}
    _set_extra(obj, extra)


def _restore(obj: object, ours: dict[str, Any]) -> dict[str, Any]:
    """Our export of `obj` with its remembered executor data put back (where our value is unchanged)."""
    extra = get_executor_extra(obj)
    if extra is None:
        return ours
    out = dict(ours)
    for key, as_loaded in extra.absent.items():
        if key in out and _same(out[key], as_loaded):
            del out[key]
    for key, override in extra.overrides.items():
        if key in out and _same(out[key], override.as_loaded):
            out[key] = override.original
    out.update(extra.unknown)
    ordered = {key: out[key] for key in extra.order if key in out}
    ordered.update((key, value) for key, value in out.items() if key not in ordered)
    return ordered


# ---------------------------------------------------------------- JSON trees


def _exact_tree(value: Any, path: str, depth: int = 0) -> Any:
    """Copy of a JSON-ready tree with floats as the Decimal of their repr; non-JSON values and nesting
    deeper than `MAX_JSON_DEPTH` refused."""
    if isinstance(value, float):
        result = Decimal(repr(value))
        if not result.is_finite():
            raise BadInputError(f"{path}: {value} is not a finite number")
        return result
    if isinstance(value, JsonNumber):
        return parse_json_text(str.__str__(value))
    if value is None or isinstance(value, bool | int | str | Decimal):
        return value
    if depth >= MAX_JSON_DEPTH:
        raise SerialisationError(f"{path}: nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, list | tuple):
        return [_exact_tree(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _exact_tree(v, f"{path}.{k}", depth + 1) for k, v in value.items()}
    raise BadInputError(f"{path}: {type(value).__name__} {value!r:.80} is not JSON data")


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadInputError(f"{path}: expected an object, got {type(value).__name__} {value!r:.80}")
    return value


def _our_tree(obj: Any) -> dict[str, Any]:
    """Our encoding of a model dataclass (less its extra) with the executor's float fields as numbers,
    as `parse_json_text` would read it back."""
    encoded = encode_dataclass(obj, executor_numbers=True)
    encoded.pop(EXECUTOR_EXTRA_FIELD, None)
    tree: dict[str, Any] = _exact_tree(encoded, type(obj).__name__)
    return tree


# ---------------------------------------------------------------- assets


def _asset_from(value: Any, path: str) -> AssetIdentifier:
    data = _object(value, path)
    try:
        asset = AssetIdentifier(
            chain_id=data.get("chain_id"),  # type: ignore[arg-type]  # validated by the class
            address=data.get("address"),  # type: ignore[arg-type]
            token_symbol=data.get("token_symbol"),  # type: ignore[arg-type]
            decimals=data.get("decimals"),  # type: ignore[arg-type]
            internal_id=data.get("internal_id"),
        )
    except BadInputError as e:
        raise BadInputError(f"{path}: {e}") from e
    _remember(asset, data, _asset_plain(asset))
    return asset


def _asset_plain(asset: AssetIdentifier) -> dict[str, Any]:
    """Executor form: the address lowercased, as trade-executor stores it."""
    return {
        "chain_id": asset.chain_id,
        "address": asset.address.lower(),
        "token_symbol": asset.token_symbol,
        "decimals": asset.decimals,
        "internal_id": asset.internal_id,
    }


def _asset_to(asset: AssetIdentifier) -> dict[str, Any]:
    return _restore(asset, _asset_plain(asset))


# ---------------------------------------------------------------- pairs


def _pair_from(value: Any, routers: RouterMap, path: str) -> TradingPairIdentifier:
    data = _object(value, path)
    base = _asset_from(data.get("base"), f"{path}.base")
    quote = _asset_from(data.get("quote"), f"{path}.quote")
    kind = data.get("kind", _DEFAULT_KIND)
    if kind not in _SPOT_KINDS:
        raise BadInputError(f"{path}: pair kind {kind!r} is not a spot market; vault trades are DEX swaps only")
    exchange = routers.find_by_factory(base.chain_id, data.get("exchange_address"))
    fee = data.get("fee")
    if fee is None:
        if exchange.kind is not ExchangeKind.uniswap_v2 or exchange.fee is None:
            raise BadInputError(f"{path}: the pair has no fee and exchange {exchange.factory} has no single fee "
                                "to take; the route needs the pool's fee tier")
        fee = fee_tier_to_fraction(exchange.fee)  # legacy record: the V2 exchange's one fee, unambiguous
    try:
        pair = TradingPairIdentifier(
            base=base,
            quote=quote,
            pool_address=data.get("pool_address"),  # type: ignore[arg-type]  # validated by the class
            exchange_address=exchange.router,
            fee=fee_fraction_to_tier(fee, f"{path}.fee"),
            kind=exchange.kind,
            internal_id=data.get("internal_id"),
            exchange_name=data.get("exchange_name"),
        )
    except BadInputError as e:
        raise BadInputError(f"{path}: {e}") from e
    _remember(pair, data, _pair_plain(pair, None))
    return pair


def _pair_plain(pair: TradingPairIdentifier, routers: RouterMap | None) -> dict[str, Any]:
    """Executor form of a pair; a three-way pair becomes the executor's target pair (base/intermediary).

    `exchange_address` is the factory when `routers` knows the router, else our router.
    """
    quote = pair.quote if pair.intermediary_pair is None else pair.intermediary_pair.base
    known = None if routers is None else routers.find_by_router(pair.chain_id, pair.exchange_address)
    exchange = pair.exchange_address if known is None else known.factory
    return {
        "base": _asset_to(pair.base),
        "quote": _asset_to(quote),
        "pool_address": pair.pool_address.lower(),
        "exchange_address": exchange.lower(),
        "internal_id": pair.internal_id,
        "fee": fee_tier_to_fraction(pair.fee),
        "kind": _DEFAULT_KIND,
        "exchange_name": pair.exchange_name,
    }


def _pair_to(pair: TradingPairIdentifier, routers: RouterMap | None) -> dict[str, Any]:
    return _restore(pair, _pair_plain(pair, routers))


def _three_way_pair(
    target: TradingPairIdentifier, reserve: AssetIdentifier, path_pairs: list[TradingPairIdentifier], where: str
) -> TradingPairIdentifier:
    """Executor's target pair + reserve -> our pair quoted in the reserve, via the path's intermediary pair."""
    for hop in path_pairs:
        if hop.base.address == target.quote.address and hop.quote.address == reserve.address:
            # the hop's extra describes the executor's path entry, which pricing.path keeps
            middle = dataclasses.replace(hop, base=target.quote, quote=reserve, executor_extra=None)
            try:
                # keeps the target's extra: the pair is written back as the executor's target pair
                return dataclasses.replace(target, quote=reserve, intermediary_pair=middle)
            except BadInputError as e:
                raise BadInputError(f"{where}: {e}") from e
    raise BadInputError(
        f"{where}: reserve currency {reserve.token_symbol} is not the pair's quote {target.quote.token_symbol} "
        f"and price_structure.path holds no {target.quote.token_symbol}/{reserve.token_symbol} pair to route through"
    )


# ---------------------------------------------------------------- pricing


def _pricing_from(value: Any, routers: RouterMap, path: str) -> TradePricing:
    data = _object(value, path)
    names = {f.name for f in dataclasses.fields(TradePricing)} - {"path", EXECUTOR_EXTRA_FIELD}
    pricing = load_dict(TradePricing, {k: v for k, v in data.items() if k in names})
    hops = data.get("path")
    if hops is not None:
        if not isinstance(hops, list):
            raise BadInputError(f"{path}.path: expected a list of pairs, got {hops!r:.80}")
        pricing.path = [_pair_from(hop, routers, f"{path}.path[{i}]") for i, hop in enumerate(hops)]
    _remember(pricing, data, _pricing_plain(pricing, None))
    return pricing


def _pricing_plain(pricing: TradePricing, routers: RouterMap | None) -> dict[str, Any]:
    tree = _our_tree(pricing)
    tree["path"] = None if pricing.path is None else [_pair_to(hop, routers) for hop in pricing.path]
    return tree


# ---------------------------------------------------------------- transactions


def _derived_tx_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Our fields the executor does not store, derived from the ones it does (gas from `details`, state)."""
    details = data.get("details")
    if not isinstance(details, dict):
        details = {}
    derived: dict[str, Any] = {}
    for ours, theirs in (
        ("gas_limit", "gas"),
        ("max_fee_per_gas", "maxFeePerGas"),
        ("max_priority_fee_per_gas", "maxPriorityFeePerGas"),
        ("gas_price", "gasPrice"),
    ):
        value = details.get(theirs)
        if isinstance(value, int) and not isinstance(value, bool):
            derived[ours] = value
    status = data.get("status")
    if status is True:
        state = TxState.confirmed
    elif status is False:
        state = TxState.failed
    elif data.get("tx_hash") and data.get("broadcasted_at") is not None:
        state = TxState.broadcasted
    elif data.get("tx_hash"):
        state = TxState.signed
    else:
        state = TxState.unsigned
    derived["tx_state"] = state.value
    return derived


def _deltas_from(value: Any, assets: list[AssetIdentifier]) -> list[AssetDelta]:
    """Executor deltas ({asset: address, raw_amount: "int"}) -> ours; [] when one names an unknown token."""
    if not isinstance(value, list):
        return []
    by_address = {asset.address.lower(): asset for asset in assets}
    deltas = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("asset"), str):
            return []
        asset = by_address.get(item["asset"].lower())
        raw = item.get("raw_amount")
        if asset is None or not isinstance(raw, str | int) or isinstance(raw, bool):
            logger.debug("Asset delta %r kept verbatim: not a token of this trade", item)
            return []
        try:
            deltas.append(AssetDelta(asset, int(raw)))
        except (BadInputError, ValueError):
            return []
    return deltas


def _tx_from(value: Any, assets: list[AssetIdentifier], path: str) -> BlockchainTransaction:
    data = _object(value, path)
    shared = {k: data[k] for k in _TX_SHARED_FIELDS if k in data}
    tx = load_dict(BlockchainTransaction, {**shared, **_derived_tx_fields(data)})
    tx.asset_deltas = _deltas_from(data.get("asset_deltas"), assets)
    _remember(tx, data, _tx_plain(tx))
    return tx


def _tx_plain(tx: BlockchainTransaction) -> dict[str, Any]:
    tree = _our_tree(tx)
    out = {k: tree[k] for k in _TX_SHARED_FIELDS}
    out.update((k, None) for k in _TX_PICKLED_FIELDS)
    out["asset_deltas"] = [
        {"asset": delta.asset.address.lower(), "raw_amount": str(delta.raw_amount)} for delta in tx.asset_deltas
    ]
    return out


def _tx_to(tx: BlockchainTransaction) -> dict[str, Any]:
    return _restore(tx, _tx_plain(tx))


# ---------------------------------------------------------------- trades


def trade_from_executor_dict(data: dict[str, Any], routers: RouterMap) -> TradeExecution:
    """Load one trade-executor TradeExecution dict (JSON tree) into our model, keeping everything we do not model.

    Raises BadInputError naming the field on anything we cannot carry: an unknown factory, a fee that is no
    Uniswap tier, a non-spot pair, a malformed value. Where the record does not load into our model it is
    an `ExecutorRecordError`, a BadInputError that is also a SerialisationError.

    Legacy records: a `planned_reserve` of 0 is taken as |planned_quantity| x planned_price (rounded down to
    the reserve's decimals) for a sell, and for a buy that already ran (started), where nothing else can be
    meant; a missing pair fee is the exchange's single V2 fee (`ExchangeRouter.fee`). Both are written back
    as they were.
    """
    try:
        return _trade_from(data, routers)
    except RecursionError as e:
        raise ExecutorRecordError(f"TradeExecution: data nested too deeply to load: {e}") from e
    except SerialisationError as e:
        if isinstance(e, BadInputError):
            raise
        raise ExecutorRecordError(str(e)) from e


def _trade_from(data: dict[str, Any], routers: RouterMap) -> TradeExecution:
    tree = _object(_exact_tree(data, "TradeExecution"), "TradeExecution")
    reserve = _asset_from(tree.get("reserve_currency"), "TradeExecution.reserve_currency")
    target = _pair_from(tree.get("pair"), routers, "TradeExecution.pair")
    pricing = None
    if tree.get("price_structure") is not None:
        pricing = _pricing_from(tree["price_structure"], routers, "TradeExecution.price_structure")
    pair = target
    if target.quote.address != reserve.address:
        hops = [] if pricing is None or pricing.path is None else pricing.path
        pair = _three_way_pair(target, reserve, hops, "TradeExecution.pair")

    names = {f.name for f in dataclasses.fields(TradeExecution)} - {*_TRADE_NESTED_FIELDS, EXECUTOR_EXTRA_FIELD}
    scalars = {k: v for k, v in tree.items() if k in names}
    _fill_legacy_planned_reserve(scalars, reserve)
    trade = load_dict(TradeExecution, {**scalars, "pair": _our_tree(pair), "reserve_currency": _our_tree(reserve)})
    trade.pair = pair
    trade.reserve_currency = reserve
    trade.price_structure = pricing
    txs = tree.get("blockchain_transactions") or []
    if not isinstance(txs, list):
        raise BadInputError(f"TradeExecution.blockchain_transactions: expected a list, got {txs!r:.80}")
    assets = [*pair.get_all_assets(), reserve]
    trade.blockchain_transactions = [
        _tx_from(tx, assets, f"TradeExecution.blockchain_transactions[{i}]") for i, tx in enumerate(txs)
    ]
    _remember(trade, tree, _trade_plain(trade, None))
    logger.debug("Loaded executor trade #%d (%s)", trade.trade_id, trade.pair.get_ticker())
    return trade


def _fill_legacy_planned_reserve(scalars: dict[str, Any], reserve: AssetIdentifier) -> None:
    """A legacy `planned_reserve` of 0: |planned_quantity| x planned_price, rounded down to the reserve's decimals,
    for a sell or a buy that already started (never for a buy still to execute: what it may spend is unknown)."""
    if not _is_zero(scalars.get("planned_reserve")):
        return
    trade_id = scalars.get("trade_id")
    try:
        quantity = Decimal(str(scalars.get("planned_quantity")))
        price = Decimal(str(scalars.get("planned_price")))
    except ArithmeticError:
        raise BadInputError(f"trade #{trade_id}: planned_reserve is 0 and planned_quantity / planned_price do not "
                            "give it; fix the record") from None
    if quantity == 0:
        return  # a bookkeeping (repair) trade: zero on both sides, as the model takes it
    if quantity > 0 and scalars.get("started_at") is None:
        raise BadInputError(f"trade #{trade_id}: a planned buy of {quantity} with planned_reserve 0: what it may "
                            "spend is unknown; set planned_reserve")
    derived = (abs(quantity) * price).quantize(Decimal(1).scaleb(-reserve.decimals), rounding=ROUND_DOWN)
    if not derived.is_finite() or derived <= 0:
        raise BadInputError(f"trade #{trade_id}: planned_reserve is 0 and |planned_quantity| {quantity} x "
                            f"planned_price {price} gives {derived}; fix the record")
    logger.info("trade #%s: legacy planned_reserve 0 read as %s", trade_id, derived)
    scalars["planned_reserve"] = str(derived)


def _is_zero(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    try:
        return Decimal(str(value)) == 0
    except ArithmeticError:
        return False


def _trade_plain(trade: TradeExecution, routers: RouterMap | None) -> dict[str, Any]:
    tree = _our_tree(trade)
    tree["pair"] = _pair_to(trade.pair, routers)
    tree["reserve_currency"] = _asset_to(trade.reserve_currency)
    tree["blockchain_transactions"] = [_tx_to(tx) for tx in trade.blockchain_transactions]
    pricing = trade.price_structure
    tree["price_structure"] = None if pricing is None else _restore(pricing, _pricing_plain(pricing, routers))
    return tree


def trade_to_executor_dict(trade: TradeExecution, routers: RouterMap | None = None) -> dict[str, Any]:
    """Our trade as a trade-executor TradeExecution dict (JSON tree, non-integer numbers as Decimal).

    A trade loaded with `trade_from_executor_dict` gets back every executor field it came with. For a
    trade made in vaultexec, `routers` turns our router into the executor's factory address.
    """
    return copy.deepcopy(_restore(trade, _trade_plain(trade, routers)))


def trade_from_executor_json(text: str | bytes, routers: RouterMap) -> TradeExecution:
    """`trade_from_executor_dict` of JSON text, numbers parsed exactly."""
    return trade_from_executor_dict(parse_json_text(text), routers)


def trade_to_executor_json(trade: TradeExecution, routers: RouterMap | None = None) -> str:
    """`trade_to_executor_dict` as JSON text: numbers exact, in the form trade-executor's `json.dumps` writes them
    (`jsontext.float_form_text`), so an executor trade loaded and written back is the same text."""
    return write_json_tree(float_form_tree(trade_to_executor_dict(trade, routers)), decimal_text=str)


__all__ = [
    "ExchangeRouter",
    "ExecutorExtra",
    "ExecutorOverride",
    "RouterMap",
    "fee_fraction_to_tier",
    "fee_tier_to_fraction",
    "get_executor_extra",
    "trade_from_executor_dict",
    "trade_from_executor_json",
    "trade_to_executor_dict",
    "trade_to_executor_json",
]
