"""`vaultexec deploy-vault` and `vaultexec configure` from flags and from a TOML file."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import assert_one_line_error, nonce, run_cli
from eth_account import Account
from web3 import Web3
from web3.contract import Contract

from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.world import World
from vaultexec.vault.deploy import RouterKind, get_vault


def owner_env(anvil: AnvilInstance, key: str, vault: str | None = None) -> dict[str, str]:
    env = {"VAULTEXEC_RPC_URL": anvil.url, "OWNER_KEY": key}
    return {**env, "VAULTEXEC_VAULT": vault} if vault else env


def write_toml(world: World, path: Path) -> Path:
    path.write_text(f"""
assets = ["USDC", "WETH"]

[tokens]
USDC = "{world.usdc.address}"
WETH = "{world.weth.address}"

[routers]
"{world.uniswap_v2_router.address}" = "uniswap_v2"

[[pools]]
router = "{world.uniswap_v2_router.address}"
tokens = ["WETH", "USDC"]
fee = 0

[[spend_limits]]
asset = "USDC"
capacity = "50000.5"
refill_period = 86400

[[price_feeds]]
asset = "WETH"
feed = "{world.addresses.feeds['WETH']}"
heartbeat = 31536000

[loss_bound]
cap_bps = 300
budget = "10000"
refill_period = 86400
""")
    return path


def test_deploy_and_configure_from_toml(anvil: AnvilInstance, web3: Web3, world: World, owner_key: str,
                                        tmp_path: Path) -> None:
    config = write_toml(world, tmp_path / "vault.toml")
    manager = Account.create().address
    deployed = run_cli(["--private-key-env", "OWNER_KEY", "deploy-vault", "--asset-manager", manager],
                       owner_env(anvil, owner_key))
    assert deployed.code == 0, deployed.output
    address = deployed.stdout.strip()
    vault = get_vault(web3, address)
    assert vault.functions.owner().call() == world.deployer
    assert vault.functions.assetManager().call() == manager

    args = ["--private-key-env", "OWNER_KEY", "configure", "--config", str(config)]
    dry = run_cli([*args, "--dry-run"], owner_env(anvil, owner_key, address))
    assert dry.code == 0 and "7 of 7 settings to send" in dry.stderr, dry.output
    assert "50000.5 USDC" in dry.stderr and "50000500000 raw" in dry.stderr, dry.stderr  # in the token, then raw
    assert not vault.functions.isAssetAllowed(world.usdc.address).call()

    configured = run_cli(args, owner_env(anvil, owner_key, address))
    assert configured.code == 0, configured.output
    fns = vault.functions
    assert fns.isAssetAllowed(world.usdc.address).call() and fns.isAssetAllowed(world.weth.address).call()
    assert fns.routerKind(world.uniswap_v2_router.address).call() == RouterKind.UNISWAP_V2
    assert fns.isPoolAllowed(world.uniswap_v2_router.address, world.usdc.address, world.weth.address, 0).call()
    assert fns.spendLimit(world.usdc.address).call() == [50_000_500_000, 86400]
    assert fns.priceSource(world.weth.address).call()[:3] == (1, world.addresses.feeds["WETH"], 31536000)
    assert fns.lossBound().call() == [True, 300, 10_000 * 10**18, 86400]

    sent = nonce(web3, world.deployer)
    again = run_cli(args, owner_env(anvil, owner_key, address))
    assert again.code == 0 and "nothing sent" in again.stderr, again.output
    assert nonce(web3, world.deployer) == sent


def test_configure_by_flags_refuses_a_non_owner(anvil: AnvilInstance, web3: Web3, world: World, vault: Contract,
                                               tmp_path: Path) -> None:
    stranger = Account.create()
    env = {**owner_env(anvil, stranger.key.hex(), vault.address)}
    result = run_cli(["--private-key-env", "OWNER_KEY", "configure", "--token", f"DAI={world.dai.address}",
                      "--asset", "DAI"], env)
    assert_one_line_error(result, 3, "is not the owner of vault", "Nothing was sent")
    assert nonce(web3, stranger.address) == 0


def test_configure_rejects_unknown_router_kind_before_sending(anvil: AnvilInstance, web3: Web3, world: World,
                                                             vault: Contract, owner_key: str) -> None:
    sent = nonce(web3, world.deployer)
    result = run_cli(["--private-key-env", "OWNER_KEY", "configure", "--router",
                      f"{world.swap_router.address}=sushiswap"], owner_env(anvil, owner_key, vault.address))
    assert_one_line_error(result, 2, "kind 'sushiswap' unknown", "uniswap_v2")
    assert nonce(web3, world.deployer) == sent


def test_unbounded_spendable_asset_needs_allow_unbounded(anvil: AnvilInstance, web3: Web3, world: World,
                                                        owner_key: str) -> None:
    flags = ["--token", f"WETH={world.weth.address}", "--asset", "WETH"]
    sent = nonce(web3, world.deployer)
    refused = run_cli(["--private-key-env", "OWNER_KEY", "deploy-vault", *flags], owner_env(anvil, owner_key))
    assert_one_line_error(refused, 2, "Refusing to configure spendable asset", world.weth.address,
                          "sandwich", "--allow-unbounded", "Nothing was sent")
    assert nonce(web3, world.deployer) == sent  # not even the deployment

    accepted = run_cli(["--private-key-env", "OWNER_KEY", "deploy-vault", *flags, "--allow-unbounded"],
                       owner_env(anvil, owner_key))
    assert accepted.code == 0, accepted.output
    vault = get_vault(web3, accepted.stdout.strip())
    assert vault.functions.isUnboundedSpendAllowed(world.weth.address).call()
