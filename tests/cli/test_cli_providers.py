"""Several read URLs and a private send URL on the command line: failover, and every URL redacted."""

from __future__ import annotations

from vaultexec.testing.anvil import AnvilInstance, find_free_port

from cli_helpers import assert_one_line_error, run_cli  # isort: skip


def test_a_dead_first_provider_is_failed_over_and_no_url_secret_is_printed(
        cli_env: dict[str, str], anvil: AnvilInstance) -> None:
    dead = f"http://user:pa55word@127.0.0.1:{find_free_port()}/v3/APIKEY1"
    env = {**cli_env, "VAULTEXEC_RPC_URL": f"{dead},{anvil.url}",
           "VAULTEXEC_SEND_URL": f"http://127.0.0.1:{find_free_port()}/relay/APIKEY2"}
    result = run_cli(["status", "-v"], env)
    assert result.code == 0, result.output
    assert "chain 31337" in result.stdout or "owner" in result.stdout
    assert "failed" in result.stderr  # the failover is logged, redacted
    for secret in ("pa55word", "APIKEY1", "APIKEY2"):
        assert secret not in result.output

    down = {**env, "VAULTEXEC_RPC_URL": f"{dead},http://127.0.0.1:{find_free_port()}/x/APIKEY3"}
    failed = run_cli(["status"], down)
    assert failed.code != 0
    assert_one_line_error(failed, failed.code, "No provider answered eth_chainId")
    for secret in ("pa55word", "APIKEY1", "APIKEY3"):
        assert secret not in failed.output
