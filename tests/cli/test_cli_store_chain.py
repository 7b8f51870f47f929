"""After a local chain restarts, the store of the old chain is refused, not shown as this vault's trades."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import assert_one_line_error, run_cli
from web3.contract import Contract

from vaultexec.store import open_store
from vaultexec.store.chainbinding import CHAIN_KEY


def test_a_store_of_a_previous_chain_is_refused(cli_env: dict[str, str], world_config: Path, vault: Contract,
                                                 store_url: str) -> None:
    store = open_store(store_url, vault.address)  # as a `vaultexec world` before the restart left it
    store.set_metadata_if_absent(CHAIN_KEY, "31337:0x" + "ab" * 32)
    store.close()
    status = run_cli(["status"], cli_env)
    assert_one_line_error(status, 3, "another chain", "genesis block 0xabab", "Use a new store")
    trade = run_cli(["trade", "WETH/USDC", "buy", "100", "--fee", "500", "--config", str(world_config), "--dry-run"],
                    cli_env)
    assert_one_line_error(trade, 3, "another chain")
    export = run_cli(["export-csv", "--output", "-"], cli_env)  # reads the file only: no chain check
    assert export.code == 0, export.output

    fresh = {**cli_env, "VAULTEXEC_STORE": store_url.replace("store.db", "fresh.db")}
    assert run_cli(["status", "--json"], fresh).code == 0
