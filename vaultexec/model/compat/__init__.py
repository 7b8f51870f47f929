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

from vaultexec.model.compat.routers import ExchangeRouter, RouterMap, fee_fraction_to_tier, fee_tier_to_fraction
from vaultexec.model.compat.trades import (
    trade_from_executor_dict,
    trade_from_executor_json,
    trade_to_executor_dict,
    trade_to_executor_json,
)
from vaultexec.model.extra import ExecutorExtra, ExecutorOverride, get_executor_extra

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
