"""Refusals on a real anvil: a refused replacement never fails a transaction whose earlier version can still
land; a replacement the wallet cannot pay is not made; a refused first broadcast leaves no nonce gap."""

from __future__ import annotations

from vaultexec.chain.broadcast import TrackerConfig, TransactionTracker
from vaultexec.chain.gaps import TRANSFER_GAS, NonceGapFiller
from vaultexec.chain.gas import FeeQuote, fetch_fees
from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.model.transaction import BlockchainTransaction, TxState

from chain_wallets import set_balance  # isort: skip
from test_broadcast import DEAD, mined_nonce, sign_transfers, state  # isort: skip

REPLACE_AT_ONCE = TrackerConfig(poll_interval=0.01, timeout=10, stuck_after=0.0, drop_check_after=0.0)





def worst_case(tx: BlockchainTransaction) -> int:
    assert tx.gas_limit is not None
    return tx.gas_limit * tx.get_planned_gas_price() + int((tx.details or {})["value"])


def test_refused_replacement_keeps_the_accepted_version_in_flight(client: RPCClient, poor: HotWallet,
                                                                  manual_mining: None) -> None:
    [tx] = sign_transfers(client, poor, 1)
    original = tx.tx_hash
    stored: list[tuple[str, ...]] = []

    def persist(btx: BlockchainTransaction) -> None:
        stored.append(tuple(btx.get_all_tx_hashes()))
        if len(btx.get_all_tx_hashes()) == 2 and btx.tx_hash != original:
            # the replacement is stored, not sent yet: the wallet's funds are spent elsewhere meanwhile
            set_balance(client, poor.address, worst_case(btx) * 8 // 9)

    tracker = TransactionTracker(client, REPLACE_AT_ONCE, resign=poor.resign_with_fees, persist=persist)
    tracker.broadcast([tx])
    tracker.poll([tx])  # stuck at once: replaced, the node refuses the replacement (insufficient funds)
    assert tracker.stats.replacements == 1 and tracker.stats.refused_resends == 1
    replacement = next(h for h in tx.replaced_tx_hashes if h != original)
    assert state(tx) is TxState.broadcasted and tx.tx_hash == original  # the accepted version is current again
    assert set(tx.get_all_tx_hashes()) == {original, replacement}
    assert stored[-1] == (replacement, original)  # every hash persisted, the accepted one last
    assert "refused by the node" in (tx.notes or "")
    assert client.call("eth_getTransactionByHash", [original]) is not None

    tracker.poll([tx])  # stuck again: the wallet cannot pay even the least bump now, so no replacement
    assert tracker.stats.replacements == 1 and tracker.stats.replacements_unaffordable == 1
    client.call("evm_mine")
    tracker.track([tx])
    assert tx.tx_state is TxState.confirmed and tx.tx_hash == original and tx.status is True
    assert set(tx.get_all_tx_hashes()) == {original, replacement}
    assert mined_nonce(client, poor.address) == tx.nonce + 1  # type: ignore[operator]


def test_refused_resend_of_an_accepted_transaction_is_not_final(client: RPCClient, poor: HotWallet,
                                                                manual_mining: None) -> None:
    [tx] = sign_transfers(client, poor, 1)
    tracker = TransactionTracker(client, TrackerConfig(poll_interval=0.01, timeout=10, stuck_after=0.3))
    tracker.broadcast([tx])
    client.call("anvil_dropTransaction", [tx.tx_hash])
    set_balance(client, poor.address, 1)
    tracker.poll([tx])  # dropped -> the same bytes again -> refused: it was accepted once, so not final
    assert state(tx) is TxState.broadcasted and tracker.stats.refused_resends == 1
    assert tx.revert_reason is None
    set_balance(client, poor.address, 10**18)
    client.call("evm_setAutomine", [True])
    tracker.track([tx])  # after a pause (stuck_after) the same bytes again, accepted and mined
    assert tx.tx_state is TxState.confirmed and tracker.stats.refused_resends == 1


def test_stuck_transaction_the_wallet_cannot_pay_to_replace_is_left_to_land(client: RPCClient, poor: HotWallet,
                                                                            manual_mining: None) -> None:
    [tx] = sign_transfers(client, poor, 1)
    set_balance(client, poor.address, worst_case(tx) + 10**9)  # the original, not a 10 % bump
    tracker = TransactionTracker(client, REPLACE_AT_ONCE, resign=poor.resign_with_fees)
    tracker.broadcast([tx])
    tracker.poll([tx])
    assert tracker.stats.replacements == 0 and tracker.stats.replacements_unaffordable == 1
    assert tx.replaced_tx_hashes == [] and state(tx) is TxState.broadcasted
    client.call("evm_mine")
    tracker.track([tx])
    assert tx.tx_state is TxState.confirmed


def test_replacement_is_capped_to_what_the_wallet_can_pay(client: RPCClient, poor: HotWallet,
                                                          manual_mining: None) -> None:
    [tx] = sign_transfers(client, poor, 1)
    assert tx.max_fee_per_gas is not None and tx.gas_limit is not None
    # enough for +11 %, not for the usual +12.5 %
    set_balance(client, poor.address, tx.gas_limit * (tx.max_fee_per_gas * 111 // 100) + 1)
    original = tx.tx_hash
    tracker = TransactionTracker(client, REPLACE_AT_ONCE, resign=poor.resign_with_fees)
    tracker.broadcast([tx])
    tracker.poll([tx])
    assert tracker.stats.replacements == 1 and tx.tx_hash != original and tracker.stats.refused_resends == 0
    assert tx.max_fee_per_gas is not None and tx.max_fee_per_gas * tx.gas_limit <= 10**18
    client.call("evm_mine")
    tracker.track([tx])
    assert tx.tx_state is TxState.confirmed and tx.replaced_tx_hashes == [original]


def test_gap_of_a_refused_nonce_is_filled_when_a_later_one_is_in_flight(client: RPCClient,
                                                                        wallet: HotWallet) -> None:
    [first] = sign_transfers(client, wallet, 1)
    fees = fetch_fees(client, 31337)
    # the middle one is re-signed below the intrinsic gas of a transfer: the node refuses it
    middle = wallet.sign_blockchain_transaction(BlockchainTransaction(contract_address=DEAD), "0x",
                                                TRANSFER_GAS - 1, fees)
    last = wallet.sign_blockchain_transaction(BlockchainTransaction(contract_address=DEAD), "0x", 30_000, fees)
    batch = [first, middle, last]
    gaps = NonceGapFiller(client, wallet)
    tracker = TransactionTracker(client, TrackerConfig(poll_interval=0.01, timeout=10), gaps=gaps)
    tracker.send_and_track(batch)
    assert middle.tx_state is TxState.failed and "refused by the node" in (middle.revert_reason or "")
    assert first.tx_state is TxState.confirmed and last.tx_state is TxState.confirmed  # not held back
    filler = gaps.fillers[middle.nonce]  # type: ignore[index]
    receipt = client.call("eth_getTransactionReceipt", [filler])
    assert receipt is not None and int(receipt["status"], 16) == 1
    filled = client.call("eth_getTransactionByHash", [filler])
    assert int(filled["nonce"], 16) == middle.nonce and filled["to"].lower() == wallet.address.lower()
    assert int(filled["value"], 16) == 0 and int(filled["gas"], 16) == TRANSFER_GAS
    assert f"filled by {filler}" in (middle.notes or "")


def test_refused_last_nonce_goes_back_to_the_wallet(client: RPCClient, wallet: HotWallet) -> None:
    [good] = sign_transfers(client, wallet, 1)
    fees = fetch_fees(client, 31337)
    refused = wallet.sign_blockchain_transaction(BlockchainTransaction(contract_address=DEAD), "0x",
                                                 TRANSFER_GAS - 1, fees)
    tracker = TransactionTracker(client, TrackerConfig(poll_interval=0.01, timeout=10),
                                 gaps=NonceGapFiller(client, wallet))
    tracker.send_and_track([good, refused])
    assert refused.tx_state is TxState.failed and good.tx_state is TxState.confirmed
    assert wallet.next_nonce == refused.nonce and "given back to the wallet" in (refused.notes or "")
    [after] = sign_transfers(client, wallet, 1)
    assert after.nonce == refused.nonce
    TransactionTracker(client, TrackerConfig(poll_interval=0.01, timeout=10)).send_and_track([after])
    assert after.tx_state is TxState.confirmed


def test_refused_filler_gives_the_nonce_back(client: RPCClient, poor: HotWallet) -> None:
    base_fee = int(client.call("eth_getBlockByNumber", ["pending", False])["baseFeePerGas"], 16)
    cheap = FeeQuote(max_fee_per_gas=base_fee * 3 // 2 + 1, max_priority_fee_per_gas=1)
    set_balance(client, poor.address, TRANSFER_GAS * cheap.max_price + 1)  # pays one cheap transfer
    too_big = poor.sign_blockchain_transaction(BlockchainTransaction(contract_address=DEAD), "0x",
                                               TRANSFER_GAS, cheap, value=10**18)  # insufficient funds
    later = poor.sign_blockchain_transaction(BlockchainTransaction(contract_address=DEAD), "0x",
                                             TRANSFER_GAS, cheap)
    gaps = NonceGapFiller(client, poor)  # its filler pays the market's fees (2 x base fee): unaffordable
    tracker = TransactionTracker(client, TrackerConfig(poll_interval=0.01, timeout=0.5), gaps=gaps)
    tracker.broadcast([too_big, later])
    assert too_big.tx_state is TxState.failed and later.tx_state is TxState.broadcasted
    assert gaps.fillers == {} and "given back to the wallet" in (too_big.notes or "")
    assert poor.allocate_nonce() == too_big.nonce  # the next transaction fills the gap
