"""Broadcast and tracking on a real anvil: batching, confirmations, dropped, stuck, nonce consumed, reorg."""

from __future__ import annotations

import time
from typing import Any

import pytest
from eth_abi.abi import encode

from vaultexec.chain.broadcast import TrackerConfig, TransactionTracker
from vaultexec.chain.gas import bump_fees, fetch_fees
from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.errors import TransactionTimeoutError
from vaultexec.model.transaction import BlockchainTransaction, TxState

DEAD = "0x000000000000000000000000000000000000dEaD"
ECHO_REVERTER = "365f5f37365ffd"
GWEI = 10**9
FAST = TrackerConfig(poll_interval=0.01, timeout=20, drop_check_after=0.0, stuck_after=3600)




def sign_transfers(client: RPCClient, wallet: HotWallet, count: int, data: str = "0x",
                   to: str = DEAD, gas: int = 30_000) -> list[BlockchainTransaction]:
    fees = fetch_fees(client, 31337)
    return [wallet.sign_blockchain_transaction(BlockchainTransaction(contract_address=to), data, gas, fees,
                                               value=i + 1)
            for i in range(count)]


def state(tx: BlockchainTransaction) -> TxState:
    """The state now (a call, so type checkers do not narrow it across polls)."""
    return tx.tx_state


def mined_nonce(client: RPCClient, address: str) -> int:
    return int(client.call("eth_getTransactionCount", [address, "latest"]), 16)


def test_batch_is_sent_in_one_round_trip_and_settles(client: RPCClient, wallet: HotWallet) -> None:
    txs = sign_transfers(client, wallet, 20)
    persisted: list[tuple[str | None, TxState]] = []
    tracker = TransactionTracker(client, FAST, persist=lambda tx: persisted.append((tx.tx_hash, tx.tx_state)))
    before = client.stats.snapshot()
    tracker.broadcast(txs)
    assert client.stats.since(before).http_round_trips == 1
    tracker.track(txs)
    used = client.stats.since(before)
    assert all(tx.tx_state is TxState.confirmed and tx.status is True for tx in txs)
    assert used.http_round_trips <= 1 + 2 * tracker.stats.polls
    # receipts are asked only once the sender's nonce is mined: exactly once each
    assert used.requests_by_method["eth_sendRawTransaction"] == 20
    assert used.requests_by_method["eth_getTransactionReceipt"] == 20
    assert used.requests_by_method["eth_blockNumber"] == tracker.stats.polls
    assert mined_nonce(client, wallet.address) == txs[-1].nonce + 1  # type: ignore[operator]
    for tx in txs:
        chain_receipt = client.call("eth_getTransactionReceipt", [tx.tx_hash])
        assert chain_receipt["blockHash"] == tx.block_hash and tx.realised_gas_units_consumed == 21_000
        assert tracker.receipt_of(tx) == chain_receipt  # settlement reads logs from here
    assert (txs[0].tx_hash, TxState.broadcasted) in persisted and (txs[0].tx_hash, TxState.confirmed) in persisted


def test_reverted_transaction_fails_with_decoded_reason(client: RPCClient, wallet: HotWallet,
                                                        dev_chain: Any) -> None:
    reverter = dev_chain.deploy_runtime(ECHO_REVERTER)
    reason = "0x08c379a0" + encode(["string"], ["Too little received"]).hex()
    good = sign_transfers(client, wallet, 1)
    bad = sign_transfers(client, wallet, 1, data=reason, to=reverter, gas=60_000)
    tracker = TransactionTracker(client, FAST)
    tracker.send_and_track(good + bad)
    assert good[0].tx_state is TxState.confirmed
    assert bad[0].tx_state is TxState.failed and bad[0].status is False
    assert bad[0].revert_reason == "Too little received (output below amountOutMinimum (slippage))"
    assert bad[0].revert_data == reason and bad[0].revert_reason_approximate is False


def test_confirmation_depth(client: RPCClient, wallet: HotWallet, manual_mining: None) -> None:
    txs = sign_transfers(client, wallet, 2)
    tracker = TransactionTracker(client, TrackerConfig(confirmations=2, poll_interval=0.01, timeout=5))
    tracker.broadcast(txs)
    assert tracker.poll(txs) == txs and state(txs[0]) is TxState.broadcasted
    client.call("evm_mine")
    assert tracker.poll(txs) == txs and state(txs[0]) is TxState.included and txs[0].confirmations == 0
    client.call("evm_mine")
    tracker.poll(txs)
    assert txs[0].confirmations == 1 and txs[0].tx_state is TxState.included
    client.call("evm_mine")
    assert tracker.poll(txs) == []
    assert all(tx.tx_state is TxState.confirmed and tx.confirmations == 2 for tx in txs)


