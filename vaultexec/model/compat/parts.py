"""Assets, pairs, pricing and transactions between trade-executor's JSON and our model."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from vaultexec.errors import BadInputError
from vaultexec.model.compat.routers import RouterMap, fee_fraction_to_tier, fee_tier_to_fraction
from vaultexec.model.compat.trees import _object, _our_tree, _remember, _restore
from vaultexec.model.deltas import AssetDelta
from vaultexec.model.extra import EXECUTOR_EXTRA_FIELD
from vaultexec.model.identifiers import (
    AssetIdentifier,
    ExchangeKind,
    TradingPairIdentifier,
)
from vaultexec.model.serialisation import (
    load_dict,
)
from vaultexec.model.trade import TradePricing
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
