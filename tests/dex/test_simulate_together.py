"""`CallRunner.simulate_together`: two call lists in one HTTP round trip, each simulated on its own; nothing to
run sends nothing."""

from __future__ import annotations

from vaultexec.chain.rpc import RetryPolicy, RPCClient
from vaultexec.dex.reads import CallRunner, ContractCall
from vaultexec.testing.anvil import launch_anvil

NOBODY = "0x00000000000000000000000000000000000000aa"


def test_two_call_lists_in_one_round_trip() -> None:
    with launch_anvil() as node:
        client = RPCClient(node.url)
        runner = CallRunner(client)
        calls = [ContractCall(NOBODY, b"\x01"), ContractCall(NOBODY, b"\x02", NOBODY)]
        before = client.stats.snapshot()
        together = runner.simulate_together((calls, "latest", 40), (calls[:1], "latest", 1))
        used = client.stats.since(before)
        assert together is not None
        first, second = together
        assert [r.success for r in first] == [True, True] and [r.success for r in second] == [True]
        assert used.http_round_trips == 1 and used.requests_by_method["eth_simulateV1"] == 2
        assert runner.use_simulate is True
        client.close()


def test_nothing_to_run_sends_nothing() -> None:
    client = RPCClient("http://127.0.0.1:9", retry=RetryPolicy(attempts=1))  # nothing listens there
    assert CallRunner(client).simulate_together(([], "latest", 40), ([], "latest", 1)) == ([], [])
    assert client.stats.total_requests == 0
