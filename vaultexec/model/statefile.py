"""trade-executor state files: every trade of a State JSON, the spot trades loaded into our model, the rest listed
with why.

A state file holds `portfolio.{open,closed,frozen}_positions[*].trades[*]` (trade-executor's TradeExecution JSON)
beside statistics, which may hold NaN: a NaN outside a trade is no reason to refuse the file (it is read and
ignored); a NaN inside a trade refuses that trade only. Each spot trade goes through `model.compat` with the
given `RouterMap`; written back with `compat.trade_to_executor_json` it is the executor's own JSON text of that
trade (`json.dumps`, same numbers, same order).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vaultexec.errors import BadInputError, ExecutorRecordError
from vaultexec.model.compat import RouterMap, trade_from_executor_dict
from vaultexec.model.trade import TradeExecution

logger = logging.getLogger(__name__)

_POSITION_BUCKETS = ("open_positions", "closed_positions", "frozen_positions")
_SPOT_KINDS = ("spot_market_hold", "spot_market_rebalancing token")


class _NonFinite(str):
    """NaN / Infinity read from a state file (JSON has no such numbers; Python's json writes them)."""


@dataclass(frozen=True)
class RefusedTrade:
    """A trade of the state file that does not load as an executable spot trade, and why."""

    trade_id: int | None
    position_id: int | None
    kind: str
    reason: str


@dataclass
class StateFileTrades:
    """The spot trades of a state file in our model, and the others with why (file order)."""

    trades: list[TradeExecution] = field(default_factory=list)
    refused: list[RefusedTrade] = field(default_factory=list)
    #: The executor's JSON of each loaded trade, as its `json.dumps` writes it (the round-trip reference).
    texts: dict[int, str] = field(default_factory=dict)


def parse_state_text(text: str | bytes) -> dict[str, Any]:
    """The state file as a tree: non-integer numbers exact Decimals, NaN/Infinity kept as markers (never as
    numbers). BadInputError when it is no JSON object."""
    try:
        tree = json.loads(text, parse_float=Decimal, parse_constant=_NonFinite)
    except (ValueError, RecursionError) as e:
        raise BadInputError(f"state file is not JSON: {e}") from None
    if not isinstance(tree, dict) or not isinstance(tree.get("portfolio"), dict):
        raise BadInputError("state file has no portfolio object: not a trade-executor State")
    return tree


def iter_state_trades(tree: dict[str, Any]) -> Iterator[tuple[int | None, dict[str, Any]]]:
    """(position id, trade dict) for every trade of every open, closed and frozen position."""
    portfolio = tree["portfolio"]
    for bucket in _POSITION_BUCKETS:
        positions = portfolio.get(bucket) or {}
        if not isinstance(positions, dict):
            raise BadInputError(f"portfolio.{bucket}: expected an object, got {type(positions).__name__}")
        for position in positions.values():
            trades = position.get("trades") if isinstance(position, dict) else None
            if not isinstance(trades, dict):
                raise BadInputError(f"portfolio.{bucket}: a position without a trades object")
            for trade in trades.values():
                yield position.get("position_id"), trade


def load_state_file(text: str | bytes, routers: RouterMap) -> StateFileTrades:
    """Every trade of a trade-executor state file: spot trades loaded (`compat`), the others refused with why."""
    result = StateFileTrades()
    for position_id, data in iter_state_trades(parse_state_text(text)):
        trade_id = data.get("trade_id") if isinstance(data, dict) else None
        kind = _kind_of(data)
        reason = _precheck(data, kind)
        if reason is None:
            try:
                trade = trade_from_executor_dict(data, routers)
            except (BadInputError, ExecutorRecordError) as e:
                reason = str(e)
            else:
                result.trades.append(trade)
                result.texts[trade.trade_id] = json.dumps(_floats(data))
                continue
        result.refused.append(RefusedTrade(trade_id, position_id, kind, reason))
    logger.info("state file: %d spot trades loaded, %d refused", len(result.trades), len(result.refused))
    return result


def _kind_of(data: Any) -> str:
    pair = data.get("pair") if isinstance(data, dict) else None
    kind = pair.get("kind") if isinstance(pair, dict) else None
    return str(kind) if kind is not None else "spot_market_hold"


def _precheck(data: Any, kind: str) -> str | None:
    if not isinstance(data, dict):
        return f"not a trade object: {type(data).__name__}"
    if kind not in _SPOT_KINDS:
        return f"pair kind {kind!r} is not a spot market: vault trades are DEX swaps only"
    where = _find_non_finite(data, "")
    if where is not None:
        return f"non-finite number {where[1]} at {where[0] or 'the trade'}: not a number the model can carry"
    return None


def _find_non_finite(value: Any, path: str) -> tuple[str, str] | None:
    if isinstance(value, _NonFinite):
        return path, str(value)
    if isinstance(value, dict):
        for key, item in value.items():
            found = _find_non_finite(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _find_non_finite(item, f"{path}[{i}]")
            if found:
                return found
    return None


def _floats(value: Any) -> Any:
    """The tree as Python's json read it (Decimals back to floats) for the executor's own `json.dumps` text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return value
