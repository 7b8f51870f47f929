"""The maintenance scripts in scripts/, run as a user would, against the world vault."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from vaultexec.store import open_store
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.plugin import ASSET_MANAGER_KEY
from vaultexec.testing.world import World

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def run_script(name: str, args: list[str], key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", **({"VAULTEXEC_PRIVATE_KEY": key} if key else {})}
    return subprocess.run([sys.executable, str(SCRIPTS / name), *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_trade_one_pair_buys_on_v2(anvil: AnvilInstance, world: World, vault: Contract,
                                   asset_manager: LocalAccount, tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path}/s.db"
    done = run_script("trade_one_pair.py", [
        "--rpc-url", anvil.url, "--vault", vault.address, "--base", world.weth.address, "--quote",
        world.usdc.address, "--router", world.uniswap_v2_router.address, "--pool", world.v2_pair("USDC", "WETH"),
        "--kind", "uniswap_v2", "--fee", "0", "--buy", "500", "--store", store_url], key=ASSET_MANAGER_KEY)
    assert done.returncode == 0, done.stderr
    assert "trade #1 success" in done.stdout
    assert open_store(store_url, vault.address).load(1).is_success()


def test_sweep_vault_pays_the_owner(anvil: AnvilInstance, world: World, vault: Contract, owner_key: str) -> None:
    held = world.dai.functions.balanceOf(vault.address).call()
    owner_before = world.dai.functions.balanceOf(world.deployer).call()
    done = run_script("sweep_vault.py", ["--rpc-url", anvil.url, "--vault", vault.address, world.dai.address],
                      key=owner_key)
    assert done.returncode == 0, done.stderr
    assert world.dai.functions.balanceOf(vault.address).call() == 0
    assert world.dai.functions.balanceOf(world.deployer).call() == owner_before + held


def test_sweep_vault_refuses_a_non_owner(anvil: AnvilInstance, world: World, vault: Contract) -> None:
    done = run_script("sweep_vault.py", ["--rpc-url", anvil.url, "--vault", vault.address, world.dai.address],
                      key=ASSET_MANAGER_KEY)
    assert done.returncode != 0
    assert "is not the owner" in done.stderr
    assert world.dai.functions.balanceOf(vault.address).call() > 0


def test_export_yesterday_with_no_trades(tmp_path: Path) -> None:
    vault = "0x" + "12" * 20
    done = run_script("export_yesterday.py", ["--vault", vault, "--store", f"sqlite:///{tmp_path}/e.db",
                                              "--out", str(tmp_path)])
    assert done.returncode == 0, done.stderr
    assert "No settled trade on" in done.stdout
    (written,) = tmp_path.glob("trades-*.csv")
    assert written.read_text().startswith("trade_id,opened_at")
