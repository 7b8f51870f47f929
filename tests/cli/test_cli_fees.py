"""The fee policy on the command line (`--min-tip-gwei`, `--max-fee-gwei`, `--legacy-gas` and their env vars),
on a real anvil: a tip floor above the node's suggestion is paid; a cap below the fee needed exits with the
fee-cap code before signing; a bad value is a usage error that contacts nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, nonce, run_cli
from eth_account.signers.local import LocalAccount
from web3 import Web3

from vaultexec.chain.gas import GWEI
from vaultexec.store import open_store

BUY_V2 = ["trade", "WETH/USDC", "buy", "500", "--venue", "v2", "--yes"]
EXIT_FEE_CAP = 15


def test_a_tip_floor_above_the_nodes_suggestion_is_paid(cli_env: dict[str, str], world_config: Path, web3: Web3,
                                                        vault: object, store_url: str) -> None:
    suggested = int(web3.provider.make_request("eth_maxPriorityFeePerGas", [])["result"], 16)  # type: ignore[arg-type]
    assert suggested < 7 * GWEI
    result = run_cli([*BUY_V2, "--config", str(world_config), "--min-tip-gwei", "7.5"], cli_env)
    assert result.code == 0, result.output
    [trade] = open_store(store_url, vault.address).export_all()  # type: ignore[attr-defined]
    assert trade.is_success()
    tx = trade.blockchain_transactions[-1]
    on_chain = web3.eth.get_transaction(tx.tx_hash)  # type: ignore[arg-type]
    base_fee = web3.eth.get_block(on_chain["blockNumber"])["baseFeePerGas"]
    assert on_chain["maxPriorityFeePerGas"] == 7_500_000_000 == tx.max_priority_fee_per_gas
    assert web3.eth.get_transaction_receipt(tx.tx_hash)["effectiveGasPrice"] == base_fee + 7_500_000_000  # type: ignore[arg-type]


def test_legacy_gas_from_the_environment_sends_a_legacy_transaction(cli_env: dict[str, str], world_config: Path,
                                                                   web3: Web3, vault: object, store_url: str) -> None:
    result = run_cli([*BUY_V2, "--config", str(world_config)], {**cli_env, "VAULTEXEC_LEGACY_GAS": "1"})
    assert result.code == 0, result.output
    [trade] = open_store(store_url, vault.address).export_all()  # type: ignore[attr-defined]
    on_chain = web3.eth.get_transaction(trade.blockchain_transactions[-1].tx_hash)  # type: ignore[arg-type]
    assert on_chain["type"] == 0 and "maxFeePerGas" not in on_chain and on_chain["gasPrice"] > 0


def test_a_cap_below_the_needed_fee_exits_before_signing(cli_env: dict[str, str], world_config: Path, web3: Web3,
                                                         asset_manager: LocalAccount, vault: object,
                                                         store_url: str) -> None:
    base_fee = int(web3.eth.get_block("latest")["baseFeePerGas"])
    cap = Decimal(base_fee // 2).scaleb(-9)  # gwei: half the base fee, below any fee that could be included
    before = nonce(web3, asset_manager.address)
    result = run_cli([*BUY_V2, "--config", str(world_config)], {**cli_env, "VAULTEXEC_MAX_FEE_GWEI": f"{cap:f}"})
    assert_one_line_error(result, EXIT_FEE_CAP, "above the fee cap")
    assert nonce(web3, asset_manager.address) == before  # nothing signed, nothing sent
    assert open_store(store_url, vault.address).count() == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(("command", "args", "env", "needle"), [
    ("trade", ["--max-fee-gwei", "abc"], {}, "'abc' is not a number of gwei"),
    ("trade", ["--min-tip-gwei", "30", "--max-fee-gwei", "20"], {}, "below --min-tip-gwei"),
    ("resume", ["--max-fee-gwei", "5e9"], {}, "not wei"),
    ("repair", [], {"VAULTEXEC_MIN_TIP_GWEI": "-1"}, "must be a non-negative number of gwei"),
    ("repair", [], {"VAULTEXEC_LEGACY_GAS": "maybe"}, "legacy-gas"),
])
def test_a_bad_fee_value_is_a_usage_error_that_sends_nothing(cli_env: dict[str, str], world_config: Path,
                                                             web3: Web3, asset_manager: LocalAccount, command: str,
                                                             args: list[str], env: dict[str, str],
                                                             needle: str) -> None:
    before = nonce(web3, asset_manager.address)
    line = [*BUY_V2, "--config", str(world_config)] if command == "trade" else [command]
    assert_one_line_error(run_cli([*line, *args], {**cli_env, **env}), 2, needle)
    assert nonce(web3, asset_manager.address) == before
