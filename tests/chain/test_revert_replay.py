"""The eth_call replay of a failed transaction: a node error (pruned state...) is not an "empty revert"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from vaultexec.chain.revert import fetch_revert
from vaultexec.chain.rpc import RPCClient
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.faultproxy import FaultProxy

from test_revert import ECHO_REVERTER, error_string  # isort: skip

PRUNED = {"code": -32000, "message": "missing trie node 1e5f0c (path ) state 0x1e5f0c is not available"}


class FailingCalls(FaultProxy):
    """Forwards to the node, but answers every eth_call with `error` (a node that cannot replay)."""

    error: dict[str, Any] | None = None

    def rewrite_reply(self, request: dict[str, Any], reply: dict[str, Any]) -> None:
        if request.get("method") == "eth_call" and self.error is not None:
            reply.pop("result", None)
            reply["error"] = self.error


@pytest.fixture()
def failing_calls(plain_anvil: AnvilInstance) -> Iterator[FailingCalls]:
    with FailingCalls(plain_anvil.url) as proxy:
        yield proxy


def test_node_error_during_replay_is_reported_as_such(client: RPCClient, dev_chain: Any,
                                                      failing_calls: FailingCalls) -> None:
    reverter = dev_chain.deploy_runtime(ECHO_REVERTER)
    tx_hash = dev_chain.send(reverter, "0x", gas=100_000)  # reverts with empty data
    assert dev_chain.wait_receipt(tx_hash)["status"] == "0x0"
    proxied = RPCClient(failing_calls.url)
    assert fetch_revert(proxied, tx_hash, use_trace=False).kind == "empty"  # a real empty revert
    failing_calls.error = PRUNED
    decoded = fetch_revert(proxied, tx_hash, use_trace=False)
    assert decoded.kind == "unknown"
    assert str(decoded) == f"could not replay: {PRUNED['message']}"


def test_revert_answer_is_still_decoded_through_the_proxy(client: RPCClient, dev_chain: Any,
                                                          failing_calls: FailingCalls) -> None:
    reverter = dev_chain.deploy_runtime(ECHO_REVERTER)
    tx_hash = dev_chain.send(reverter, "0x" + error_string("STF").hex(), gas=100_000)
    dev_chain.wait_receipt(tx_hash)
    failing_calls.error = {"code": 3, "message": "execution reverted: STF",
                           "data": "0x" + error_string("STF").hex()}
    decoded = fetch_revert(RPCClient(failing_calls.url), tx_hash, use_trace=False)
    assert decoded.kind == "error_string" and decoded.args == {"reason": "STF"} and decoded.approximate
