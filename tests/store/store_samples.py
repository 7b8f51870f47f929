"""Trades in each lifecycle state for the store tests (WETH/USDC on a local chain id)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from vaultexec.model.identifiers import AssetIdentifier, ExchangeKind, TradingPairIdentifier
from vaultexec.model.trade import TradeExecution, TradeType
from vaultexec.model.transaction import BlockchainTransaction, TxState

VAULT = "0x" + "5a" * 20
OTHER_VAULT = "0x" + "b0" * 20
CHAIN_ID = 31337
T0 = datetime(2024, 3, 1, 12, 0, 0)

USDC = AssetIdentifier(CHAIN_ID, "0x" + "01" * 20, "USDC", 6)
WETH = AssetIdentifier(CHAIN_ID, "0x" + "02" * 20, "WETH", 18)
PAIR = TradingPairIdentifier(WETH, USDC, "0x" + "03" * 20, "0x" + "04" * 20, 3000, ExchangeKind.uniswap_v3)
SENDER = "0x" + "0a" * 20


_ids = itertools.count(1)


def make_trade(trade_id: int | None = None, opened_at: datetime | None = None, buy: bool = True,
               quantity: Decimal = Decimal("0.5"), reserve: Decimal = Decimal("1500")) -> TradeExecution:
    """A planned WETH/USDC trade (buy by default)."""
    return TradeExecution(
        trade_id=next(_ids) if trade_id is None else trade_id,
        position_id=1,
        trade_type=TradeType.rebalance,
        pair=PAIR,
        opened_at=opened_at or T0,
        planned_quantity=quantity if buy else -quantity,
        planned_reserve=reserve,
        planned_price=Decimal(3000),
        reserve_currency=USDC,
        slippage_tolerance=Decimal("0.005"),
    )


def signed_tx(nonce: int = 7, tx_hash: str | None = None) -> BlockchainTransaction:
    tx = BlockchainTransaction(chain_id=CHAIN_ID, from_address=SENDER, contract_address=VAULT,
                               function_selector="execute", gas_limit=300_000,
                               max_fee_per_gas=30 * 10**9, max_priority_fee_per_gas=10**9)
    tx.set_signed(tx_hash or "0x" + f"{nonce:064x}", "0x02f8" + "ab" * 100, nonce)
    return tx


def started(trade: TradeExecution, nonce: int | None = None) -> TradeExecution:
    """The write-ahead state: signed transaction attached, not yet broadcast (nonce: the trade id unless given;
    the store refuses a nonce or hash another trade holds)."""
    trade.set_blockchain_transactions([signed_tx(trade.trade_id if nonce is None else nonce)])
    trade.mark_started((trade.opened_at or T0) + timedelta(seconds=1))
    return trade


def broadcasted(trade: TradeExecution) -> TradeExecution:
    trade.mark_broadcasted((trade.opened_at or T0) + timedelta(seconds=2))
    trade.blockchain_transactions[0].tx_state = TxState.broadcasted
    return trade


def succeeded(trade: TradeExecution) -> TradeExecution:
    tx = trade.blockchain_transactions[0]
    tx.block_number, tx.status, tx.tx_state = 100, True, TxState.confirmed
    tx.realised_gas_units_consumed, tx.realised_gas_price = 150_000, 2 * 10**9
    trade.mark_success((trade.opened_at or T0) + timedelta(seconds=14), executed_price=Decimal("3001.5"),
                       executed_quantity=Decimal("0.499750124937531234") * (1 if trade.is_buy() else -1),
                       executed_reserve=Decimal("1500"), lp_fees=Decimal("4.5"), native_token_price=None)
    return trade


def failed(trade: TradeExecution, reason: str = "execution reverted: Too little received") -> TradeExecution:
    tx = trade.blockchain_transactions[0]
    tx.block_number, tx.status, tx.tx_state, tx.revert_reason = 100, False, TxState.failed, reason
    tx.realised_gas_units_consumed, tx.realised_gas_price = 60_000, 2 * 10**9
    trade.mark_failed((trade.opened_at or T0) + timedelta(seconds=14))
    return trade