def test_timeout_leaves_state_for_resume(client: RPCClient, wallet: HotWallet, manual_mining: None) -> None:
    txs = sign_transfers(client, wallet, 1)
    tracker = TransactionTracker(client, TrackerConfig(poll_interval=0.01, timeout=0.1))
    with pytest.raises(TransactionTimeoutError, match="do not sign them again"):
        tracker.send_and_track(txs)
    assert txs[0].tx_state is TxState.broadcasted


def test_dropped_transaction_is_rebroadcast_with_the_same_bytes(client: RPCClient, wallet: HotWallet,
                                                               manual_mining: None) -> None:
    txs = sign_transfers(client, wallet, 2)
    tracker = TransactionTracker(client, FAST)
    tracker.broadcast(txs)
    original = (txs[1].tx_hash, txs[1].signed_bytes)
    client.call("anvil_dropTransaction", [txs[1].tx_hash])
    assert client.call("eth_getTransactionByHash", [txs[1].tx_hash]) is None
    tracker.poll(txs)
    assert tracker.stats.rebroadcasts == 1
    assert client.call("eth_getTransactionByHash", [txs[1].tx_hash]) is not None
    client.call("evm_mine")
    tracker.track(txs)
    assert (txs[1].tx_hash, txs[1].signed_bytes) == original
    assert all(tx.tx_state is TxState.confirmed for tx in txs)
    assert mined_nonce(client, wallet.address) == txs[1].nonce + 1  # type: ignore[operator]


def test_stuck_pending_transaction_is_replaced_and_replacement_settles(
        client: RPCClient, wallet: HotWallet, manual_mining: None) -> None:
    txs = sign_transfers(client, wallet, 1)
    first_hash = txs[0].tx_hash
    persisted: list[tuple[str | None, str | None]] = []
    tracker = TransactionTracker(client, TrackerConfig(poll_interval=0.01, timeout=10, stuck_after=0.0),
                                 resign=wallet.resign_with_fees,
                                 persist=lambda tx: persisted.append((tx.tx_hash, tx.signed_bytes)))
    tracker.broadcast(txs)
    tracker.poll(txs)  # still in the pool, no block mined: stuck after 0 s
    assert tracker.stats.replacements == 1
    second_hash = txs[0].tx_hash
    assert second_hash != first_hash and txs[0].replaced_tx_hashes == [first_hash]
    assert persisted[-2][0] == second_hash  # the replacement was persisted (write-ahead) before the send
    assert client.call("eth_getTransactionByHash", [second_hash]) is not None
    client.call("evm_mine")
    tracker.track(txs)
    assert txs[0].tx_state is TxState.confirmed and txs[0].tx_hash in (first_hash, second_hash)
    assert set(txs[0].get_all_tx_hashes()) == {first_hash, second_hash}
    assert mined_nonce(client, wallet.address) == txs[0].nonce + 1  # type: ignore[operator]


def test_transaction_stuck_under_raised_base_fee_is_replaced(client: RPCClient, wallet: HotWallet,
                                                            manual_mining: None) -> None:
    txs = sign_transfers(client, wallet, 1)
    first_hash, first_max_fee = txs[0].tx_hash, txs[0].max_fee_per_gas
    assert first_max_fee is not None
    tracker = TransactionTracker(client, TrackerConfig(poll_interval=0.01, timeout=10, stuck_after=3600),
                                 resign=wallet.resign_with_fees)
    tracker.broadcast(txs)
    # The base fee jumps above our max fee: the block is mined without us (anvil evicts us from the pool).
    client.call("anvil_setNextBlockBaseFeePerGas", [hex(first_max_fee * 10)])
    client.call("evm_mine")
    assert client.call("eth_getTransactionReceipt", [first_hash]) is None
    tracker.poll(txs)  # unknown -> same bytes again -> refused for its fees
    tracker.poll(txs)  # -> replaced with fees above the new base fee
    assert tracker.stats.replacements == 1
    assert txs[0].max_fee_per_gas is not None and txs[0].max_fee_per_gas > first_max_fee * 10
    client.call("evm_mine")
    tracker.track(txs)
    assert txs[0].tx_state is TxState.confirmed and txs[0].replaced_tx_hashes == [first_hash]
    assert client.call("eth_getTransactionReceipt", [first_hash]) is None
    assert mined_nonce(client, wallet.address) == txs[0].nonce + 1  # type: ignore[operator]


