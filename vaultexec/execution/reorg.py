"""Re-check recently settled trades: a reorg deeper than the confirmation depth can undo a settlement.

`reopen_reorged_trades` looks at the trades settled (success or failed on chain) in the last
`reorg_window(chain_id)` blocks and asks, in one batched request, for the receipt of each one's landed
hash. A receipt that is gone, or that moved to another block, means the block the trade was settled from
left the canonical chain: the trade goes back to broadcasted (`TradeExecution.mark_reorged`, stored with
`revert_to_broadcasted`, its RunState count undone) and `resume()` tracks it again. Its stored bytes are
re-sent if the node lost them, and a receipt found in another block settles it again.

Trades are scanned newest first (by `opened_at`); the scan stops after `STOP_AFTER_OLDER` settled trades
in a row whose block is older than the window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from vaultexec.chain.rpc import RPCClient
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.model.transaction import BlockchainTransaction, TxState
from vaultexec.store.protocol import ExecutionStore

logger = logging.getLogger(__name__)

#: Blocks after which a settled trade is no longer re-checked, per chain id: a few times the deepest
#: reorg seen there (Ethereum finalises in 64 blocks; Polygon PoS has seen reorgs of 100+ blocks).
REORG_WINDOW_BY_CHAIN: dict[int, int] = {1: 64, 137: 256, 8453: 64, 42161: 64}
DEFAULT_REORG_WINDOW = 64
STOP_AFTER_OLDER = 16


def reorg_window(chain_id: int) -> int:
    return REORG_WINDOW_BY_CHAIN.get(chain_id, DEFAULT_REORG_WINDOW)


@dataclass(frozen=True)
class Reorged:
    """A settled trade whose receipt is gone or moved, and why (kept in its notes and store history)."""

    trade: TradeExecution
    reason: str


def _landed(trade: TradeExecution) -> BlockchainTransaction | None:
    """The trade's transaction if a block settled the trade (success, or failed on chain) and its signed
    bytes are stored (tracking it again may need to re-send them)."""
    if trade.get_status() not in (TradeStatus.success, TradeStatus.failed) or not trade.blockchain_transactions:
        return None
    tx = trade.blockchain_transactions[-1]
    settled = tx.block_number is not None and tx.block_hash is not None and tx.tx_hash
    return tx if settled and tx.signed_bytes else None


def recently_settled(store: ExecutionStore, first_block: int) -> list[TradeExecution]:
    """Trades settled from a block >= `first_block`, newest first (see the module doc for where it stops)."""
    found: list[TradeExecution] = []
    older = 0
    for trade in store.iterate_by_time(descending=True):
        tx = _landed(trade)
        if tx is None:
            continue
        if int(tx.block_number or 0) >= first_block:
            found.append(trade)
            older = 0
        else:
            older += 1
            if older >= STOP_AFTER_OLDER:
                break
    return found


def find_reorged(client: RPCClient, store: ExecutionStore, window: int) -> list[Reorged]:
    """The trades settled in the last `window` blocks whose receipt is gone or in another block."""
    head = int(client.call("eth_blockNumber"), 16)
    recent = recently_settled(store, head - window)
    if not recent:
        return []
    txs = [t.blockchain_transactions[-1] for t in recent]
    replies = client.batch([("eth_getTransactionReceipt", [tx.tx_hash]) for tx in txs])
    reorged = []
    for trade, tx, reply in zip(recent, txs, replies, strict=True):
        receipt = reply.value()
        if receipt is None:
            reason = f"the receipt of {tx.tx_hash} (block {tx.block_number}, {tx.block_hash}) is gone"
        elif str(receipt["blockHash"]) != tx.block_hash:
            reason = (f"{tx.tx_hash} moved from block {tx.block_number} ({tx.block_hash}) to block "
                      f"{int(receipt['blockNumber'], 16)} ({receipt['blockHash']})")
        else:
            continue
        reorged.append(Reorged(trade, reason))
    return reorged


def reopen(store: ExecutionStore, run_state: RunState, reorged: Reorged) -> None:
    """Take a reorged trade back to broadcasted, clear its receipt fields, store it, undo its count."""
    trade, reason = reorged.trade, reorged.reason
    succeeded = trade.is_success()
    trade.mark_reorged(reason)
    _clear_receipt(trade.blockchain_transactions[-1])
    store.revert_to_broadcasted(trade, reason)
    # RunState has no "undo" recorder: the settlement that counted this trade was undone, so is its count.
    if succeeded:
        run_state.trades_succeeded = max(0, run_state.trades_succeeded - 1)
    else:
        run_state.trades_failed = max(0, run_state.trades_failed - 1)
    logger.warning("trade %d: %s (reorg): back to broadcasted, tracked again", trade.trade_id, reason)


def _clear_receipt(tx: BlockchainTransaction) -> None:
    tx.block_number = tx.block_hash = tx.included_at = None
    tx.status = None
    tx.realised_gas_units_consumed = tx.realised_gas_price = None
    tx.revert_reason = tx.revert_data = None
    tx.revert_reason_approximate = False
    tx.confirmations = 0
    tx.tx_state = TxState.broadcasted


def reopen_reorged_trades(client: RPCClient, store: ExecutionStore, run_state: RunState,
                          window: int) -> list[TradeExecution]:
    """Find and reopen every reorged trade of the last `window` blocks; returns them (now broadcasted)."""
    reopened = []
    for reorged in find_reorged(client, store, window):
        reopen(store, run_state, reorged)
        reopened.append(reorged.trade)
    return reopened
