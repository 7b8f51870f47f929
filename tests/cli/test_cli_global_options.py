"""Global options work after the subcommand name too, and there they win over the same option before it."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from cli_helpers import assert_one_line_error, nonce, run_cli
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3

from vaultexec.cli import commands  # noqa: F401  (registers the commands)
from vaultexec.cli.app import GLOBAL_OPTIONS, cli, secret_env_var_names
from vaultexec.cli.globalopts import AFTER_SECTION, GlobalOptionsCommand, GlobalOptionsGroup
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.plugin import ASSET_MANAGER_KEY

VAULT_A = "0x000000000000000000000000000000000000dEaD"
VAULT_B = "0x000000000000000000000000000000000000bEEF"
DRY_BUY = ["trade", "WETH/USDC", "buy", "1000", "--fee", "500", "--dry-run"]


def status_json(args: list[str], env: dict[str, str]) -> dict[str, object]:
    result = run_cli(args, env)
    assert result.code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_every_command_accepts_every_global_option() -> None:
    global_flags = {flag for option in GLOBAL_OPTIONS for flag in option.decls if flag.startswith("-")}
    assert len(global_flags) == 11
    assert cli.commands
    for name, command in cli.commands.items():
        flags = {flag for param in command.params if isinstance(param, click.Option) for flag in param.opts}
        assert global_flags <= flags, (name, global_flags - flags)


def test_command_help_lists_global_options_and_precedence() -> None:
    result = run_cli(["status", "--help"], {})
    assert result.code == 0, result.output
    assert AFTER_SECTION in result.stdout
    section = result.stdout.split(AFTER_SECTION, 1)[1]
    for flag in ("--rpc-url", "--private-key-env", "--keystore-password-env", "--vault", "--store",
                 "--chain-id", "--verbose"):
        assert flag in section
    group_help = run_cli(["--help"], {})
    assert "they win over" in " ".join(group_help.stdout.split())


def test_vault_and_store_after_the_command(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/after.db"
    document = status_json(["status", "--json", "--vault", VAULT_A, "--store", store], {})
    assert document["vault"] == VAULT_A
    assert document["store"] == store
    assert (tmp_path / "after.db").exists()


def test_after_wins_over_before_which_wins_over_env(tmp_path: Path) -> None:
    env_store, before_store, after_store = (f"sqlite:///{tmp_path}/{n}.db" for n in ("env", "before", "after"))
    env = {"VAULTEXEC_VAULT": VAULT_A, "VAULTEXEC_STORE": env_store}
    from_env = status_json(["status", "--json"], env)
    assert (from_env["vault"], from_env["store"]) == (VAULT_A, env_store)
    before = status_json(["--vault", VAULT_B, "--store", before_store, "status", "--json"], env)
    assert (before["vault"], before["store"]) == (VAULT_B, before_store)
    both = status_json(["--vault", VAULT_B, "--store", before_store, "status", "--json", "--vault", VAULT_A,
                        "--store", after_store], env)
    assert (both["vault"], both["store"]) == (VAULT_A, after_store)
    # An option not repeated after the command keeps the value given before it.
    mixed = status_json(["--vault", VAULT_B, "status", "--store", after_store, "--json"], env)
    assert (mixed["vault"], mixed["store"]) == (VAULT_B, after_store)


def test_rpc_url_after_the_command_reads_the_chain(anvil: AnvilInstance, cli_env: dict[str, str]) -> None:
    env = {k: v for k, v in cli_env.items() if k != "VAULTEXEC_RPC_URL"}
    offline = status_json(["status", "--json"], env)
    assert offline["onchain"] is None
    online = status_json(["status", "--json", "--rpc-url", anvil.url], env)
    assert isinstance(online["onchain"], dict)
    assert online["onchain"]["chain_id"] == 31337
    # The world vault's loss bound and what is left of its budget (nothing traded yet: all of it).
    assert online["onchain"]["loss_bound"] == {"active": True, "cap_bps": 500, "budget": "250000",
                                               "refill_period": 86400, "budget_left": "250000"}


def test_rpc_url_after_wins_over_a_dead_one_before(anvil: AnvilInstance, cli_env: dict[str, str]) -> None:
    dead = "http://127.0.0.1:9"
    result = run_cli(["--rpc-url", dead, "status", "--json", "--rpc-url", anvil.url], cli_env)
    assert result.code == 0, result.output
    reversed_order = run_cli(["--rpc-url", anvil.url, "status", "--json", "--rpc-url", dead], cli_env)
    assert_one_line_error(reversed_order, 4, "Cannot use the RPC node")


def test_chain_id_after_the_command(cli_env: dict[str, str], world_config: Path, web3: Web3,
                                    asset_manager: LocalAccount) -> None:
    before = nonce(web3, asset_manager.address)
    result = run_cli([*DRY_BUY, "--config", str(world_config), "--chain-id", "1"], cli_env)
    assert_one_line_error(result, 3, "Wrong chain", "chain 31337", "--chain-id says 1")
    right = run_cli(["--chain-id", "1", *DRY_BUY, "--config", str(world_config), "--chain-id", "31337"], cli_env)
    assert right.code == 0, right.output
    assert nonce(web3, asset_manager.address) == before


def test_private_key_env_after_the_command(cli_env: dict[str, str], world_config: Path) -> None:
    env = {k: v for k, v in cli_env.items() if k != "VAULTEXEC_PRIVATE_KEY"}
    env["MY_MANAGER_KEY"] = ASSET_MANAGER_KEY
    missing = run_cli([*DRY_BUY, "--config", str(world_config)], env)
    assert_one_line_error(missing, 5, "VAULTEXEC_PRIVATE_KEY")
    result = run_cli([*DRY_BUY, "--config", str(world_config), "--private-key-env", "MY_MANAGER_KEY"], env)
    assert result.code == 0, result.output
    assert "ok (" in result.stdout
    overridden = run_cli(["--private-key-env", "MY_MANAGER_KEY", *DRY_BUY, "--config", str(world_config),
                          "--private-key-env", "UNSET_KEY_VAR"], env)
    assert_one_line_error(overridden, 5, "UNSET_KEY_VAR")


def test_key_pasted_after_the_command_is_refused_and_never_echoed(cli_env: dict[str, str],
                                                                  world_config: Path) -> None:
    for flag in ("--private-key-env", "--keystore-password-env"):
        args = [*DRY_BUY, "--config", str(world_config), flag, ASSET_MANAGER_KEY]
        if flag == "--keystore-password-env":
            args += ["--keystore", str(world_config)]
        result = run_cli(args, cli_env)
        assert_one_line_error(result, 2, f"{flag} takes the NAME")
        assert ASSET_MANAGER_KEY.removeprefix("0x") not in result.output.lower()


def test_keystore_options_after_the_command(cli_env: dict[str, str], world_config: Path, tmp_path: Path) -> None:
    keystore = tmp_path / "manager.json"
    keystore.write_text(json.dumps(Account.encrypt(HexStr(ASSET_MANAGER_KEY), "correct horse", iterations=2)))
    env = {k: v for k, v in cli_env.items() if k != "VAULTEXEC_PRIVATE_KEY"}
    env |= {"VAULTEXEC_KEYSTORE_PASSWORD": "battery staple", "MY_PASSWORD": "correct horse"}
    args = [*DRY_BUY, "--config", str(world_config), "--keystore", str(keystore)]
    wrong = run_cli(args, env)
    assert_one_line_error(wrong, 5, "Cannot decrypt keystore", "VAULTEXEC_KEYSTORE_PASSWORD")
    assert "battery staple" not in wrong.output
    right = run_cli([*args, "--keystore-password-env", "MY_PASSWORD"], env)
    assert right.code == 0, right.output
    assert "ok (" in right.stdout


@pytest.mark.parametrize("flag", ["-v", "--verbose"])
def test_verbose_after_the_command(flag: str, tmp_path: Path) -> None:
    # A dead RPC node: an RPC error, shown with its traceback only when verbose.
    args = ["status", "--vault", VAULT_A, "--store", f"sqlite:///{tmp_path}/v.db", "--rpc-url", "http://127.0.0.1:9"]
    quiet = run_cli(args, {})
    assert "Traceback" not in quiet.output
    assert quiet.code == 4, quiet.output
    loud = run_cli([*args, flag], {})
    assert loud.code == 4, loud.output
    assert "Traceback" in loud.stderr


@pytest.mark.parametrize("position", ["before", "after", "before="])
def test_usage_error_is_scrubbed_of_a_key_in_a_renamed_variable(position: str) -> None:
    # The subcommand's parse error comes before the group callback ever runs: the names come from argv.
    bad_fee = ["trade", "WETH/USDC", "buy", "1000", "--fee", ASSET_MANAGER_KEY]
    args = {"before": ["--private-key-env", "MY_MANAGER_KEY", *bad_fee],
            "after": [*bad_fee, "--private-key-env", "MY_MANAGER_KEY"],
            "before=": ["--private-key-env=MY_MANAGER_KEY", *bad_fee]}[position]
    result = run_cli(args, {"MY_MANAGER_KEY": ASSET_MANAGER_KEY})
    assert_one_line_error(result, 2, "Invalid value for '--fee'", "***")
    assert ASSET_MANAGER_KEY.removeprefix("0x") not in result.output.lower()


def test_secret_env_var_names_reads_every_position() -> None:
    args = ["--private-key-env", "A", "status", "--keystore-password-env=B", "--private-key-env"]
    assert secret_env_var_names(args) == ("VAULTEXEC_PRIVATE_KEY", "VAULTEXEC_KEYSTORE_PASSWORD", "A", "B")


def test_a_command_cannot_redeclare_a_global_option() -> None:
    group = GlobalOptionsGroup("g", options=GLOBAL_OPTIONS)
    with pytest.raises(TypeError, match="--store"):
        group.add_command(GlobalOptionsCommand("c", params=[click.Option(["--store", "other_store"])]))
    with pytest.raises(TypeError, match="GlobalOptionsCommand"):
        group.add_command(click.Command("plain"))


@pytest.mark.parametrize("command", [["status"], ["export-csv", "--output", "-"]])
def test_key_pasted_as_a_name_is_refused_on_commands_that_need_no_key(cli_env: dict[str, str],
                                                                     command: list[str]) -> None:
    """docs/cli.md: a key given where a variable NAME goes is always refused, not only where a key is used."""
    for flag in ("--private-key-env", "--keystore-password-env"):
        result = run_cli([*command, flag, ASSET_MANAGER_KEY], cli_env)
        assert_one_line_error(result, 2, f"{flag} takes the NAME")
        assert ASSET_MANAGER_KEY.removeprefix("0x") not in result.output.lower()
