"""The plugin's ready executor: the example of docs/testing.md runs as written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from vaultexec.execution.assembly import ExecutorParts, make_trade, next_trade_id
from vaultexec.execution.executor import VaultExecutionModel
from vaultexec.execution.markets import MarketRequest, MarketResolver


@pytest.mark.local_world
def test_vault_executor_buys_weth(vault_executor: VaultExecutionModel, executor_parts: ExecutorParts,
                                  world_markets: MarketResolver) -> None:
    pair = world_markets.pair(MarketRequest("WETH", "USDC", "v3", fee=500))
    trade = make_trade(next_trade_id(executor_parts.store), pair, buy=True, amount=Decimal(1000),
                       slippage=Decimal("0.005"))
    [done] = vault_executor.execute_trades([trade])
    assert done.is_success(), done.get_revert_reason()
    assert done.executed_reserve == Decimal(1000)
    assert executor_parts.store.load(done.trade_id).is_success()
