"""`vaultexec safe-deploy-module / safe-configure / safe-status` on a real Safe 1.4.1: executed when the key alone can
(an owner of a threshold-1 Safe), printed as a Safe transaction for the owners otherwise."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cli_helpers import run_cli
from test_cli_vault import write_toml
from web3 import Web3

from vaultexec.store import open_store
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.plugin import ASSET_MANAGER_KEY
from vaultexec.testing.safes import SAFE_OWNER_KEYS, WorldSafe, make_test_safe
from vaultexec.testing.vaults import SafeCustodyVault
from vaultexec.testing.world import World
from vaultexec.vault.deploy import RouterKind
from vaultexec.vault.safe import Operation, SafeTx, exec_safe_tx, sign_safe_tx
from vaultexec.vault.safe_module import get_module


def env_of(anvil: AnvilInstance, key: str) -> dict[str, str]:
    return {"VAULTEXEC_RPC_URL": anvil.url, "OWNER_KEY": key}


def test_an_owner_of_a_threshold_one_safe_deploys_enables_and_configures(
        anvil: AnvilInstance, web3: Web3, world: World, tmp_path: Path) -> None:
    single = make_test_safe(web3, world.addresses.safe, world.deployer, threshold=1, salt_nonce=7)
    env = env_of(anvil, SAFE_OWNER_KEYS[0])
    deployed = run_cli(["--private-key-env", "OWNER_KEY", "safe-deploy-module", "--safe", single.address], env)
    assert deployed.code == 0, deployed.output
    assert "enable the module: executed by owner" in deployed.stderr, deployed.stderr
    module = get_module(web3, deployed.stdout.strip())
    assert single.contract.functions.isModuleEnabled(module.address).call()
    assert module.functions.custody().call() == single.address

    config = write_toml(world, tmp_path / "module.toml")
    args = ["--private-key-env", "OWNER_KEY", "safe-configure", "--module", module.address, "--config",
            str(config), "--multi-send", single.deployment.multi_send_call_only]
    configured = run_cli(args, env)
    assert configured.code == 0, configured.output
    assert "7 of 7 settings to send" in configured.stderr, configured.stderr
    fns = module.functions
    assert fns.routerKind(world.uniswap_v2_router.address).call() == RouterKind.UNISWAP_V2
    assert fns.spendLimit(world.usdc.address).call() == [50_000_500_000, 86400]
    assert fns.lossBound().call() == [True, 300, 10_000 * 10**18, 86400]
    again = run_cli(args, env)
    assert again.code == 0 and "nothing to send" in again.stderr, again.output

    status = run_cli(["safe-status", "--module", module.address], {"VAULTEXEC_RPC_URL": anvil.url})
    assert status.code == 0, status.output
    assert "enabled on the Safe" in status.stdout and "yes" in status.stdout, status.stdout
    assert single.address in status.stdout


def test_a_key_that_cannot_execute_alone_gets_the_safe_transaction_to_sign(
        anvil: AnvilInstance, web3: Web3, world: World, safe: WorldSafe) -> None:
    env = env_of(anvil, SAFE_OWNER_KEYS[0])  # an owner, but the Safe needs 2 signatures
    deployed = run_cli(["--private-key-env", "OWNER_KEY", "safe-deploy-module", "--safe", safe.address], env)
    assert deployed.code == 0, deployed.output
    module = deployed.stdout.strip()
    assert not safe.contract.functions.isModuleEnabled(module).call()
    printed = dict(re.findall(r"^  (to|data|nonce|safeTxHash): (\S+)$", deployed.stderr, re.MULTILINE))
    assert printed.keys() == {"to", "data", "nonce", "safeTxHash"}, deployed.stderr
    # The owners sign what was printed; the hash they sign is the one printed.
    tx = SafeTx(safe=safe.address, chain_id=world.chain_id, to=printed["to"], data=bytes.fromhex(printed["data"][2:]),
                nonce=int(printed["nonce"]), operation=Operation.CALL)
    assert "0x" + tx.hash().hex() == printed["safeTxHash"]
    exec_safe_tx(safe.contract, tx, sign_safe_tx(tx, safe.signers()), safe.owners[0])
    assert safe.contract.functions.isModuleEnabled(module).call()


def test_trade_and_status_with_the_module_as_the_vault(anvil: AnvilInstance, world: World,
                                                       safe_vault: SafeCustodyVault, world_config: Path,
                                                       store_url: str) -> None:
    """The CLI trades a Safe-custody vault like our vault: `--vault` is the module, the Safe pays and receives."""
    env = {"VAULTEXEC_RPC_URL": anvil.url, "VAULTEXEC_VAULT": safe_vault.address, "VAULTEXEC_STORE": store_url,
           "VAULTEXEC_PRIVATE_KEY": ASSET_MANAGER_KEY}
    weth_before = world.weth.functions.balanceOf(safe_vault.custody).call()
    traded = run_cli(["trade", "WETH/USDC", "buy", "1000", "--venue", "v3", "--fee", "500", "--yes", "--config",
                      str(world_config)], env)
    assert traded.code == 0, traded.output
    [buy] = open_store(store_url, safe_vault.address).export_all()
    assert buy.is_success() and buy.executed_quantity is not None
    received = world.weth.functions.balanceOf(safe_vault.custody).call() - weth_before
    assert buy.executed_quantity == buy.pair.base.convert_to_decimal(received)

    status = run_cli(["status", "--json"], env)
    assert status.code == 0, status.output
    document = json.loads(status.stdout)
    assert document["trades_by_state"] == {"success": 1}
    assert document["onchain"]["owner"] == safe_vault.custody  # the module's owner is its Safe
