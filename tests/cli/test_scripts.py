"""The maintenance scripts in scripts/, run as a user would, against the world vault."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cli_helpers import HARNESS_VARIABLES, nonce
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.store import open_store
from vaultexec.testing.anvil import AnvilInstance, find_free_port
from vaultexec.testing.plugin import ASSET_MANAGER_KEY
from vaultexec.testing.world import World

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def run_script(name: str, args: list[str], key: str | None = None,
               input_text: str = "") -> subprocess.CompletedProcess[str]:
    # Only the harness's variables are kept: the test session's own lease directory (testing.plugin).
    harness = {k: v for k, v in os.environ.items() if k in HARNESS_VARIABLES}
    env = {"PATH": "/usr/bin:/bin", **harness, **({"VAULTEXEC_PRIVATE_KEY": key} if key else {})}
    return subprocess.run([sys.executable, str(SCRIPTS / name), *args], env=env, capture_output=True, text=True,
                          timeout=120, input=input_text)


def assert_one_line_failure(done: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    """Exit `code`, no traceback, and the last stderr line (the only one for a vaultexec error) names `needle`."""
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert needle in done.stderr.strip().splitlines()[-1], done.stderr


def v3_trade_args(anvil: AnvilInstance, world: World, vault: Contract, store_url: str) -> list[str]:
    """Buy WETH with 500 USDC on the 0.05 % V3 pool; the world's QuoterV2 is given (no registered deployment)."""
    return ["--rpc-url", anvil.url, "--vault", vault.address, "--base", world.weth.address, "--quote",
            world.usdc.address, "--router", world.swap_router.address, "--quoter", world.quoter_v2.address,
            "--pool", world.v3_pool("USDC", "WETH", 500), "--fee", "500", "--buy", "500", "--store", store_url]


def test_trade_one_pair_buys_on_v2(anvil: AnvilInstance, world: World, vault: Contract,
                                   asset_manager: LocalAccount, tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path}/s.db"
    done = run_script("trade_one_pair.py", [
        "--rpc-url", anvil.url, "--vault", vault.address, "--base", world.weth.address, "--quote",
        world.usdc.address, "--router", world.uniswap_v2_router.address, "--pool", world.v2_pair("USDC", "WETH"),
        "--kind", "uniswap_v2", "--fee", "0", "--buy", "500", "--store", store_url, "--yes"], key=ASSET_MANAGER_KEY)
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


def test_trade_one_pair_shows_the_plan_and_dry_run_sends_nothing(anvil: AnvilInstance, world: World,
                                                                  vault: Contract, asset_manager: LocalAccount,
                                                                  web3: Web3, tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path}/s.db"
    done = run_script("trade_one_pair.py", [*v3_trade_args(anvil, world, vault, store_url), "--dry-run"],
                      key=ASSET_MANAGER_KEY)
    assert done.returncode == 0, done.stderr
    assert "plan of trade #1" in done.stdout and "vault spends at most 500.000000 USDC" in done.stdout
    assert "minimum" in done.stdout and "nothing was signed or sent" in done.stdout
    assert nonce(web3, asset_manager.address) == 0
    assert open_store(store_url, vault.address).count() == 0


def test_trade_one_pair_asks_before_sending(anvil: AnvilInstance, world: World, vault: Contract,
                                            asset_manager: LocalAccount, web3: Web3, tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path}/s.db"
    args = v3_trade_args(anvil, world, vault, store_url)
    declined = run_script("trade_one_pair.py", args, key=ASSET_MANAGER_KEY, input_text="n\n")
    assert declined.returncode == 1, declined.stderr
    assert "plan of trade #1" in declined.stdout and "nothing was sent" in declined.stderr
    assert nonce(web3, asset_manager.address) == 0
    accepted = run_script("trade_one_pair.py", args, key=ASSET_MANAGER_KEY, input_text="y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "trade #1 success" in accepted.stdout
    assert open_store(store_url, vault.address).load(1).is_success()


def test_sweep_vault_without_a_key_is_one_line(anvil: AnvilInstance, world: World, vault: Contract) -> None:
    done = run_script("sweep_vault.py", ["--rpc-url", anvil.url, "--vault", vault.address, world.dai.address])
    assert_one_line_failure(done, 5, "No private key: set the environment variable VAULTEXEC_PRIVATE_KEY")
    assert world.dai.functions.balanceOf(vault.address).call() > 0


def test_trade_one_pair_refuses_a_bad_address(anvil: AnvilInstance, world: World, vault: Contract,
                                              tmp_path: Path) -> None:
    args = v3_trade_args(anvil, world, vault, f"sqlite:///{tmp_path}/s.db")
    args[args.index("--base") + 1] = "0x1"
    done = run_script("trade_one_pair.py", args, key=ASSET_MANAGER_KEY)
    assert_one_line_failure(done, 2, "argument --base: '0x1' is not an address")


def test_export_yesterday_refuses_a_bad_vault(tmp_path: Path) -> None:
    done = run_script("export_yesterday.py", ["--vault", "0xnope", "--store", f"sqlite:///{tmp_path}/e.db",
                                              "--out", str(tmp_path)])
    assert_one_line_failure(done, 2, "error (bad input): Vault address '0xnope'")
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_script_with_the_node_down_prints_one_line(tmp_path: Path) -> None:
    """RPC retries are logged quietly, as in the CLI: the error line is all there is."""
    dead = f"http://127.0.0.1:{find_free_port()}"
    done = run_script("sweep_vault.py", ["--rpc-url", dead, "--vault", "0x" + "12" * 20, "0x" + "13" * 20],
                      key=ASSET_MANAGER_KEY)
    assert_one_line_failure(done, 4, "still failing after")
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_script_with_verbose_shows_the_retries_and_the_traceback() -> None:
    dead = f"http://127.0.0.1:{find_free_port()}"
    done = run_script("sweep_vault.py", ["--rpc-url", dead, "--vault", "0x" + "12" * 20, "0x" + "13" * 20,
                                         "--verbose"], key=ASSET_MANAGER_KEY)
    assert done.returncode == 4, done.stderr
    assert "eth_getCode attempt 1" in done.stderr and "Traceback" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error (RPC): ")


def test_sweep_vault_refuses_a_contract_that_is_not_a_vault(anvil: AnvilInstance, world: World,
                                                            owner_key: str) -> None:
    """A router has no owner(); a token of the world has one (Ownable) but is no vault either."""
    for not_a_vault in (world.swap_router.address, world.dai.address):
        done = run_script("sweep_vault.py", ["--rpc-url", anvil.url, "--vault", not_a_vault, world.dai.address],
                          key=owner_key)
        assert_one_line_failure(done, 3, f"{not_a_vault} does not answer the vault's assetManager(): it is not a "
                                         "vault")
