"""`--json` documents of `trade`, `resume`, `repair` and `status`: one stable schema (docs/cli.md, "JSON output").

Amounts are exact decimal strings (never floats), raw token amounts are strings of integers (they exceed
what JSON readers hold exactly), absent values are null. Every document has `schema_version` and `command`;
new keys may be added within a version, none is removed or changes meaning.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from vaultexec.cli.tables import realised_slippage
from vaultexec.execution.plan import TradePlan
from vaultexec.model.deltas import AssetDelta
from vaultexec.model.trade import TradeExecution
from vaultexec.store.export import trade_fields

SCHEMA_VERSION = 1
#: Fields of a trade document that are integers (the others are strings or null).
_INT_FIELDS = ("trade_id", "gas_used")


def trade_document(trade: TradeExecution) -> dict[str, Any]:
    """A trade: the export's fields (docs/store.md) with exact values; ints for id and gas, hashes as a list."""
    document: dict[str, Any] = {name: value or None for name, value in trade_fields(trade).items()}
    for name in _INT_FIELDS:
        document[name] = None if document[name] is None else int(document[name])
    document["tx_hashes"] = (document["tx_hashes"] or "").split()
    slippage = realised_slippage(trade)
    document["realised_slippage"] = None if slippage is None else f"{slippage:f}"
    document["venue"] = trade.pair.kind.value
    return document


def _delta(delta: AssetDelta, raw: int) -> dict[str, str]:
    return {"token": delta.asset.token_symbol, "address": delta.asset.address,
            "amount": f"{delta.asset.convert_to_decimal(abs(raw)):f}", "raw": str(abs(raw))}


def plan_document(trade: TradeExecution, plan: TradePlan) -> dict[str, Any]:
    """What a trade's plan will send: route, bounds, prices, gas, and the pre-flight verdict."""
    spend, receive = plan.asset_deltas
    sim = plan.simulation
    return {
        "trade_id": trade.trade_id,
        "side": "buy" if trade.is_buy() else "sell",
        "pair": trade.pair.get_ticker(),
        "route": plan.route.describe(),
        "path": [a.token_symbol for a in trade.pair.get_route_assets(trade.is_buy())],
        "spend_max": _delta(spend, spend.raw_amount),
        "expected_receive": _delta(receive, plan.expected_out_raw),
        "minimum_receive": _delta(receive, receive.raw_amount),
        "planned_price": f"{trade.planned_price:f}",
        "mid_price": None if trade.planned_mid_price is None else f"{trade.planned_mid_price:f}",
        "slippage_tolerance": None if trade.slippage_tolerance is None else f"{trade.slippage_tolerance:f}",
        "estimated_lp_fees": None if trade.lp_fees_estimated is None else f"{trade.lp_fees_estimated:f}",
        "gas_limit": plan.gas_limit,
        "quoted_at_block": plan.quoted_at_block,
        "preflight": None if sim is None else {
            "success": sim.success, "method": sim.method, "gas_used": sim.gas_used,
            "revert": None if sim.revert is None else str(sim.revert)},
    }


def command_document(command: str, **content: Any) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "command": command, **content}


def write_document(document: dict[str, Any]) -> None:
    """The document on stdout, alone (progress and errors go to stderr); non-ASCII text is escaped."""
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
    sys.stdout.flush()
