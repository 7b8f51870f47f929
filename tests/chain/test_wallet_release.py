"""Giving back nonces that were allocated but never sent: the next allocations fill them, no gap on chain."""

from __future__ import annotations

import time

import pytest

from vaultexec.chain.gas import fetch_fees
from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.errors import WalletError
from vaultexec.model.transaction import BlockchainTransaction

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
DEAD = "0x000000000000000000000000000000000000dEaD"


def _sign(wallet: HotWallet, client: RPCClient, count: int) -> list[BlockchainTransaction]:
    fees = fetch_fees(client, 31337)
    txs = [BlockchainTransaction(contract_address=DEAD) for _ in range(count)]
    for tx in txs:
        wallet.sign_blockchain_transaction(tx, "0x", 21_000, fees)
    return txs


def test_released_top_of_range_moves_the_counter_back(client: RPCClient) -> None:
    wallet = HotWallet.from_key(KEY, 31337)
    start = wallet.sync_nonce(client)
    allocated = [wallet.allocate_nonce() for _ in range(5)]
    wallet.release_nonces(allocated[2:])
    assert wallet.next_nonce == start + 2
    assert [wallet.allocate_nonce() for _ in range(4)] == [start + 2, start + 3, start + 4, start + 5]


def test_released_hole_is_filled_first_lowest_first(client: RPCClient) -> None:
    wallet = HotWallet.from_key(KEY, 31337)
    start = wallet.sync_nonce(client)
    for _ in range(6):
        wallet.allocate_nonce()
    wallet.release_nonces([start + 3, start + 1])  # another batch holds start+4, start+5
    assert wallet.next_nonce == start + 6
    assert [wallet.allocate_nonce() for _ in range(3)] == [start + 1, start + 3, start + 6]


def test_cannot_release_what_was_never_allocated(client: RPCClient) -> None:
    wallet = HotWallet.from_key(KEY, 31337)
    with pytest.raises(WalletError, match="not synced"):
        wallet.release_nonces([0])
    start = wallet.sync_nonce(client)
    with pytest.raises(WalletError, match="never allocated"):
        wallet.release_nonces([start])


def test_after_a_failed_batch_the_next_batch_leaves_no_nonce_gap(client: RPCClient) -> None:
    """Batch 1 is signed but its store write fails (never sent): its nonces go back; batch 2 uses them and
    every one of its transactions is mined (a gap would leave them queued forever)."""
    wallet = HotWallet.from_key(KEY, 31337)
    start = wallet.sync_nonce(client)
    kept = _sign(wallet, client, 2)
    lost = _sign(wallet, client, 3)
    wallet.release_nonces(tx.nonce for tx in lost if tx.nonce is not None)
    retry = _sign(wallet, client, 3)
    assert [tx.nonce for tx in kept + retry] == list(range(start, start + 5))
    for tx in kept + retry:
        client.call("eth_sendRawTransaction", [tx.signed_bytes])
    deadline = time.monotonic() + 10
    while int(client.call("eth_getTransactionCount", [wallet.address, "latest"]), 16) < start + 5:
        assert time.monotonic() < deadline, "transactions stuck behind a nonce gap"
        time.sleep(0.05)
    receipts = [client.call("eth_getTransactionReceipt", [tx.tx_hash]) for tx in kept + retry]
    assert all(r is not None and r["status"] == "0x1" for r in receipts)


def test_sync_forgets_released_nonces_used_elsewhere(client: RPCClient) -> None:
    wallet = HotWallet.from_key(KEY, 31337)
    start = wallet.sync_nonce(client)
    first, second = _sign(wallet, client, 2)
    wallet.release_nonces([start])  # say the first was never sent ... but the key was used elsewhere
    client.call("eth_sendRawTransaction", [first.signed_bytes])
    client.call("eth_sendRawTransaction", [second.signed_bytes])
    wallet.sync_nonce(client)
    assert wallet.allocate_nonce() == start + 2
