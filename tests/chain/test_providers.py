"""Several providers in front of one anvil: lagging, failing and healthy readers; a private send endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chain_wallets import funded_wallet, sign

from vaultexec.chain.broadcast import TrackerConfig, TransactionTracker
from vaultexec.chain.providers import ProviderConfig, ProviderSet
from vaultexec.chain.rpc import RetryPolicy, RPCClient
from vaultexec.errors import ConfigurationError, TransientRPCError
from vaultexec.model.transaction import TxState
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.faultproxy import Fault, FaultProxy
from vaultexec.testing.providerproxies import LaggingProxy, RecordingProxy

RETRY = RetryPolicy(attempts=4, initial_backoff=0.01, max_backoff=0.05, deadline=10.0)


@pytest.fixture()
def lagging(client: RPCClient, plain_anvil: AnvilInstance) -> Iterator[LaggingProxy]:
    with LaggingProxy(plain_anvil.url, head=int(client.call("eth_blockNumber"), 16)) as proxy:
        yield proxy


@pytest.fixture()
def failing(plain_anvil: AnvilInstance) -> Iterator[RecordingProxy]:
    with RecordingProxy(plain_anvil.url) as proxy:
        yield proxy


@pytest.fixture()
def healthy(plain_anvil: AnvilInstance) -> Iterator[RecordingProxy]:
    with RecordingProxy(plain_anvil.url) as proxy:
        yield proxy


def test_batch_settles_exactly_and_the_lagging_provider_is_never_believed(
        client: RPCClient, lagging: LaggingProxy, failing: RecordingProxy, healthy: RecordingProxy) -> None:
    providers = ProviderSet([lagging.url, failing.url, healthy.url], config=ProviderConfig(max_lag_blocks=1),
                            retry=RETRY)
    wallet = funded_wallet(client, 0x19A)
    client.call("anvil_mine", ["0x5"])
    lagging.head = int(client.call("eth_blockNumber"), 16) - 3  # 3 blocks behind, its limit is 1
    start = wallet.sync_nonce(providers)
    txs = sign(providers, wallet, 5)
    failing.inject(Fault.http_error(503), Fault.drop(), times=40)
    tracker = TransactionTracker(providers, TrackerConfig(poll_interval=0.01, timeout=20, stuck_after=0.5,
                                                         nonce_consumed_after=0.05, nonce_consumed_blocks=0),
                                 resign=wallet.resign_with_fees)
    tracker.send_and_track(txs)

    assert [tx.tx_state for tx in txs] == [TxState.confirmed] * 5
    assert int(client.call("eth_getTransactionCount", [wallet.address, "latest"]), 16) == start + 5
    for tx in txs:
        assert client.call("eth_getTransactionReceipt", [tx.tx_hash])["blockHash"] == tx.block_hash
    # the lagging node answered "no receipt, nonce unused, unknown hash" all along: none of it was used
    assert (tracker.stats.rebroadcasts, tracker.stats.replacements, tracker.stats.nonce_consumed) == (0, 0, 0)
    counters = providers.counters()
    assert counters[f"read {lagging.url}"].lag_rejections > 0
    assert counters[f"read {failing.url}"].failures > 0
    assert counters[f"read {healthy.url}"].answers > 0
    assert failing.faults_applied  # the failing one was asked, and failed over from


def test_every_raw_transaction_and_its_replacement_reach_only_the_private_endpoint(
        client: RPCClient, manual_mining: None, plain_anvil: AnvilInstance, healthy: RecordingProxy,
        failing: RecordingProxy) -> None:
    with RecordingProxy(plain_anvil.url) as private:
        providers = ProviderSet([healthy.url, failing.url], send_urls=[private.url], retry=RETRY)
        wallet = funded_wallet(client, 0x19B)
        wallet.sync_nonce(providers)
        txs = sign(providers, wallet, 3)
        first_hashes = [tx.tx_hash for tx in txs]
        tracker = TransactionTracker(providers, TrackerConfig(poll_interval=0.01, timeout=20, stuck_after=0.05,
                                                             max_replacements=1), resign=wallet.resign_with_fees)
        tracker.broadcast(txs)
        while tracker.stats.replacements < 3:  # nothing is mined: each one gets stuck and is replaced once
            tracker.poll(txs)
        client.call("evm_mine")
        tracker.track(txs)

        assert all(tx.tx_state is TxState.confirmed for tx in txs)
        assert all(tx.tx_hash not in first_hashes for tx in txs)  # the replacements landed
        sent = [tx.get_all_tx_hashes() for tx in txs]
        assert all(len(hashes) == 2 for hashes in sent)
        signed = {raw for raw in private.raw_transactions}
        assert len(signed) == 6  # three first versions and three fee bumps, all to the private endpoint
        assert private.bodies_with_sends == 2  # each round in one batch
        assert healthy.raw_transactions == [] and failing.raw_transactions == []


def test_private_endpoint_down_does_not_fall_back_to_public_unless_allowed(
        client: RPCClient, plain_anvil: AnvilInstance, healthy: RecordingProxy) -> None:
    down = FaultProxy(plain_anvil.url)
    down.inject(Fault.http_error(502), times=100)
    with down:
        wallet = funded_wallet(client, 0x19C)
        strict = ProviderSet([healthy.url], send_urls=[down.url], retry=RETRY)
        wallet.sync_nonce(strict)
        txs = sign(strict, wallet, 2)
        with pytest.raises(TransientRPCError, match="send endpoints answered"):
            strict.batch([("eth_sendRawTransaction", [tx.signed_bytes]) for tx in txs])
        assert healthy.raw_transactions == []
        lenient = ProviderSet([healthy.url], send_urls=[down.url], retry=RETRY,
                              config=ProviderConfig(allow_public_send=True))
        replies = lenient.batch([("eth_sendRawTransaction", [tx.signed_bytes]) for tx in txs])
        assert [r.value() for r in replies] == [tx.tx_hash for tx in txs]
        assert len(healthy.raw_transactions) == 2


def test_messages_redact_every_url(plain_anvil: AnvilInstance) -> None:
    secret = "http://user:hunter2@127.0.0.1:9/v3/KEY123"
    providers = ProviderSet([secret], send_urls=["http://127.0.0.1:9/private/KEY456"],
                            retry=RetryPolicy(attempts=1))
    with pytest.raises(TransientRPCError) as caught:
        providers.call("eth_blockNumber")
    text = str(caught.value) + repr(providers) + " ".join(providers.counters())
    assert "hunter2" not in text and "KEY123" not in text and "KEY456" not in text
    assert "127.0.0.1:9" in text


class OtherChainProxy(RecordingProxy):
    """A provider of another chain (a wrong URL in the list)."""

    def rewrite_reply(self, request: dict[str, object], reply: dict[str, object]) -> None:
        if request.get("method") == "eth_chainId":
            reply["result"] = hex(137)


def test_a_provider_on_another_chain_is_refused_by_name(plain_anvil: AnvilInstance,
                                                        healthy: RecordingProxy) -> None:
    with OtherChainProxy(plain_anvil.url) as other:
        providers = ProviderSet([healthy.url], send_urls=[f"{other.url}/relay/KEY789"], retry=RETRY)
        with pytest.raises(ConfigurationError, match=rf"send {other.url} is on chain 137") as refused:
            providers.check_chain_ids()
        assert "KEY789" not in str(refused.value)
        with pytest.raises(ConfigurationError, match=rf"read {other.url} is on chain 137"):
            ProviderSet([healthy.url, other.url], retry=RETRY).check_chain_ids(31337)
        assert ProviderSet([healthy.url], send_urls=[healthy.url], retry=RETRY).check_chain_ids(31337) == 31337


def test_a_rewound_chain_is_followed(client: RPCClient, healthy: RecordingProxy, failing: RecordingProxy) -> None:
    """Heads are each provider's latest answer, not an all-time high: after evm_revert (a dev chain rewound
    on purpose) every provider is behind the old high, and all must still be asked."""
    providers = ProviderSet([healthy.url, failing.url], config=ProviderConfig(max_lag_blocks=1), retry=RETRY)
    snapshot = client.call("evm_snapshot")
    client.call("anvil_mine", ["0x5"])
    high = int(providers.call("eth_blockNumber"), 16)
    client.call("evm_revert", [snapshot])
    assert int(providers.call("eth_blockNumber"), 16) == high - 5
    assert providers.best_head == high - 5
