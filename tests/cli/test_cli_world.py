"""`vaultexec world` serves a local world that the other commands can use; Ctrl-C, SIGTERM or SIGHUP stop it
and its anvil."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest
from cli_helpers import VAULTEXEC, clean_env, finish, run_cli, start_cli
from eth_account import Account


def test_world_serves_trades_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    key = Account.create().key.hex()
    config = tmp_path / "world.json"
    env = clean_env({})  # the session's lease directory kept: parallel sessions share chain id and vault
    server = subprocess.Popen([VAULTEXEC, "world", "--config-out", str(config)], env={
        **env, "VAULTEXEC_PRIVATE_KEY": key}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        exports = dict(server.stdout.readline().strip().removeprefix("export ").split("=", 1) for _ in range(2))
        assert set(exports) == {"VAULTEXEC_RPC_URL", "VAULTEXEC_VAULT"}
        dry = run_cli(["trade", "WETH/USDC", "buy", "1000", "--fee", "500", "--config", str(config), "--dry-run"],
                      {**exports, "VAULTEXEC_PRIVATE_KEY": key, "VAULTEXEC_STORE": f"sqlite:///{tmp_path}/w.db"})
        assert dry.code == 0, dry.output
        assert "ok (" in dry.stdout
    finally:
        server.send_signal(signal.SIGINT)
        code = server.wait(timeout=30)
    assert code == 0, server.stderr.read() if server.stderr else ""
    with pytest.raises(OSError):
        urllib.request.urlopen(exports["VAULTEXEC_RPC_URL"], data=b"{}", timeout=2)


def anvil_children(pid: int) -> list[int]:
    listed = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in listed.splitlines() if "anvil" in line]


def anvil_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP])
def test_world_stops_anvil_on_sigterm_and_sighup(stop: signal.Signals, tmp_path: Path) -> None:
    server = start_cli(["world", "--config-out", str(tmp_path / "world.json")],
                       {"VAULTEXEC_PRIVATE_KEY": Account.create().key.hex()})
    anvils: list[int] = []
    try:
        assert server.stdout is not None
        rpc_url = server.stdout.readline().strip().split("=", 1)[1]
        anvils = anvil_children(server.pid)
        assert len(anvils) == 1
        server.send_signal(stop)
        result = finish(server, timeout=30)
        still_running = [pid for pid in anvils if anvil_alive(pid)]
    finally:
        if server.poll() is None:
            server.kill()
        for pid in anvils:  # never leave an orphan behind, even when the test fails
            if anvil_alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert result.code == 0, result.output
    assert "Stopping the world" in result.stderr
    assert still_running == []
    with pytest.raises(OSError):
        urllib.request.urlopen(rpc_url, data=b"{}", timeout=2)