def test_earlier_fee_version_landing_is_settled(client: RPCClient, wallet: HotWallet) -> None:
    txs = sign_transfers(client, wallet, 1)
    first_hash = txs[0].tx_hash
    client.call("eth_sendRawTransaction", [txs[0].signed_bytes])  # the old version lands (automine)
    wallet.resign_with_fees(txs[0], bump_fees(fetch_fees(client, 31337)))
    tracker = TransactionTracker(client, FAST)
    tracker.track(txs)
    assert txs[0].tx_state is TxState.confirmed and txs[0].tx_hash == first_hash
    assert first_hash not in txs[0].replaced_tx_hashes and len(txs[0].replaced_tx_hashes) == 1


def test_nonce_consumed_by_another_transaction_fails(client: RPCClient, wallet: HotWallet,
                                                     manual_mining: None) -> None:
    ours = sign_transfers(client, wallet, 1)
    config = TrackerConfig(poll_interval=0.01, timeout=20, nonce_consumed_after=0.2, nonce_consumed_blocks=2)
    tracker = TransactionTracker(client, config)
    tracker.broadcast(ours)
    client.call("anvil_dropTransaction", [ours[0].tx_hash])
    other = wallet.sign_call(DEAD, "0xff", 30_000, fetch_fees(client, 31337), nonce=ours[0].nonce)
    client.call("eth_sendRawTransaction", [other.raw])
    client.call("evm_mine")
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:  # long enough, but no new block since the nonce was seen used
        assert tracker.poll(ours) == ours
    assert state(ours[0]) is TxState.broadcasted and tracker.stats.nonce_consumed == 0
    client.call("evm_mine")
    client.call("evm_mine")
    tracker.track(ours)
    assert ours[0].tx_state is TxState.replaced and ours[0].status is None
    assert ours[0].revert_reason is not None
    assert f"Nonce {ours[0].nonce} of {wallet.address} was used by another transaction" in ours[0].revert_reason
    assert tracker.stats.nonce_consumed == 1 and tracker.stats.rebroadcasts == 0


def test_reorged_out_receipt_goes_back_to_pending(client: RPCClient, wallet: HotWallet) -> None:
    txs = sign_transfers(client, wallet, 1)
    tracker = TransactionTracker(client, TrackerConfig(confirmations=1, poll_interval=0.01, timeout=10))
    snapshot = client.call("evm_snapshot")
    tracker.broadcast(txs)  # automine: included right away
    for _ in range(100):
        if tracker.poll(txs) and state(txs[0]) is TxState.included:
            break
    first_block = txs[0].block_hash
    assert state(txs[0]) is TxState.included and first_block is not None
    client.call("evm_revert", [snapshot])  # the block with our receipt is gone
    client.call("evm_mine")  # a different block at that height
    tracker.poll(txs)
    assert tracker.stats.reorgs == 1
    seen = tracker.receipt_of(txs[0])
    assert seen is None or seen["blockHash"] != first_block
    assert state(txs[0]) is not TxState.confirmed and txs[0].block_hash != first_block
    for _ in range(20):  # the same bytes were sent again: mine until one block sits on top of them
        client.call("evm_mine")
        if not tracker.poll(txs):
            break
    assert state(txs[0]) is TxState.confirmed and txs[0].block_hash != first_block
    receipt = client.call("eth_getTransactionReceipt", [txs[0].tx_hash])
    assert receipt["blockHash"] == txs[0].block_hash
    assert mined_nonce(client, wallet.address) == txs[0].nonce + 1  # type: ignore[operator]


def test_refused_transaction_fails_without_stopping_the_batch(client: RPCClient, wallet: HotWallet) -> None:
    txs = sign_transfers(client, wallet, 2)
    broke = HotWallet.from_key("0x" + "11" * 32, 31337)  # no ETH at all
    broke.sync_nonce(client)
    poor = sign_transfers(client, broke, 1)
    tracker = TransactionTracker(client, FAST)
    tracker.send_and_track([txs[0], *poor, txs[1]])
    assert poor[0].tx_state is TxState.failed and poor[0].status is None
    assert poor[0].revert_reason is not None and "refused by the node" in poor[0].revert_reason
    assert txs[0].tx_state is TxState.confirmed and txs[1].tx_state is TxState.confirmed
