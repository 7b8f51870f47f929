"""Trades between trade-executor's JSON and our model (with the legacy records read where unambiguous)."""

from __future__ import annotations

import copy
import dataclasses
import logging
from decimal import ROUND_DOWN, Decimal
from typing import Any

from vaultexec.errors import BadInputError, ExecutorRecordError, SerialisationError
from vaultexec.model.compat.parts import (
    _asset_from,
    _asset_to,
    _pair_from,
    _pair_to,
    _pricing_from,
    _pricing_plain,
    _three_way_pair,
    _tx_from,
    _tx_to,
)
from vaultexec.model.compat.routers import RouterMap
from vaultexec.model.compat.trees import _exact_tree, _object, _our_tree, _remember, _restore
from vaultexec.model.extra import EXECUTOR_EXTRA_FIELD
from vaultexec.model.identifiers import (
    AssetIdentifier,
)
from vaultexec.model.jsontext import float_form_tree
from vaultexec.model.serialisation import (
    load_dict,
    parse_json_text,
    write_json_tree,
)
from vaultexec.model.trade import TradeExecution

logger = logging.getLogger(__name__)


_TRADE_NESTED_FIELDS = ("pair", "reserve_currency", "blockchain_transactions", "price_structure")


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
