"""`vaultexec world` serves a local world that the other commands can use; Ctrl-C stops it and anvil."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest
from cli_helpers import VAULTEXEC, run_cli
from eth_account import Account


def test_world_serves_trades_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    key = Account.create().key.hex()
    config = tmp_path / "world.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULTEXEC_")}
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
