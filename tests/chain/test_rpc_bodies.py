"""Big batches: RPCClient.batch splits a body anvil would refuse (~2 MiB) into several, transparently."""

from __future__ import annotations

from vaultexec.chain.rpc import DEFAULT_MAX_BODY_BYTES, RetryPolicy, RPCClient
from vaultexec.errors import TransientRPCError
from vaultexec.testing.anvil import AnvilInstance

IDENTITY = "0x0000000000000000000000000000000000000004"  # precompile: returns its input


def _echo_calls(count: int, size: int) -> list[tuple[str, list[object]]]:
    """`count` eth_calls of `size` bytes each, every one with its own content (to check the order)."""
    return [("eth_call", [{"to": IDENTITY, "data": "0x" + f"{n:04x}" * (size // 2)}, "latest"])
            for n in range(count)]


def test_anvil_refuses_an_unsplit_big_body(plain_anvil: AnvilInstance) -> None:
    """Anvil answers "Invalid request", or (when it answers before reading the whole body) closes the
    connection under the sender: a broken pipe or reset, retried and given up on."""
    unsplit = RPCClient(plain_anvil.url, max_body_bytes=10**9, retry=RetryPolicy(attempts=2, initial_backoff=0.01))
    try:
        replies = unsplit.batch(_echo_calls(30, 100_000))  # ~6 MB of hex in one body
    except TransientRPCError as exc:
        assert isinstance(exc.__cause__, TransientRPCError)
        assert isinstance(exc.__cause__.__cause__, BrokenPipeError | ConnectionResetError)
        return
    assert all(r.error is not None and "Invalid request" in r.error.rpc_message for r in replies)


def test_big_batch_is_split_and_answered_in_order(plain_anvil: AnvilInstance) -> None:
    client = RPCClient(plain_anvil.url)
    calls = _echo_calls(30, 100_000)
    replies = client.batch(calls)
    assert [r.value() for r in replies] == [c[1][0]["data"] for c in calls]  # type: ignore[index]
    body = sum(len(str(c[1][0])) for c in calls)
    assert client.stats.http_round_trips >= body // DEFAULT_MAX_BODY_BYTES + 1
    assert client.stats.requests_by_method["eth_call"] == 30


def test_split_follows_the_configured_limit_and_keeps_node_errors_per_request(plain_anvil: AnvilInstance) -> None:
    client = RPCClient(plain_anvil.url, max_body_bytes=2_000)
    calls: list[tuple[str, list[object]]] = []
    for n in range(40):
        calls.append(("eth_call", [{"to": IDENTITY, "data": "0x" + f"{n:02x}" * 300}, "latest"]))
        calls.append(("eth_getBalance", ["not an address", "latest"]))
    replies = client.batch(calls)
    assert client.stats.http_round_trips == 20  # an eth_call ~700 bytes + a bad request ~90: two pairs a body
    for n in range(40):
        assert replies[2 * n].value() == "0x" + f"{n:02x}" * 300
        assert replies[2 * n + 1].error is not None


def test_small_batch_stays_one_round_trip(plain_anvil: AnvilInstance) -> None:
    client = RPCClient(plain_anvil.url)
    replies = client.batch([("eth_blockNumber", [])] * 500)
    assert len(replies) == 500 and client.stats.http_round_trips == 1
