"""Each user mistake: its message, its exit code, no traceback, and nothing sent (nonce unchanged)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import redis
from cli_helpers import assert_one_line_error, nonce, run_cli
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.store import open_store
from vaultexec.testing.anvil import find_free_port
from vaultexec.testing.plugin import ASSET_MANAGER_KEY
from vaultexec.testing.redis import RedisServer
from vaultexec.testing.world import World

BUY = ["trade", "WETH/USDC", "buy", "1000", "--venue", "v3", "--fee", "500", "--yes"]


def trade_args(config: Path, *args: str) -> list[str]:
    return [*args[:4], "--config", str(config), *args[4:]]


def test_unreachable_rpc(cli_env: dict[str, str], world_config: Path) -> None:
    env = {**cli_env, "VAULTEXEC_RPC_URL": f"http://127.0.0.1:{find_free_port()}"}
    result = run_cli(trade_args(world_config, *BUY), env)
    assert_one_line_error(result, 4, "Cannot use the RPC node", "Connection refused")


def test_wrong_chain_id(cli_env: dict[str, str], world_config: Path, web3: Web3,
                       asset_manager: LocalAccount) -> None:
    before = nonce(web3, asset_manager.address)
    result = run_cli(["--chain-id", "1", *trade_args(world_config, *BUY)], cli_env)
    assert_one_line_error(result, 3, "Wrong chain", "chain 31337", "--chain-id says 1")
    assert nonce(web3, asset_manager.address) == before


def test_unknown_token_symbol(cli_env: dict[str, str], world_config: Path, web3: Web3,
                              asset_manager: LocalAccount) -> None:
    before = nonce(web3, asset_manager.address)
    result = run_cli(trade_args(world_config, "trade", "PEPE/USDC", "buy", "1000", "--yes"), cli_env)
    assert_one_line_error(result, 2, "Unknown token symbol 'PEPE'", "USDC")
    assert nonce(web3, asset_manager.address) == before


@pytest.mark.parametrize(("amount", "needle"), [("ten", "is not a number"), ("-5", "must be a positive"),
                                                ("0", "must be a positive"), ("NaN", "must be a positive")])
def test_bad_amount(cli_env: dict[str, str], world_config: Path, amount: str, needle: str) -> None:
    # "--" lets a negative number through as an argument, as a user would have to write it.
    result = run_cli(["trade", "--config", str(world_config), "--yes", "--", "WETH/USDC", "buy", amount], cli_env)
    assert_one_line_error(result, 2, "Amount", needle)


def test_pool_not_allowed_by_the_vault(cli_env: dict[str, str], world_config: Path, web3: Web3, world: World,
                                       vault: Contract, asset_manager: LocalAccount) -> None:
    router = world.swap_router.address
    vault.functions.setPoolAllowed(router, world.weth.address, world.usdc.address, 500, False).transact(
        {"from": world.deployer})
    before = nonce(web3, asset_manager.address)
    result = run_cli(trade_args(world_config, *BUY), cli_env)
    assert_one_line_error(result, 6, "is not allowed on router", "setPoolAllowed")
    assert nonce(web3, asset_manager.address) == before


def test_insufficient_balance(cli_env: dict[str, str], world_config: Path, web3: Web3,
                              asset_manager: LocalAccount) -> None:
    before = nonce(web3, asset_manager.address)
    result = run_cli(trade_args(world_config, "trade", "WETH/USDC", "buy", "2000000", "--fee", "500", "--yes"),
                     cli_env)
    assert_one_line_error(result, 7, "needs 2000000.000000 USDC", "holds 1000000.000000")
    assert nonce(web3, asset_manager.address) == before


def test_key_pasted_instead_of_variable_name_is_never_echoed(cli_env: dict[str, str], world_config: Path) -> None:
    result = run_cli(["--private-key-env", ASSET_MANAGER_KEY, *trade_args(world_config, *BUY)], cli_env)
    assert_one_line_error(result, 2, "--private-key-env takes the NAME")
    assert ASSET_MANAGER_KEY.removeprefix("0x") not in result.output.lower()


def test_invalid_key_is_never_echoed(cli_env: dict[str, str], world_config: Path) -> None:
    bad_key = ASSET_MANAGER_KEY[:-4] + "zzzz"
    result = run_cli(["--verbose", *trade_args(world_config, *BUY)], {**cli_env, "VAULTEXEC_PRIVATE_KEY": bad_key})
    assert result.code == 5, result.output
    assert "not valid" in result.stderr
    assert bad_key.removeprefix("0x")[:40] not in result.output


def test_missing_key(cli_env: dict[str, str], world_config: Path) -> None:
    env = {k: v for k, v in cli_env.items() if k != "VAULTEXEC_PRIVATE_KEY"}
    result = run_cli(trade_args(world_config, *BUY), env)
    assert_one_line_error(result, 5, "set the environment variable VAULTEXEC_PRIVATE_KEY")


def test_no_contract_at_vault_address(cli_env: dict[str, str], world_config: Path) -> None:
    env = {**cli_env, "VAULTEXEC_VAULT": "0x000000000000000000000000000000000000dEaD"}
    result = run_cli(trade_args(world_config, *BUY), env)
    assert_one_line_error(result, 3, "No contract at 0x000000000000000000000000000000000000dEaD")


def test_verbose_shows_the_traceback(cli_env: dict[str, str], world_config: Path) -> None:
    result = run_cli(["--verbose", "--chain-id", "1", *trade_args(world_config, *BUY)], cli_env)
    assert result.code == 3
    assert "Traceback" in result.stderr
    assert ASSET_MANAGER_KEY.removeprefix("0x") not in result.output.lower()


def test_keystore_signs_and_a_wrong_password_is_refused(cli_env: dict[str, str], world_config: Path,
                                                        tmp_path: Path) -> None:
    keystore = tmp_path / "manager.json"
    keystore.write_text(json.dumps(Account.encrypt(ASSET_MANAGER_KEY, "correct horse", iterations=2)))
    env = {k: v for k, v in cli_env.items() if k != "VAULTEXEC_PRIVATE_KEY"}
    args = ["--keystore", str(keystore), *trade_args(world_config, *BUY), "--dry-run"]
    wrong = run_cli(args, {**env, "VAULTEXEC_KEYSTORE_PASSWORD": "battery staple"})
    assert_one_line_error(wrong, 5, "Cannot decrypt keystore", "wrong password in VAULTEXEC_KEYSTORE_PASSWORD")
    assert "battery staple" not in wrong.output
    right = run_cli(args, {**env, "VAULTEXEC_KEYSTORE_PASSWORD": "correct horse"})
    assert right.code == 0, right.output
    assert "ok (" in right.stdout


#: A private key without 0x whose first digit is a letter: a valid identifier, so it once passed as a name.
KEY_LOOKING_NAME = "a" + ASSET_MANAGER_KEY.removeprefix("0x")[1:]


def test_key_without_0x_given_as_variable_name_is_never_echoed(cli_env: dict[str, str],
                                                               world_config: Path) -> None:
    result = run_cli(["--private-key-env", KEY_LOOKING_NAME, *trade_args(world_config, *BUY)], cli_env)
    assert_one_line_error(result, 2, "--private-key-env takes the NAME")
    assert KEY_LOOKING_NAME not in result.output.lower()


def test_password_given_as_variable_name_is_never_echoed(cli_env: dict[str, str], world_config: Path,
                                                         tmp_path: Path) -> None:
    keystore = tmp_path / "manager.json"
    keystore.write_text(json.dumps(Account.encrypt(ASSET_MANAGER_KEY, "hunter2hunter2", iterations=2)))
    args = ["--keystore", str(keystore), "--keystore-password-env", "hunter2hunter2",
            *trade_args(world_config, *BUY)]
    result = run_cli(args, cli_env)
    assert_one_line_error(result, 5, "needs its password", "named by --keystore-password-env")
    assert "hunter2" not in result.output


@pytest.mark.parametrize("amount", ["1e72", "1e400"])
def test_amount_beyond_uint256_is_bad_input(cli_env: dict[str, str], world_config: Path, web3: Web3,
                                            asset_manager: LocalAccount, amount: str) -> None:
    before = nonce(web3, asset_manager.address)
    result = run_cli(trade_args(world_config, "trade", "WETH/USDC", "buy", amount, "--fee", "500", "--yes"),
                     cli_env)
    assert_one_line_error(result, 2, "more than any token can hold")
    assert nonce(web3, asset_manager.address) == before


def test_router_that_is_not_an_address(cli_env: dict[str, str], world_config: Path) -> None:
    result = run_cli(trade_args(world_config, *BUY, "--router", "notanaddress"), cli_env)
    assert_one_line_error(result, 2, "--router 'notanaddress' is not an address")


@pytest.mark.parametrize(("text", "needle"), [
    ('pools = ["x"]', "`pools[0]` must be a table"),
    ('tokens = "x"', "`tokens` must be a table"),
    ("spend_limits = [1]", "`spend_limits[0]` must be a table"),
    ('assets = "USDC"', "`assets` must be a list of strings"),
])
def test_config_file_with_a_wrong_type(cli_env: dict[str, str], tmp_path: Path, text: str, needle: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text + "\n")
    result = run_cli(["configure", "--config", str(config), "--dry-run"], cli_env)
    assert_one_line_error(result, 2, str(config), needle)


def test_export_to_a_missing_folder_is_bad_input(cli_env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.csv"
    result = run_cli(["export-csv", "-o", str(target)], cli_env)
    assert_one_line_error(result, 2, f"Cannot write {target}")


def test_error_line_shows_the_input_exactly(cli_env: dict[str, str]) -> None:
    result = run_cli(["configure", "--spend-limit", "USDC:abc:60", "--dry-run"], cli_env)
    assert_one_line_error(result, 2, "--spend-limit USDC:abc:60: 'abc' is not a number")


def test_status_never_prints_the_store_password(cli_env: dict[str, str], redis_server: RedisServer) -> None:
    admin = redis.Redis.from_url(redis_server.url)
    admin.acl_setuser("cli_status", enabled=True, passwords=["+s3cretpw"], keys=["*"], commands=["+@all"])
    try:
        env = {**cli_env, "VAULTEXEC_STORE": f"redis://cli_status:s3cretpw@127.0.0.1:{redis_server.port}/0"}
        shown = f"redis://cli_status:***@127.0.0.1:{redis_server.port}/0"
        text = run_cli(["status"], env)
        assert text.code == 0, text.output
        assert f"store {shown}" in text.stdout
        as_json = run_cli(["status", "--json"], env)
        assert as_json.code == 0, as_json.output
        assert json.loads(as_json.stdout)["store"] == shown
        bad = run_cli(["status"], {**env, "VAULTEXEC_STORE": env["VAULTEXEC_STORE"] + "?socket_timeout=abc"})
        assert_one_line_error(bad, 2, "cli_status:***@")
        for result in (text, as_json, bad):
            assert "s3cretpw" not in result.output
    finally:
        admin.acl_deluser("cli_status")
        admin.close()


@pytest.mark.parametrize(("flags", "needle"), [
    (["--fee", str(2**24)], "--fee: fee 16777216 outside 0..999999"),
    (["--fee", "-1"], "--fee: fee -1 outside"),
    (["--via", "WBTC", "--via-fee", str(2**30)], "--via-fee: fee 1073741824 outside"),
])
def test_fee_tier_out_of_range_is_refused_before_the_network(cli_env: dict[str, str], world_config: Path,
                                                             flags: list[str], needle: str) -> None:
    env = {**cli_env, "VAULTEXEC_RPC_URL": f"http://127.0.0.1:{find_free_port()}"}  # never contacted
    result = run_cli(trade_args(world_config, "trade", "WETH/USDC", "buy", "1000", "--dry-run", *flags), env)
    assert_one_line_error(result, 2, needle)


@pytest.mark.parametrize("factory", ["token", "no code"])
def test_config_factory_that_is_not_a_factory(cli_env: dict[str, str], world_config: Path, world: World,
                                              tmp_path: Path, factory: str) -> None:
    config = json.loads(world_config.read_text())
    wrong = world.usdc.address if factory == "token" else "0x" + "12" * 20
    config["deployment"]["v3_factory"] = wrong
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(config))
    result = run_cli(trade_args(bad, "trade", "WETH/USDC", "buy", "1000", "--fee", "500", "--dry-run"), cli_env)
    assert_one_line_error(result, 3, f"factory {wrong} of deployment world", "is not a Uniswap factory")


def test_vault_address_of_a_contract_that_is_not_a_vault(cli_env: dict[str, str], world: World,
                                                         owner_key: str) -> None:
    router = world.swap_router.address
    status = run_cli(["status"], {**cli_env, "VAULTEXEC_VAULT": router})
    assert_one_line_error(status, 3, f"{router} does not answer the vault's owner(): it is not a vault")
    env = {**cli_env, "VAULTEXEC_VAULT": world.dai.address, "VAULTEXEC_PRIVATE_KEY": owner_key}  # Ownable
    configure = run_cli(["configure", "--asset", world.dai.address, "--dry-run"], env)
    assert_one_line_error(configure, 3, "does not answer the vault's assetManager(): it is not a vault")


def test_a_corrupt_record_does_not_block_new_trades(cli_env: dict[str, str], world_config: Path, vault: Contract,
                                                    store_url: str) -> None:
    open_store(store_url, vault.address).close()  # creates the schema
    with sqlite3.connect(store_url.removeprefix("sqlite:///")) as db:
        db.execute("INSERT INTO trades VALUES (?, 3, 0, 'failed', '{not json')", (vault.address.lower(),))
    result = run_cli(trade_args(world_config, "trade", "WETH/USDC", "buy", "1000", "--fee", "500", "--dry-run"),
                     cli_env)
    assert result.code == 0, result.output
    assert "Plan of trade #4" in result.stdout
