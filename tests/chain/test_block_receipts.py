"""Receipts by block (`chain.block_receipts`): a batch mined into a few blocks is read block by block; a
transaction not found in the scanned blocks is asked for by hash; many blocks of one transaction each, or a
node without `eth_getBlockReceipts`, are asked by hash (the node's refusal remembered per client)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from vaultexec.chain.broadcast import TrackerConfig, TransactionTracker
from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.model.transaction import BlockchainTransaction, TxState
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.faultproxy import FaultProxy

from test_broadcast import FAST, sign_transfers  # isort: skip


def head(client: RPCClient) -> int:
    return int(client.call("eth_blockNumber"), 16)


def track(client: RPCClient, tracker: TransactionTracker, txs: list[BlockchainTransaction]) -> Counter[str]:
    """Track `txs` to the end; the requests it took, by method."""
    before = client.stats.snapshot()
    tracker.track(txs)
    return client.stats.since(before).requests_by_method


def send_and_mine(client: RPCClient, tracker: TransactionTracker, wallet: HotWallet, count: int,
                  blocks: int = 1) -> list[BlockchainTransaction]:
    """`count` transfers sent with mining off, then mined into `blocks` blocks (the first holds the rest)."""
    txs = sign_transfers(client, wallet, count)  # 30,000 gas each
    limit = client.call("eth_getBlockByNumber", ["latest", False])["gasLimit"]
    client.call("evm_setAutomine", [False])
    try:
        tracker.broadcast(txs)
        client.call("evm_setBlockGasLimit", [hex(30_000 * -(-count // blocks) + 10_000)])
        for _ in range(blocks):
            client.call("evm_mine")
    finally:
        client.call("evm_setBlockGasLimit", [limit])
        client.call("evm_setAutomine", [True])
    return txs


def test_batch_in_a_few_blocks_is_read_block_by_block(client: RPCClient, wallet: HotWallet) -> None:
    tracker = TransactionTracker(client, FAST)
    tracker.receipts_after(head(client))
    txs = send_and_mine(client, tracker, wallet, 12, blocks=2)
    used = track(client, tracker, txs)
    assert all(tx.tx_state is TxState.confirmed and tx.status is True for tx in txs)
    assert len({tx.block_number for tx in txs}) == 2
    assert used["eth_getBlockReceipts"] == 2 and used["eth_getTransactionReceipt"] == 0
    for tx in txs:  # the same receipts as by hash
        assert tracker.receipt_of(tx) == client.call("eth_getTransactionReceipt", [tx.tx_hash])


def test_transaction_not_in_the_scanned_blocks_is_asked_for_by_hash(client: RPCClient, wallet: HotWallet) -> None:
    tracker = TransactionTracker(client, FAST)
    txs = send_and_mine(client, tracker, wallet, 6)
    mined_in = head(client)
    client.call("evm_mine")
    tracker.receipts_after(mined_in)  # wrong on purpose: the scan reads an empty block
    used = track(client, tracker, txs)
    assert all(tx.tx_state is TxState.confirmed and tx.block_number == mined_in for tx in txs)
    assert used["eth_getBlockReceipts"] == 1 and used["eth_getTransactionReceipt"] == 6


def test_one_transaction_per_block_is_asked_for_by_hash(client: RPCClient, wallet: HotWallet) -> None:
    tracker = TransactionTracker(client, FAST)
    tracker.receipts_after(head(client))
    txs = send_and_mine(client, tracker, wallet, 4, blocks=4)
    used = track(client, tracker, txs)
    assert all(tx.tx_state is TxState.confirmed for tx in txs)
    assert len({tx.block_number for tx in txs}) == 4
    assert used["eth_getBlockReceipts"] == 0 and used["eth_getTransactionReceipt"] == 4


def test_switched_off_by_the_config(client: RPCClient, wallet: HotWallet) -> None:
    tracker = TransactionTracker(client, TrackerConfig(**{**FAST.__dict__, "receipts_by_block": False}))
    tracker.receipts_after(head(client))
    txs = send_and_mine(client, tracker, wallet, 6)
    used = track(client, tracker, txs)
    assert used["eth_getBlockReceipts"] == 0 and used["eth_getTransactionReceipt"] == 6


class NoBlockReceiptsProxy(FaultProxy):
    """A node without eth_getBlockReceipts (method not found)."""

    def rewrite_reply(self, request: dict[str, Any], reply: dict[str, Any]) -> None:
        if request.get("method") == "eth_getBlockReceipts":
            reply.pop("result", None)
            reply["error"] = {"code": -32601, "message": "the method eth_getBlockReceipts does not exist"}


def test_node_without_the_method_is_asked_by_hash_and_remembered(plain_anvil: AnvilInstance, client: RPCClient,
                                                                  wallet: HotWallet) -> None:
    with NoBlockReceiptsProxy(plain_anvil.url) as proxy:
        proxied = RPCClient(proxy.url, timeout=10)
        for _ in range(2):
            tracker = TransactionTracker(proxied, FAST)
            tracker.receipts_after(head(client))
            txs = send_and_mine(client, tracker, wallet, 6)
            used = track(proxied, tracker, txs)
            assert all(tx.tx_state is TxState.confirmed for tx in txs)
            assert used["eth_getTransactionReceipt"] == 6
        assert used["eth_getBlockReceipts"] == 0  # the second batch: not asked again
        proxied.close()
