"""The anvil launcher: start, answer, stop without orphans, clear errors."""

from __future__ import annotations

import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vaultexec.errors import ToolchainError
from vaultexec.testing.anvil import ANVIL_ENV_VAR, find_anvil, launch_anvil, start_anvil
from vaultexec.testing.process import is_process_alive


def test_launch_answers_and_stops_cleanly() -> None:
    with launch_anvil(chain_id=4242) as node:
        assert node.rpc("eth_chainId") == hex(4242)
        pid = node.process.pid if node.process else 0
        assert is_process_alive(pid)
    assert not is_process_alive(pid)


def test_options_reach_anvil() -> None:
    with launch_anvil(automine=False, base_fee=7_000_000_000, gas_limit=12_345_678) as node:
        block = node.rpc("eth_getBlockByNumber", ["latest", False])
        assert int(block["gasLimit"], 16) == 12_345_678
        assert int(block["baseFeePerGas"], 16) == 7_000_000_000
        before = int(node.rpc("eth_blockNumber"), 16)
        node.rpc("eth_sendTransaction", [{"from": node.rpc("eth_accounts")[0], "to": "0x" + "11" * 20,
                                          "value": "0x1"}])
        assert int(node.rpc("eth_blockNumber"), 16) == before  # automine off: nothing mined


def test_two_launchers_get_different_ports() -> None:
    with launch_anvil() as first, launch_anvil() as second:
        assert first.port != second.port
        assert first.rpc("eth_blockNumber") == second.rpc("eth_blockNumber") == "0x0"


def test_port_clash_gives_clear_error() -> None:
    with launch_anvil() as first, pytest.raises(ToolchainError, match=rf"port {first.port} .* already in use"):
        start_anvil(port=first.port)


def test_bad_binary_from_env_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ANVIL_ENV_VAR, str(tmp_path / "no-such-anvil"))
    with pytest.raises(ToolchainError, match=r"is not an executable file.*npm ci"):
        find_anvil()


def test_failing_binary_error_includes_its_output(tmp_path: Path) -> None:
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\necho 'error: something broke in anvil' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(ToolchainError, match=r"(?s)exited with code 3.*something broke in anvil"):
        start_anvil(binary=str(fake))


def test_bad_option_error_includes_anvil_output() -> None:
    with pytest.raises(ToolchainError, match=r"(?s)exited with code \d+.*"):
        start_anvil(hardfork="not-a-hardfork")


def test_no_orphan_when_the_owning_process_is_killed(tmp_path: Path) -> None:
    """A test process that dies (here: exits on an exception) still leaves no anvil behind."""
    script = tmp_path / "owner.py"
    script.write_text(textwrap.dedent("""
        import sys
        from vaultexec.testing.anvil import launch_anvil
        with launch_anvil() as node:
            print(node.process.pid, flush=True)
            raise SystemExit("test failed inside the with block")
    """))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    pid = int(result.stdout.split()[0])
    assert result.returncode != 0
    assert not is_process_alive(pid)


def test_fork_of_another_anvil_sees_its_state() -> None:
    with launch_anvil() as base:
        account = base.rpc("eth_accounts")[0]
        base.rpc("eth_sendTransaction", [{"from": account, "to": "0x" + "22" * 20, "value": hex(12345)}])
        with launch_anvil(fork_url=base.url, chain_id=None) as fork:
            assert fork.rpc("eth_getBalance", ["0x" + "22" * 20, "latest"]) == hex(12345)
            assert fork.rpc("eth_chainId") == base.rpc("eth_chainId")


def test_dev_keys_are_anvils_accounts() -> None:
    from eth_account import Account

    from vaultexec.testing.anvil import DEV_PRIVATE_KEYS

    with launch_anvil() as node:
        accounts = node.rpc("eth_accounts")
    derived = [Account.from_key(key).address.lower() for key in DEV_PRIVATE_KEYS]
    assert derived == [address.lower() for address in accounts[: len(DEV_PRIVATE_KEYS)]]


def test_concurrent_launches_each_talk_to_their_own_node() -> None:
    """Anvil binds port 0 itself and reports it: launchers racing for ports never share a node."""
    from concurrent.futures import ThreadPoolExecutor

    def launch(chain_id: int) -> tuple[int, str, int]:
        node = start_anvil(chain_id=chain_id)
        try:
            return chain_id, node.rpc("eth_chainId"), node.port
        finally:
            node.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(launch, range(7001, 7007)))
    assert all(answered == hex(chain_id) for chain_id, answered, _ in results)
