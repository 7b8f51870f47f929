"""The vault's oracle as the settlement price check's second reference: each trade valued at `block - 1` by the
custody's own price sources (Chainlink-style feeds, V3 TWAPs) through its `quoteLoss` view.

`quoteLoss(spent assets, amounts, received assets, amounts)` values the executed amounts exactly as the vault's
loss bound does (value spent rounded up, received rounded down: the difference is never understated). It
reverts when an asset has no price source (or a stale one): the trade then has no oracle figure and the check
falls back to the start-of-block pool reference alone. The loss bound need not be on: the view prices
whatever has a source.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from vaultexec.dex.abiread import decode_words
from vaultexec.dex.calls_at_blocks import CallAt
from vaultexec.dex.erc20 import selector
from vaultexec.execution.loss_bound import quote_loss_arguments, to_value
from vaultexec.model.price_check import OracleDifference
from vaultexec.model.trade import TradeExecution

logger = logging.getLogger(__name__)

BPS = Decimal(10_000)
_QUOTE_LOSS = selector("quoteLoss(address[],uint256[],address[],uint256[])")


@dataclass(frozen=True)
class OracleValuation:
    """A trade's executed amounts at the vault's oracle: USD (valuation units) spent and received, and the
    reserve and base amounts they value (human units, positive)."""

    value_spent: Decimal
    value_received: Decimal
    reserve: Decimal
    quantity: Decimal
    is_buy: bool

    @property
    def reserve_unit_value(self) -> Decimal:
        """USD per reserve unit at the oracle."""
        return (self.value_spent if self.is_buy else self.value_received) / self.reserve

    def difference(self, loss: Decimal) -> OracleDifference:
        """Executed vs oracle (> 0: worse than the oracle) in bps, reserve units and USD; `loss` (reserve units,
        the start-of-block check's) valued in USD at the oracle's price of the reserve."""
        usd = self.value_spent - self.value_received
        unit = self.reserve_unit_value
        base_value = (self.value_received if self.is_buy else self.value_spent) / self.quantity
        return OracleDifference(price=base_value / unit, bps=usd / self.value_spent * BPS, reserve=usd / unit,
                                usd=usd, loss_usd=loss * unit)


def oracle_call(vault: str, trade: TradeExecution) -> CallAt | None:
    """The call of the vault's `quoteLoss` for the trade's executed amounts at `block - 1` (None when the trade
    has no executed amounts or block)."""
    tx = trade.blockchain_transactions[-1] if trade.blockchain_transactions else None
    if tx is None or tx.block_number is None or trade.executed_quantity is None or trade.executed_reserve is None:
        return None
    reserve_asset, base_asset = trade.reserve_currency, trade.pair.base
    raw_reserve = reserve_asset.convert_to_raw_floor(abs(trade.executed_reserve))
    raw_quantity = base_asset.convert_to_raw_floor(abs(trade.executed_quantity))
    if trade.is_buy():
        spent, received = (reserve_asset.address, raw_reserve), (base_asset.address, raw_quantity)
    else:
        spent, received = (base_asset.address, raw_quantity), (reserve_asset.address, raw_reserve)
    data = _QUOTE_LOSS + quote_loss_arguments([spent[0]], [spent[1]], [received[0]], [received[1]])
    return CallAt(vault, "0x" + data.hex(), tx.block_number - 1)


def decode_valuation(trade: TradeExecution, result: object) -> OracleValuation | None:
    """The valuation from `quoteLoss`'s return data (None when it is empty or values nothing)."""
    assert trade.executed_quantity is not None and trade.executed_reserve is not None
    raw = bytes.fromhex(str(result)[2:]) if isinstance(result, str) and result.startswith("0x") else b""
    if len(raw) < 128:
        return None
    spent, received, _loss, _max = decode_words(["uint256", "uint256", "uint256", "uint256"], raw)
    reserve, quantity = abs(trade.executed_reserve), abs(trade.executed_quantity)
    if spent == 0 or received == 0 or reserve == 0 or quantity == 0:
        return None
    return OracleValuation(to_value(spent), to_value(received), reserve, quantity, trade.is_buy())
