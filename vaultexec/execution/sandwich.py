"""Sandwich detection at settlement: the executed price against the start of its block, and against the
vault's oracle.

Two references per trade, read for the whole settled batch in one HTTP round trip at `block - 1` (the
state before the trade's block), one request per block (`dex.calls_at_blocks`):

- the pool at the start of the block (`PoolAtBlockStart`): the trade's executed input quoted on its own route
  (V2 router `getAmountsOut`, V3 QuoterV2). With nothing before our trade in its block the two prices are
  equal (our own price impact and LP fee are in both); a front-run moves the pool before us and shows as the
  difference. This decides "sandwich suspected" (above the threshold) and sizes the loss in reserve units.
- the vault's oracle (`execution.oracle_reference`, the custody's `quoteLoss` view over its feeds / TWAPs),
  when the vault prices both assets: executed vs oracle in bps, reserve units and USD, recorded and reported
  but never used to flag (fee, impact and the pool's own deviation from the oracle are always in it); its
  price of the reserve values the flagged loss in USD. No oracle for the pair: the pool reference alone.

The result is a note on the trade (`model.price_check`: `SANDWICH_NOTE` when flagged, else
`PRICE_CHECK_NOTE`), logged, listed by `vaultexec status` and exported in the CSV. Any `ReferencePrice` can
replace the default. A trade with another trade of the same batch on a shared pool in the same block is not
compared (our own trade moved the pool).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, localcontext
from typing import Protocol

from vaultexec.chain.broadcast import TransactionTracker
from vaultexec.chain.rpc import RPCClient
from vaultexec.dex import uniswap_v2, uniswap_v3
from vaultexec.dex.calls_at_blocks import CallAt, calls_at_blocks
from vaultexec.dex.deployments import find_deployment_of_router
from vaultexec.errors import VaultExecError
from vaultexec.execution.oracle_reference import OracleValuation, decode_valuation, oracle_call
from vaultexec.model.identifiers import ExchangeKind
from vaultexec.model.price_check import PRICE_CHECK_NOTE, SANDWICH_NOTE, OracleDifference, PriceCheckRecord
from vaultexec.model.trade import TradeExecution
from vaultexec.model.transaction import BlockchainTransaction

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_THRESHOLD", "PRICE_CHECK_NOTE", "SANDWICH_NOTE", "PoolAtBlockStart", "PriceCheck", "Reference",
           "ReferencePrice", "check_sandwiches", "compare", "first_in_block", "sandwich_notes"]
#: Adverse difference (fraction) above which a trade is flagged: 0.001 = 0.1 %.
DEFAULT_THRESHOLD = Decimal("0.001")


@dataclass(frozen=True)
class Reference:
    """The price (quote per base) the trade should have executed at, and where it comes from; `oracle` the
    trade's valuation at the vault's oracle when the vault prices both assets (recorded, not used to flag)."""

    price: Decimal
    source: str
    oracle: OracleValuation | None = None


class ReferencePrice(Protocol):
    """A source of reference prices for settled trades (the pool at block start, or an oracle)."""

    def prices(self, trades: Sequence[TradeExecution]) -> dict[int, Reference]:
        """Reference by trade id, for the trades it can price."""
        ...


@dataclass(frozen=True)
class PriceCheck:
    """One trade's comparison: `adverse` > 0 when the trade executed worse than the reference (fraction);
    `loss` the value lost to it in the reserve currency."""

    trade_id: int
    executed: Decimal
    reference: Reference
    adverse: Decimal
    loss: Decimal
    flagged: bool
    #: Executed vs the vault's oracle (None: the vault does not price the pair, or the reference has no oracle).
    oracle: OracleDifference | None = None


class PoolAtBlockStart:
    """The trade's executed input quoted on its own route at the state before its block, with the trade valued
    at `vault`'s oracle at the same block when `vault` is given (module doc): one batched request in all."""

    def __init__(self, client: RPCClient, vault: str | None = None, first_in_block: frozenset[str] = frozenset()
                 ) -> None:
        self.client = client
        self.vault = vault
        #: Lower-case hashes of transactions their receipt puts first in their block (transaction index 0):
        #: nothing ran before them there, so the pool at the start of the block is the pool they met and
        #: their executed price is that reference, with no quote to ask (the oracle valuation is still read).
        self.first_in_block = first_in_block

    def prices(self, trades: Sequence[TradeExecution]) -> dict[int, Reference]:
        calls: list[CallAt] = []
        slots: list[tuple[TradeExecution, bool]] = []  # (trade, is the oracle's call)
        found: dict[int, Reference] = {}
        for trade in trades:
            first = self._first_in_block(trade)
            if first is not None:
                found[trade.trade_id] = first
            else:
                call = self._quote_call(trade)
                if call is None:
                    continue
                calls.append(call)
                slots.append((trade, False))
            valuation = oracle_call(self.vault, trade) if self.vault is not None else None
            if valuation is not None:
                calls.append(valuation)
                slots.append((trade, True))
        for (trade, is_oracle), reply in zip(slots, calls_at_blocks(self.client, calls), strict=True):
            if is_oracle:
                reference = found.get(trade.trade_id)
                oracle = decode_valuation(trade, reply.result) if reply.error is None else None
                if reference is not None and oracle is not None:
                    found[trade.trade_id] = Reference(reference.price, reference.source, oracle)
                elif reference is not None:
                    logger.info("trade %d: no oracle price at the vault, start-of-block pool reference only (%s)",
                                trade.trade_id, reply.error)
                continue
            if reply.error is not None or not reply.result:
                logger.info("trade %d: no start-of-block quote (%s)", trade.trade_id, reply.error)
                continue
            data = bytes.fromhex(str(reply.result)[2:])
            out = (uniswap_v2.decode_amounts_out(data)[-1] if trade.pair.kind == ExchangeKind.uniswap_v2
                   else uniswap_v3.decode_quote_amount_out(data))
            price = _reference_price(trade, out)
            if price is not None:
                block = trade.blockchain_transactions[-1].block_number
                found[trade.trade_id] = Reference(price, f"pool at the start of block {block}")
        return found

    def _first_in_block(self, trade: TradeExecution) -> Reference | None:
        """The reference of a trade whose transaction ran first in its block: its own executed price."""
        tx = trade.blockchain_transactions[-1] if trade.blockchain_transactions else None
        if (tx is None or tx.block_number is None or str(tx.tx_hash).lower() not in self.first_in_block
                or not trade.executed_quantity or trade.executed_reserve is None):
            return None
        price = abs(trade.executed_reserve) / abs(trade.executed_quantity)
        return Reference(price, f"pool at the start of block {tx.block_number}, which the trade opened")

    def _quote_call(self, trade: TradeExecution) -> CallAt | None:
        tx = trade.blockchain_transactions[-1] if trade.blockchain_transactions else None
        if tx is None or tx.block_number is None or trade.executed_quantity is None or trade.executed_reserve is None:
            return None
        buy = trade.is_buy()
        tokens = [a.address for a in trade.pair.get_route_assets(buy)]
        input_asset = trade.reserve_currency if buy else trade.pair.base
        raw_in = input_asset.convert_to_raw_floor(abs(trade.executed_reserve if buy else trade.executed_quantity))
        at = tx.block_number - 1
        if trade.pair.kind == ExchangeKind.uniswap_v2:
            data = uniswap_v2.encode_get_amounts_out(raw_in, tokens)
            return CallAt(trade.pair.exchange_address, "0x" + data.hex(), at)
        try:
            quoter = find_deployment_of_router(trade.pair.chain_id, trade.pair.exchange_address).quoter_v2
        except VaultExecError:
            quoter = None
        if quoter is None:
            return None
        fees = [fee for _, fee in trade.pair.get_route_pools(buy)]
        data = uniswap_v3.encode_quote(raw_in, tokens, fees)
        return CallAt(quoter, "0x" + data.hex(), at)


