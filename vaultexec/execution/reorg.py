"""Re-check recently settled trades: a reorg deeper than the confirmation depth can undo a settlement.

`reopen_reorged_trades` looks at the trades settled (success or failed on chain) in the last
`reorg_window(chain_id)` blocks and asks, in one batched request, for the head, the receipt of each
one's landed hash and the canonical block at each one's height. The block the trade was settled from
left the canonical chain when the receipt is in another block, or when the receipt is gone and the
canonical block at that height (at or below the head) has another hash. A receipt missing while its
block is still canonical, or above the node's head, is a node whose receipts or blocks lag (a
load-balanced provider), not a reorg: the trade is left settled and the next check looks again --
unless the node's pending nonce of the sender is at or below the transaction's nonce: then the node has
neither mined nor pooled that nonce, so it came back from an older state (a restart from an old state dump,
a node rewind). That trade is reopened like a reorged one and `resume()` re-sends its stored bytes (the same
signed transaction: it cannot execute twice, and on a merely lagging node it lands with its old hash).

A reorged trade goes back to broadcasted (`TradeExecution.mark_reorged`, stored with
`revert_to_broadcasted`, its RunState count undone) and `resume()` tracks it again. Its stored bytes are
re-sent if the node lost them, and a receipt found in another block settles it again.

Trades are scanned newest first (by `opened_at`); the scan stops after `STOP_AFTER_OLDER` settled trades
in a row whose block is older than the window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from vaultexec.chain.receipts import clear_receipt, receipt_block
from vaultexec.chain.rpc import RPCClient
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.model.transaction import BlockchainTransaction
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
    """The trades settled in the last `window` blocks whose block left the canonical chain (module doc)."""
    recent = recently_settled(store, int(client.call("eth_blockNumber"), 16) - window)
    if not recent:
        return []
    txs = [t.blockchain_transactions[-1] for t in recent]
    senders = sorted({str(tx.from_address) for tx in txs if tx.from_address})
    replies = client.batch([("eth_blockNumber", []),
                            *[("eth_getTransactionReceipt", [tx.tx_hash]) for tx in txs],
                            *[("eth_getBlockByNumber", [hex(int(tx.block_number or 0)), False]) for tx in txs],
                            *[("eth_getTransactionCount", [sender, "pending"]) for sender in senders]])
    head = int(replies[0].value(), 16)
    receipts, blocks = replies[1:len(txs) + 1], replies[len(txs) + 1:2 * len(txs) + 1]
    pending = {sender: int(reply.value(), 16) for sender, reply in zip(senders, replies[2 * len(txs) + 1:],
                                                                      strict=True)}
    reorged = []
    for trade, tx, receipt, block in zip(recent, txs, receipts, blocks, strict=True):
        reason = _reorg_reason(tx, receipt.value(), block.value(), head, pending.get(str(tx.from_address)))
        if reason is not None:
            reorged.append(Reorged(trade, reason))
    return reorged


def _reorg_reason(tx: BlockchainTransaction, receipt: dict[str, Any] | None, block: dict[str, Any] | None,
                  head: int, pending_nonce: int | None = None) -> str | None:
    """Why `tx`'s settlement block left the canonical chain, or None if it did not (or cannot be told yet).
    `pending_nonce`: the node's pending nonce of the sender (tells a rewound node from a lagging one)."""
    if receipt is not None:
        if str(receipt["blockHash"]) == tx.block_hash:
            return None
        return (f"{tx.tx_hash} moved from block {tx.block_number} ({tx.block_hash}) to block "
                f"{receipt_block(receipt)} ({receipt['blockHash']})")
    height = int(tx.block_number or 0)
    if (height > head or block is None) and tx.nonce is not None and pending_nonce is not None \
            and pending_nonce <= tx.nonce:
        return (f"node rewind: the receipt of {tx.tx_hash} (block {height}) is gone, the node's head is {head} "
                f"and its pending nonce of {tx.from_address} is {pending_nonce}, not above this transaction's "
                f"{tx.nonce}: the node came back from an older state")
    if height > head or block is None:
        logger.info("no receipt for %s and block %d is beyond the node's head %d: a lagging node, checked "
                    "again next time", tx.tx_hash, height, head)
        return None
    if str(block["hash"]) == tx.block_hash:
        logger.info("no receipt for %s, but its block %d is still canonical: receipts lag, checked again next "
                    "time", tx.tx_hash, height)
        return None
    return (f"the receipt of {tx.tx_hash} is gone and block {height} is now {block['hash']}, not "
            f"{tx.block_hash}")


def reopen(store: ExecutionStore, run_state: RunState, reorged: Reorged) -> None:
    """Take a reorged trade back to broadcasted, clear its receipt fields, store it, undo its count."""
    trade, reason = reorged.trade, reorged.reason
    succeeded = trade.is_success()
    trade.mark_reorged(reason)
    clear_receipt(trade.blockchain_transactions[-1])
    store.revert_to_broadcasted(trade, reason)
    run_state.record_trade_reorged(trade.trade_id, was_success=succeeded)
    logger.warning("trade %d: %s (reorg): back to broadcasted, tracked again", trade.trade_id, reason)


def reopen_reorged_trades(client: RPCClient, store: ExecutionStore, run_state: RunState,
                          window: int) -> list[TradeExecution]:
    """Find and reopen every reorged trade of the last `window` blocks; returns them (now broadcasted)."""
    reopened = []
    for reorged in find_reorged(client, store, window):
        reopen(store, run_state, reorged)
        reopened.append(reorged.trade)
    return reopened
