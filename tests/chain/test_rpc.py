"""RPC client on a real anvil: batching, counters, retries and fault classes via the fault proxy."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate

import pytest
from web3 import Web3

from vaultexec.chain.rpc import RetryPolicy, RPCClient, connect_web3, parse_retry_after
from vaultexec.errors import NodeRejectedError, PermanentRPCError, TransientHTTPError, TransientRPCError
from vaultexec.testing.anvil import AnvilInstance, find_free_port
from vaultexec.testing.faultproxy import Fault, FaultProxy

UNKNOWN_HASH = "0x" + "ab" * 32
DEV_ACCOUNT = Web3.to_checksum_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")


@pytest.fixture()
def proxy(plain_anvil: AnvilInstance) -> Iterator[FaultProxy]:
    with FaultProxy(plain_anvil.url) as p:
        yield p


@pytest.fixture()
def proxied(proxy: FaultProxy, fast_retry: RetryPolicy) -> Iterator[RPCClient]:
    rpc = RPCClient(proxy.url, timeout=10, retry=fast_retry)
    yield rpc
    rpc.close()


def test_batch_is_one_round_trip_with_per_method_counts(client: RPCClient) -> None:
    before = client.stats.snapshot()
    replies = client.batch([("eth_chainId", []), ("eth_blockNumber", []),
                            ("eth_getTransactionReceipt", [UNKNOWN_HASH]), ("eth_chainId", [])])
    used = client.stats.since(before)
    assert [r.value() for r in replies] == ["0x7a69", replies[1].result, None, "0x7a69"]
    assert int(replies[1].result, 16) >= 0
    assert used.http_round_trips == 1
    assert used.requests_by_method == {"eth_chainId": 2, "eth_blockNumber": 1, "eth_getTransactionReceipt": 1}
    assert used.total_requests == 4


def test_one_failed_request_does_not_spoil_the_batch(client: RPCClient) -> None:
    replies = client.batch([("no_suchMethod", []), ("eth_chainId", [])])
    assert replies[1].value() == "0x7a69"
    with pytest.raises(NodeRejectedError) as info:
        replies[0].value()
    assert info.value.code == -32601
    assert isinstance(info.value, PermanentRPCError)


def test_call_raises_permanent_error_without_retry(client: RPCClient) -> None:
    before = client.stats.snapshot()
    with pytest.raises(NodeRejectedError, match="eth_getBalance"):
        client.call("eth_getBalance", ["not an address", "latest"])
    assert client.stats.since(before).retries == 0


def test_web3_through_client_is_counted_and_sends_no_chain_id(client: RPCClient) -> None:
    w3 = connect_web3(client)
    before = client.stats.snapshot()
    assert w3.eth.block_number >= 0
    assert w3.eth.get_balance(DEV_ACCOUNT) > 0
    used = client.stats.since(before)
    assert used.requests_by_method == {"eth_blockNumber": 1, "eth_getBalance": 1}
    with w3.batch_requests() as batch:
        batch.add(w3.eth.get_block("latest"))
        batch.add(w3.eth.get_transaction_count(DEV_ACCOUNT))
        results = batch.execute()
    assert len(results) == 2
    assert client.stats.since(before).http_round_trips == 3


def test_http_500_is_retried(proxy: FaultProxy, proxied: RPCClient) -> None:
    proxy.inject(Fault.http_error(500), times=2)
    assert proxied.call("eth_chainId") == "0x7a69"
    assert proxied.stats.retries == 2
    assert proxied.stats.requests_by_method["eth_chainId"] == 3
    assert proxy.pending_faults() == 0


def test_429_honours_retry_after(proxy: FaultProxy, proxied: RPCClient) -> None:
    proxy.inject(Fault.rate_limited(retry_after="1"))
    started = time.monotonic()
    assert proxied.call("eth_chainId") == "0x7a69"
    assert time.monotonic() - started >= 1.0  # backoff alone would be 0.01 s
    assert proxied.stats.retries == 1


def test_dropped_connection_is_retried_on_a_new_connection(proxy: FaultProxy, proxied: RPCClient) -> None:
    assert proxied.call("eth_chainId") == "0x7a69"  # keep-alive connection is open now
    proxy.inject(Fault.drop())
    replies = proxied.batch([("eth_blockNumber", []), ("eth_chainId", [])])
    assert replies[1].value() == "0x7a69"
    assert proxied.stats.retries == 1


def test_persistent_fault_gives_up_as_transient(proxy: FaultProxy, proxied: RPCClient) -> None:
    proxy.inject(Fault.http_error(503), times=proxied.retry.attempts)
    with pytest.raises(TransientRPCError, match="after 5 attempts") as info:
        proxied.call("eth_chainId")
    assert isinstance(info.value.__cause__, TransientHTTPError)
    assert info.value.__cause__.status == 503


def test_http_4xx_is_permanent(proxy: FaultProxy, proxied: RPCClient) -> None:
    proxy.inject(Fault.http_error(403))
    with pytest.raises(PermanentRPCError, match="HTTP 403") as info:
        proxied.call("eth_chainId")
    assert proxied.stats.retries == 0
    assert "check the RPC URL" in str(info.value) and "b'" not in str(info.value)  # text, not a bytes repr


def test_http_404_with_an_empty_body_says_so() -> None:
    """A wrong path on a real HTTP server: 404, no body (http.server on loopback)."""

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        rpc = RPCClient(f"http://127.0.0.1:{server.server_port}/wrong/path")
        with pytest.raises(PermanentRPCError) as info:
            rpc.call("eth_chainId")
    finally:
        server.shutdown()
        server.server_close()
    message = str(info.value)
    assert message.startswith("HTTP 404 Not Found from http://127.0.0.1:") and "(empty body)" in message
    assert "b''" not in message


def test_connection_refused_is_transient() -> None:
    rpc = RPCClient(f"http://127.0.0.1:{find_free_port()}",
                    retry=RetryPolicy(attempts=2, initial_backoff=0.01))
    with pytest.raises(TransientRPCError, match="after 2 attempts"):
        rpc.call("eth_chainId")
    assert rpc.stats.requests_by_method["eth_chainId"] == 2


def test_url_credentials_never_in_messages() -> None:
    rpc = RPCClient(f"http://127.0.0.1:{find_free_port()}/v3/SECRETKEY", retry=RetryPolicy(attempts=1))
    with pytest.raises(TransientRPCError) as info:
        rpc.call("eth_chainId")
    assert "SECRETKEY" not in str(info.value) and "SECRETKEY" not in repr(rpc)


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    in_five = parse_retry_after(formatdate(time.time() + 5, usegmt=True))
    assert in_five is not None and 3.5 <= in_five <= 5.0
    assert parse_retry_after(formatdate(time.time() - 60, usegmt=True)) == 0.0


def test_proxy_stops_cleanly_with_open_keep_alive_connection(plain_anvil: AnvilInstance) -> None:
    proxy = FaultProxy(plain_anvil.url).start()
    rpc = RPCClient(proxy.url, retry=RetryPolicy(attempts=1))
    assert rpc.call("eth_chainId") == "0x7a69"
    started = time.monotonic()
    proxy.stop()
    assert time.monotonic() - started < 2
    with pytest.raises(TransientRPCError):
        rpc.call("eth_chainId")