def first_in_block(tracker: TransactionTracker, txs: Sequence[BlockchainTransaction]) -> frozenset[str]:
    """Lower-case hashes of `txs` whose receipt the tracker saw at transaction index 0 of their block."""
    first = set()
    for tx in txs:
        receipt = tracker.receipt_of(tx)
        if receipt is not None and receipt.get("transactionIndex") in ("0x0", 0):
            first.add(str(tx.tx_hash).lower())
    return frozenset(first)


def _reference_price(trade: TradeExecution, raw_out: int) -> Decimal | None:
    assert trade.executed_quantity is not None and trade.executed_reserve is not None
    if trade.is_buy():
        quantity = trade.pair.base.convert_to_decimal(raw_out)
        return abs(trade.executed_reserve) / quantity if quantity else None
    reserve = trade.reserve_currency.convert_to_decimal(raw_out)
    return reserve / abs(trade.executed_quantity)


def compare(trade: TradeExecution, reference: Reference, threshold: Decimal = DEFAULT_THRESHOLD) -> PriceCheck:
    """The trade's execution against `reference`: a buy that paid more than the executed quantity is worth at
    the reference price, or a sell that got less, is adverse; `loss` is that difference in the reserve
    currency (from the exact executed amounts, not the rounded executed price)."""
    assert trade.executed_price is not None and trade.executed_quantity is not None
    assert trade.executed_reserve is not None
    quantity, reserve = abs(trade.executed_quantity), abs(trade.executed_reserve)
    at_reference = quantity * reference.price
    loss = reserve - at_reference if trade.is_buy() else at_reference - reserve
    adverse = loss / at_reference
    oracle = reference.oracle.difference(loss) if reference.oracle is not None else None
    return PriceCheck(trade.trade_id, trade.executed_price, reference, adverse, loss, adverse > threshold, oracle)


