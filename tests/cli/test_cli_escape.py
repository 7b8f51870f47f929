"""Chain text in the CLI's tables is escaped: a revert string cannot forge lines or repaint the terminal."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

from rich.console import Console

from vaultexec.cli.tables import trades_table
from vaultexec.model.identifiers import AssetIdentifier, ExchangeKind, TradingPairIdentifier
from vaultexec.model.trade import TradeExecution, TradeType
from vaultexec.model.transaction import BlockchainTransaction


def test_revert_reason_and_symbol_are_escaped_in_the_trades_table() -> None:
    usdc = AssetIdentifier(31337, "0x" + "01" * 20, "USDC", 6)
    evil = AssetIdentifier(31337, "0x" + "02" * 20, "W\x1b[2JETH", 18)
    pair = TradingPairIdentifier(evil, usdc, "0x" + "03" * 20, "0x" + "04" * 20, 3000, ExchangeKind.uniswap_v3)
    trade = TradeExecution(trade_id=1, position_id=1, trade_type=TradeType.rebalance, pair=pair,
                           opened_at=datetime(2024, 1, 1), planned_quantity=Decimal(1), planned_reserve=Decimal(10),
                           planned_price=Decimal(10), reserve_currency=usdc, slippage_tolerance=Decimal("0.01"))
    trade.mark_started(datetime(2024, 1, 1, 0, 0, 1))
    trade.set_blockchain_transactions([BlockchainTransaction(revert_reason="bad\n2024 INFO all fine\x1b[31m")])
    trade.mark_failed(datetime(2024, 1, 1, 0, 0, 2))
    out = io.StringIO()
    Console(file=out, width=400, no_color=True, force_terminal=False).print(trades_table([trade], "t"))
    text = out.getvalue()
    assert "\x1b" not in text
    assert "bad\\n2024 INFO all fine\\x1b[31m" in text and "W\\x1b[2JETH" in text
