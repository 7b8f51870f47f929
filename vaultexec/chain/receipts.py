"""Put a receipt's facts on a `BlockchainTransaction`, or take them off when a reorg removed its block.

One place for both, shared by the broadcast tracker (chain.broadcast), `repair()` and the reorg check
(execution.repair, execution.reorg), so the three agree on what a receipt means.
"""

from __future__ import annotations

from typing import Any

from vaultexec.model.run_state import utc_now
from vaultexec.model.transaction import BlockchainTransaction, TxState


def receipt_block(receipt: dict[str, Any]) -> int:
    """The block number of a raw JSON-RPC receipt."""
    return int(receipt["blockNumber"], 16)


def apply_receipt(tx: BlockchainTransaction, receipt: dict[str, Any], head: int, confirmations: int) -> None:
    """Record `receipt` (raw JSON-RPC) on `tx`: the landed hash becomes the current one (every other hash
    is kept in `replaced_tx_hashes`), block, status and gas are set, and the state is `confirmed` /
    `failed` once the block has `confirmations` blocks on top of it at `head`, `included` before."""
    landed = str(receipt["transactionHash"])
    if landed != tx.tx_hash:
        tx.replaced_tx_hashes = [h for h in tx.get_all_tx_hashes() if h != landed]
        tx.tx_hash = landed
    tx.block_number, tx.block_hash = receipt_block(receipt), str(receipt["blockHash"])
    tx.status = int(receipt["status"], 16) == 1
    tx.realised_gas_units_consumed = int(receipt["gasUsed"], 16)
    tx.realised_gas_price = int(receipt["effectiveGasPrice"], 16)
    tx.included_at = tx.included_at or utc_now()
    tx.confirmations = max(0, head - tx.block_number)
    if tx.confirmations >= confirmations:
        tx.tx_state = TxState.confirmed if tx.status else TxState.failed
    else:
        tx.tx_state = TxState.included


def clear_receipt(tx: BlockchainTransaction) -> None:
    """Forget what a receipt whose block left the canonical chain said: `tx` is in flight (broadcasted)
    again, its hashes and signed bytes untouched."""
    tx.block_number = tx.block_hash = tx.included_at = None
    tx.status = None
    tx.realised_gas_units_consumed = tx.realised_gas_price = None
    tx.revert_reason = tx.revert_data = None
    tx.revert_reason_approximate = False
    tx.confirmations = 0
    tx.tx_state = TxState.broadcasted