def check_sandwiches(trades: Sequence[TradeExecution], source: ReferencePrice,
                     threshold: Decimal = DEFAULT_THRESHOLD) -> list[PriceCheck]:
    """Compare every successful trade with its reference, note the result on it; returns the checks.

    Never fails a settlement: a reference that cannot be read is logged and the trade keeps no note."""
    candidates = [t for t in trades if t.is_success() and t.executed_price is not None
                  and not _after_our_own_trade(t, trades)]
    try:
        references = source.prices(candidates) if candidates else {}
    except VaultExecError as exc:
        logger.warning("sandwich check skipped: reference prices unavailable (%s)", exc)
        return []
    checks = []
    for trade in candidates:
        reference = references.get(trade.trade_id)
        if reference is None:
            continue
        try:
            check = compare(trade, reference, threshold)
            note = _note(trade, check, threshold)
        except ArithmeticError as exc:  # e.g. a zero executed quantity: no comparison, the settlement stands
            logger.warning("trade %d: price check skipped (%r)", trade.trade_id, exc)
            continue
        checks.append(check)
        trade.add_note(note)
        if check.flagged:
            logger.warning("trade %d: %s", trade.trade_id, note)
    return checks


def _note(trade: TradeExecution, check: PriceCheck, threshold: Decimal) -> str:
    """The check's note line, reserve amounts rounded to the reserve token's decimals."""
    unit = Decimal(1).scaleb(-trade.reserve_currency.decimals)
    with localcontext() as exact:
        exact.prec = 100  # quantize needs every digit of the result: a large loss in an 18-decimal reserve
        oracle = check.oracle and replace(check.oracle, reserve=check.oracle.reserve.quantize(unit))
        loss = check.loss.quantize(unit)
    return PriceCheckRecord(check.flagged, check.executed, check.reference.price, check.reference.source,
                            check.adverse, loss, trade.reserve_currency.token_symbol, threshold, oracle).note()


def _after_our_own_trade(trade: TradeExecution, batch: Sequence[TradeExecution]) -> bool:
    """Another trade of the batch landed in the same block on a pool this one uses: the start-of-block state
    is then not what this trade met (the transaction order in the block is not on the model: both skip)."""
    tx = trade.blockchain_transactions[-1] if trade.blockchain_transactions else None
    if tx is None or tx.block_number is None:
        return False
    pools = {pool for pool, _ in trade.pair.get_route_pools(trade.is_buy())}
    for other in batch:
        if other is trade or not other.blockchain_transactions:
            continue
        if (other.blockchain_transactions[-1].block_number == tx.block_number
                and pools & {pool for pool, _ in other.pair.get_route_pools(other.is_buy())}):
            return True
    return False


def sandwich_notes(trade: TradeExecution) -> list[str]:
    """The sandwich lines of a trade's notes (for `vaultexec status`)."""
    return [line for line in (trade.notes or "").splitlines() if line.startswith(SANDWICH_NOTE)]
