"""Refusals of transactions a previous process sent, refusals the tracker does not recognise, and a nonce gap
filler that cannot reach the node, on a real anvil (a fault proxy in front of it where the node must answer
something anvil never says)."""

from __future__ import annotations

import copy
import json

import pytest

from vaultexec.chain.broadcast import TrackerConfig, TransactionTracker
from vaultexec.chain.gaps import TRANSFER_GAS, NonceGapFiller
from vaultexec.chain.gas import FeeQuote, bump_fees, fetch_fees
from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.model.transaction import BlockchainTransaction, TxState
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.faultproxy import BackendWithoutTheTx, Fault, FaultProxy

from test_broadcast import DEAD, sign_transfers, state  # isort: skip
from chain_wallets import POOR_KEY, set_balance  # isort: skip
from test_broadcast_refusals import REPLACE_AT_ONCE, worst_case  # isort: skip




def sent_by_a_crashed_run(client: RPCClient, wallet: HotWallet) -> tuple[BlockchainTransaction, str]:
    """A transaction as its write-ahead record stored it (signed, never recorded as broadcast), whose bytes
    the crashed process did send: the node holds it in its pool."""
    [tx] = sign_transfers(client, wallet, 1)
    stored = copy.deepcopy(tx)
    TransactionTracker(client, TrackerConfig()).broadcast([tx])
    assert stored.tx_state is TxState.signed and stored.broadcasted_at is None
    assert client.call("eth_getTransactionByHash", [tx.tx_hash]) is not None
    return stored, str(tx.tx_hash)


