"""Receipts by block: a tracker's first look at a batch mined into a few blocks asks each block's receipts
(`eth_getBlockReceipts`) instead of each transaction's.

A chunk of 100 transactions mined into 3 blocks costs 3 requests instead of 100. The tracker knows the block
its transactions were signed on top of (`BlockScan.after`); they can only be in the blocks after it, up to
the head. A block is asked only when our transactions still waiting for a first receipt are at least
`MIN_PER_BLOCK` per block of that range and the range is at most `MAX_BLOCKS` long: on a busy chain, where
a block holds hundreds of other transactions, a trickle of ours is still asked for by hash. Each
transaction is looked for in a block scan once; one not found there (mined after the head was read, moved
by a reorg) is asked for by hash from then on, as the receipts of included transactions waiting for
confirmations are. A node without the method is remembered (per client) and asked by hash.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vaultexec.chain.rpc import Reply, RPCClient, is_missing_method

METHOD = "eth_getBlockReceipts"
#: Longest block range scanned in one poll.
MAX_BLOCKS = 16
#: Our transactions waiting for a receipt per block of the range, at least, for a scan.
MIN_PER_BLOCK = 2

#: Clients whose node answered that it has no `eth_getBlockReceipts`.
_WITHOUT_METHOD: weakref.WeakKeyDictionary[RPCClient, bool] = weakref.WeakKeyDictionary()


@dataclass
class BlockScan:
    """Where a tracker may read receipts by block: the blocks after `after` (None: never)."""

    after: int | None = None

    def blocks(self, client: RPCClient, waiting: int, head: int) -> list[int]:
        """The blocks to ask for `waiting` transactions' first receipts at `head`; [] when by hash pays more."""
        if self.after is None or client in _WITHOUT_METHOD:
            return []
        count = head - self.after
        if count <= 0 or count > MAX_BLOCKS or waiting < MIN_PER_BLOCK * count:
            return []
        return list(range(self.after + 1, head + 1))


def requests(blocks: Sequence[int]) -> list[tuple[str, list[Any]]]:
    return [(METHOD, [hex(block)]) for block in blocks]


def receipts_by_hash(client: RPCClient, replies: Sequence[Reply]) -> dict[str, dict[str, Any]]:
    """The receipts of the scanned blocks by transaction hash; a block the node could not serve adds none (a
    node without the method is remembered: it is asked by hash from then on)."""
    found: dict[str, dict[str, Any]] = {}
    for reply in replies:
        if reply.error is not None:
            if is_missing_method(reply.error):
                _WITHOUT_METHOD[client] = True
            continue
        if not isinstance(reply.result, list):
            continue  # a block the node does not have (yet): its transactions are asked for by hash
        for receipt in reply.result:
            if isinstance(receipt, dict) and isinstance(receipt.get("transactionHash"), str):
                found[receipt["transactionHash"].lower()] = receipt
    return found
