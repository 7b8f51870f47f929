"""The trade model: pure data and exact arithmetic, no I/O (imports nothing of ours but errors)."""

from vaultexec.model.compat import (
    ExchangeRouter,
    RouterMap,
    fee_fraction_to_tier,
    fee_tier_to_fraction,
    trade_from_executor_dict,
    trade_from_executor_json,
    trade_to_executor_dict,
    trade_to_executor_json,
)
from vaultexec.model.deltas import (
    AssetDelta,
    calculate_exact_spend,
    calculate_min_receive,
    validate_slippage_tolerance,
)
from vaultexec.model.exact import DecimalLike, exact_mul, to_decimal
from vaultexec.model.extra import ExecutorExtra, ExecutorOverride, get_executor_extra
from vaultexec.model.identifiers import (
    AssetIdentifier,
    ExchangeKind,
    TradingPairIdentifier,
    checksum_address,
)
from vaultexec.model.run_state import RunState, VersionInfo, utc_now
from vaultexec.model.serialisation import JsonModel, dump_json, load_dict, load_json
from vaultexec.model.trade import TradeExecution, TradePricing, TradeStatus, TradeType
from vaultexec.model.transaction import BlockchainTransaction, TxState, clean_revert_reason

__all__ = [
    "AssetDelta",
    "AssetIdentifier",
    "BlockchainTransaction",
    "DecimalLike",
    "ExchangeKind",
    "ExchangeRouter",
    "ExecutorExtra",
    "ExecutorOverride",
    "JsonModel",
    "RouterMap",
    "RunState",
    "TradeExecution",
    "TradePricing",
    "TradeStatus",
    "TradeType",
    "TradingPairIdentifier",
    "TxState",
    "VersionInfo",
    "calculate_exact_spend",
    "calculate_min_receive",
    "checksum_address",
    "clean_revert_reason",
    "dump_json",
    "exact_mul",
    "fee_fraction_to_tier",
    "fee_tier_to_fraction",
    "get_executor_extra",
    "load_dict",
    "load_json",
    "to_decimal",
    "trade_from_executor_dict",
    "trade_from_executor_json",
    "trade_to_executor_dict",
    "trade_to_executor_json",
    "utc_now",
    "validate_slippage_tolerance",
]