def test_refused_replacement_of_a_stored_signed_transaction_falls_back_to_it(
        client: RPCClient, poor: HotWallet, manual_mining: None) -> None:
    stored, original = sent_by_a_crashed_run(client, poor)

    def persist(btx: BlockchainTransaction) -> None:
        if btx.tx_hash != original:  # the replacement is stored; the gas money goes elsewhere meanwhile
            set_balance(client, poor.address, worst_case(btx) * 8 // 9)

    restarted = HotWallet.from_key(POOR_KEY, 31337)  # a new process: nonces not synced yet
    gaps = NonceGapFiller(client, restarted)
    tracker = TransactionTracker(client, REPLACE_AT_ONCE, resign=restarted.resign_with_fees, persist=persist,
                                 gaps=gaps)
    tracker.poll([stored])  # first sight of it: its wait starts now
    tracker.poll([stored])  # in the pool, waited: replaced; the node refuses the replacement
    assert tracker.stats.replacements == 1 and tracker.stats.refused_resends == 1
    assert state(stored) is TxState.broadcasted and stored.revert_reason is None
    assert stored.tx_hash == original and len(stored.get_all_tx_hashes()) == 2  # the version in the pool
    assert gaps.fillers == {} and "refused by the node" in (stored.notes or "")
    client.call("evm_mine")
    tracker.track([stored])
    assert stored.tx_state is TxState.confirmed and stored.tx_hash == original and stored.status is True


def test_refused_resend_of_a_stored_replacement_is_not_final(client: RPCClient, poor: HotWallet,
                                                             manual_mining: None) -> None:
    stored, original = sent_by_a_crashed_run(client, poor)
    pays_the_original = worst_case(stored) + 10**9
    # the crashed run also signed and stored a replacement (write-ahead), and died before sending it
    poor.resign_with_fees(stored, bump_fees(FeeQuote(stored.max_fee_per_gas, stored.max_priority_fee_per_gas)))
    assert stored.replaced_tx_hashes == [original] and stored.broadcasted_at is None
    set_balance(client, poor.address, pays_the_original)  # not the replacement
    tracker = TransactionTracker(client, TrackerConfig(poll_interval=0.01, timeout=10, drop_check_after=0.0,
                                                       stuck_after=3600))
    tracker.poll([stored])  # first sight of it: its wait starts now
    tracker.poll([stored])  # the replacement is unknown: sent again, refused for insufficient funds
    assert state(stored) is TxState.broadcasted and stored.revert_reason is None
    assert tracker.stats.refused_resends == 1
    client.call("evm_mine")
    tracker.track([stored])
    assert stored.tx_state is TxState.confirmed and stored.tx_hash == original


class RefusingSends(FaultProxy):
    """Answers the next `times` eth_sendRawTransaction requests with `message`, a refusal no node we know
    says; `deliver` decides whether the node received the transaction anyway."""

    def __init__(self, upstream_url: str, message: str, deliver: bool, times: int = 1) -> None:
        super().__init__(upstream_url)
        self.message, self.deliver, self.times = message, deliver, times

    def _forward(self, body: bytes) -> tuple[int, bytes]:
        request = json.loads(body)
        requests = request if isinstance(request, list) else [request]
        refused = {r["id"] for r in requests if r.get("method") == "eth_sendRawTransaction" and self.times > 0}
        if refused:
            self.times -= 1
        if refused and not self.deliver:
            for r in requests:
                if r["id"] in refused:
                    r["method"], r["params"] = "eth_chainId", []
            body = json.dumps(request).encode()
        status, data = super()._forward(body)
        answer = json.loads(data)
        for reply in answer if isinstance(answer, list) else [answer]:
            if reply.get("id") in refused:
                reply.pop("result", None)
                reply["error"] = {"code": -32000, "message": self.message}
        return status, json.dumps(answer).encode()


@pytest.fixture()
def gap_wallet(client: RPCClient) -> HotWallet:
    wallet = HotWallet.from_key("0x" + "5b" * 32, 31337)
    set_balance(client, wallet.address, 10**18)
    wallet.sync_nonce(client)
    return wallet


def test_unrecognised_refusal_of_a_transaction_the_node_received_is_in_flight(
        plain_anvil: AnvilInstance, client: RPCClient, gap_wallet: HotWallet) -> None:
    [tx] = sign_transfers(client, gap_wallet, 1)
    with RefusingSends(plain_anvil.url, "backend said no (code 17)", deliver=True) as proxy:
        proxied = RPCClient(proxy.url, timeout=10)
        gaps = NonceGapFiller(proxied, gap_wallet)
        tracker = TransactionTracker(proxied, TrackerConfig(poll_interval=0.01, timeout=10), gaps=gaps)
        tracker.broadcast([tx])
        assert state(tx) is TxState.broadcasted and tx.revert_reason is None and tx.broadcasted_at is not None
        tracker.track([tx])
    assert tx.tx_state is TxState.confirmed and gaps.fillers == {}
    assert gap_wallet.next_nonce == int(tx.nonce or 0) + 1  # the nonce was not given back


def test_unrecognised_refusal_of_a_transaction_the_node_lacks_is_sent_again(
        plain_anvil: AnvilInstance, client: RPCClient, gap_wallet: HotWallet) -> None:
    [tx] = sign_transfers(client, gap_wallet, 1)
    with RefusingSends(plain_anvil.url, "backend said no (code 17)", deliver=False) as proxy:
        proxied = RPCClient(proxy.url, timeout=10)
        tracker = TransactionTracker(proxied, TrackerConfig(poll_interval=0.01, timeout=10, stuck_after=0.3,
                                                            drop_check_after=0.0),
                                     gaps=NonceGapFiller(proxied, gap_wallet))
        tracker.broadcast([tx])
        assert state(tx) is TxState.dropped and tx.revert_reason is None  # not final, nothing executed yet
        assert "not known to be final" in (tx.notes or "")
        assert gap_wallet.next_nonce == int(tx.nonce or 0) + 1  # its nonce stays its own
        sends = proxied.stats.requests_by_method["eth_sendRawTransaction"]
        tracker.poll([tx])  # held for stuck_after: not sent again at once
        assert proxied.stats.requests_by_method["eth_sendRawTransaction"] == sends
        tracker.track([tx])  # then the drop check sends the same bytes again; the node takes them
    assert tx.tx_state is TxState.confirmed and tx.status is True


def test_definite_refusal_still_fails_a_first_broadcast(plain_anvil: AnvilInstance, client: RPCClient,
                                                        gap_wallet: HotWallet) -> None:
    [tx] = sign_transfers(client, gap_wallet, 1)
    with RefusingSends(plain_anvil.url, "insufficient funds for gas * price + value", deliver=False) as proxy:
        proxied = RPCClient(proxy.url, timeout=10)
        TransactionTracker(proxied, TrackerConfig(), gaps=NonceGapFiller(proxied, gap_wallet)).broadcast([tx])
        assert proxied.stats.requests_by_method["eth_getTransactionByHash"] == 0
    assert tx.tx_state is TxState.failed and "nothing was executed" in (tx.revert_reason or "")
    assert gap_wallet.next_nonce == tx.nonce  # given back


def test_gap_filler_that_cannot_reach_the_node_gives_the_nonce_back(
        plain_anvil: AnvilInstance, client: RPCClient, gap_wallet: HotWallet) -> None:
    fees = fetch_fees(client, 31337)
    refused = gap_wallet.sign_blockchain_transaction(BlockchainTransaction(contract_address=DEAD), "0x",
                                                     TRANSFER_GAS - 1, fees)  # intrinsic gas too low
    later = gap_wallet.sign_blockchain_transaction(BlockchainTransaction(contract_address=DEAD), "0x",
                                                   TRANSFER_GAS, fees)
    with FaultProxy(plain_anvil.url) as proxy:
        proxy.inject(Fault.http_error(400), times=5)  # the filler's fee request fails for good
        gaps = NonceGapFiller(RPCClient(proxy.url, timeout=10), gap_wallet)
        tracker = TransactionTracker(client, TrackerConfig(poll_interval=0.01, timeout=10), gaps=gaps)
        tracker.broadcast([refused, later])  # no error escapes: the batch goes on
    assert refused.tx_state is TxState.failed and later.tx_state is TxState.broadcasted
    assert gaps.fillers == {} and "given back to the wallet" in (refused.notes or "")
    [reuse] = sign_transfers(client, gap_wallet, 1)
    assert reuse.nonce == refused.nonce  # the next transaction closes the gap
    tracker.send_and_track([reuse, later])
    assert state(reuse) is TxState.confirmed and state(later) is TxState.confirmed


def test_refused_resend_of_a_transaction_assumed_sent_is_not_final(
        plain_anvil: AnvilInstance, client: RPCClient, poor: HotWallet, manual_mining: None) -> None:
    stored, original = sent_by_a_crashed_run(client, poor)  # stored only as signed, yet in the pool
    restarted = HotWallet.from_key(POOR_KEY, 31337)
    with BackendWithoutTheTx(plain_anvil.url) as proxy:
        proxied = RPCClient(proxy.url, timeout=10)
        gaps = NonceGapFiller(proxied, restarted)
        tracker = TransactionTracker(proxied, TrackerConfig(poll_interval=0.01, timeout=10, drop_check_after=0.0,
                                                            stuck_after=3600), gaps=gaps)
        tracker.assume_sent([stored])  # what resume() does with every stored transaction
        tracker.poll([stored])  # unknown to this backend: sent again, refused "definitely"
        assert state(stored) is TxState.broadcasted and stored.revert_reason is None
        assert tracker.stats.refused_resends == 1 and gaps.fillers == {}
        assert "may still land" in (stored.notes or "")
        client.call("evm_mine")
        tracker.track([stored])
    assert stored.tx_state is TxState.confirmed and stored.tx_hash == original and stored.status is True


def test_refused_resend_of_a_stored_broadcasted_transaction_the_node_lost_is_not_final(
        client: RPCClient, poor: HotWallet, manual_mining: None) -> None:
    [sent] = sign_transfers(client, poor, 1)
    TransactionTracker(client, TrackerConfig()).broadcast([sent])  # an earlier run sent it and stored that
    stored = copy.deepcopy(sent)
    assert stored.broadcasted_at is not None and not stored.replaced_tx_hashes
    client.call("anvil_dropTransaction", [sent.tx_hash])  # the node lost it
    set_balance(client, poor.address, worst_case(sent) // 2)  # and now refuses it for insufficient funds
    restarted = HotWallet.from_key(POOR_KEY, 31337)
    gaps = NonceGapFiller(client, restarted)
    tracker = TransactionTracker(client, TrackerConfig(poll_interval=0.01, timeout=10, drop_check_after=0.0,
                                                       stuck_after=0.3), gaps=gaps)
    tracker.poll([stored])  # first sight of it: its wait starts now
    tracker.poll([stored])  # unknown: sent again, refused; no assume_sent: only broadcasted_at says "sent"
    assert state(stored) is TxState.broadcasted and stored.revert_reason is None
    assert tracker.stats.refused_resends == 1 and gaps.fillers == {}
    set_balance(client, poor.address, 10**18)
    client.call("evm_setAutomine", [True])
    tracker.track([stored])  # after stuck_after the same bytes go again, and land
    assert stored.tx_state is TxState.confirmed and stored.status is True
