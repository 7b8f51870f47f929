"""With Redis down, the read-only `status` says nothing was written (it never talks about writes)."""

from __future__ import annotations

from cli_helpers import assert_one_line_error, run_cli

from vaultexec.testing.process import find_free_port


def test_status_with_redis_down_says_nothing_was_written() -> None:
    url = f"redis://127.0.0.1:{find_free_port()}/0"
    result = run_cli(["status", "--vault", "0x" + "11" * 20, "--store", url], {})
    assert_one_line_error(result, 10, "Redis store unreachable", "Nothing was written")
    assert "If this was a write" not in result.stderr
