"""DNS and TLS failures are permanent (fail at once, clear message); a dropped connection stays transient."""

from __future__ import annotations

import socket
import ssl
import time

import pytest

from vaultexec.chain.rpc import RetryPolicy, RPCClient, classify_network_error
from vaultexec.errors import PermanentRPCError, TransientRPCError
from vaultexec.testing.anvil import AnvilInstance

UNRESOLVABLE = "nonexistent-host.invalid"  # RFC 6761: never resolves
SLOW_RETRY = RetryPolicy(attempts=6, initial_backoff=0.5, max_backoff=1.0, deadline=30.0)


def test_tls_to_a_plain_http_node_fails_at_once(plain_anvil: AnvilInstance) -> None:
    client = RPCClient(plain_anvil.url.replace("http://", "https://"), timeout=5, retry=SLOW_RETRY)
    started = time.monotonic()
    with pytest.raises(PermanentRPCError, match=r"TLS with https://127\.0\.0\.1:\d+ failed.*scheme"):
        client.call("eth_blockNumber")
    assert client.stats.retries == 0 and time.monotonic() - started < 2.0


def test_unknown_host_fails_at_once() -> None:
    try:
        socket.getaddrinfo(UNRESOLVABLE, 8545)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_AGAIN:
            pytest.skip("no DNS resolver answers here (temporary failure): nothing to tell apart")
    client = RPCClient(f"http://user:secret@{UNRESOLVABLE}:8545/key", timeout=5, retry=SLOW_RETRY)
    with pytest.raises(PermanentRPCError, match=f"Cannot resolve the host of http://{UNRESOLVABLE}:8545") as info:
        client.call("eth_blockNumber")
    assert client.stats.retries == 0
    assert "secret" not in str(info.value) and "key" not in str(info.value)


@pytest.mark.parametrize(("error", "permanent"), [
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), True),
    (socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), False),
    (ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed certificate"), True),
    (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), True),
    (ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), False),
    (ConnectionResetError(104, "Connection reset by peer"), False),
    (TimeoutError("timed out"), False),
])
def test_network_error_classes(error: OSError, permanent: bool) -> None:
    classified = classify_network_error(error, "https://node.example:443/secret-key")
    assert isinstance(classified, PermanentRPCError if permanent else TransientRPCError)
    assert not isinstance(classified, TransientRPCError if permanent else PermanentRPCError)
    assert "secret-key" not in str(classified)
