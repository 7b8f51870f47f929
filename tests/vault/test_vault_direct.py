"""The direct path (`executeDirect`) on the world vault: real Uniswap V2 pairs and V3 pools, the calldata
encoded by `vault.direct`, outputs exact to the raw unit and settled from the vault's `Executed` event."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from vaultexec.testing.vaults import WORLD_LOSS_CAP_BPS
from vaultexec.testing.world import World
from vaultexec.vault.direct import DirectProtocol, DirectRoute, encode_execute_direct_call
from vaultexec.vault.execute import AssetBound

from vaultkit import EXECUTE_GAS, refused_as  # isort: skip

DEADLINE = 2**40
AMOUNT_IN = 5_000 * 10**6  # 5,000 USDC


def allow_direct(world: World, vault: Contract) -> None:
    """The owner allows the pools of the routes below: the factories confirm them."""
    usdc, weth, wbtc = (world.token(s).address for s in ("USDC", "WETH", "WBTC"))
    fns, owner = vault.functions, world.deployer
    for a, b in ((usdc, weth), (weth, wbtc)):
        fns.setDirectPoolAllowed(world.uniswap_v2_factory.address, DirectProtocol.UNISWAP_V2, a, b, 3000,
                                 True).transact({"from": owner})
    fns.setDirectPoolAllowed(world.uniswap_v3_factory.address, DirectProtocol.UNISWAP_V3, usdc, weth, 500,
                             True).transact({"from": owner})


def send(web3: Web3, manager: LocalAccount, vault: Contract, data: bytes) -> dict[str, int]:
    """Send `data` to the vault as the asset manager; the `Executed` amounts by asset."""
    tx: dict[str, Any] = {
        "from": manager.address, "to": vault.address, "data": data, "gas": EXECUTE_GAS, "chainId": web3.eth.chain_id,
        "nonce": web3.eth.get_transaction_count(manager.address), "maxFeePerGas": 10**11,
        "maxPriorityFeePerGas": 10**9}
    receipt = web3.eth.wait_for_transaction_receipt(
        web3.eth.send_raw_transaction(manager.sign_transaction(tx).raw_transaction))
    assert receipt["status"] == 1
    event = vault.events.Executed().process_receipt(receipt, errors=DISCARD)[0]["args"]
    amounts = dict(zip(event["spendAssets"], event["spent"], strict=True))
    amounts.update(zip(event["receiveAssets"], event["received"], strict=True))
    return amounts


def v2_out(world: World, symbol_in: str, symbol_out: str, amount_in: int) -> int:
    """UniswapV2Library.getAmountOut from the pair's reserves (rounded down)."""
    pair = world.web3.eth.contract(address=world.v2_pair(symbol_in, symbol_out), abi=[{
        "type": "function", "name": "getReserves", "stateMutability": "view", "inputs": [],
        "outputs": [{"type": "uint112"}, {"type": "uint112"}, {"type": "uint32"}]}])
    r0, r1, _ = pair.functions.getReserves().call()
    token_in, token_out = world.token(symbol_in).address, world.token(symbol_out).address
    r_in, r_out = (r0, r1) if int(token_in, 16) < int(token_out, 16) else (r1, r0)
    return int(amount_in * 997 * r_out // (r_in * 1000 + amount_in * 997))


def test_encoding_matches_web3(world: World, vault: Contract) -> None:
    usdc, weth = world.usdc.address, world.weth.address
    route = DirectRoute((usdc, weth), (world.v2_pair("USDC", "WETH"),), AMOUNT_IN, 1, DEADLINE)
    ours = encode_execute_direct_call([route], [AssetBound(usdc, AMOUNT_IN)], [AssetBound(weth, 1)])
    theirs = vault.encode_abi("executeDirect", args=[
        [([usdc, weth], [world.v2_pair("USDC", "WETH")], AMOUNT_IN, 1, DEADLINE)], [(usdc, AMOUNT_IN)], [(weth, 1)]])
    assert "0x" + ours.hex() == theirs


def test_v2_then_v2_is_exact_to_the_raw_unit(web3: Web3, world: World, vault: Contract,
                                             asset_manager: LocalAccount) -> None:
    allow_direct(world, vault)
    usdc, weth, wbtc = (world.token(s).address for s in ("USDC", "WETH", "WBTC"))
    expected = v2_out(world, "WETH", "WBTC", v2_out(world, "USDC", "WETH", AMOUNT_IN))
    before = world.wbtc.functions.balanceOf(vault.address).call()
    route = DirectRoute((usdc, weth, wbtc), (world.v2_pair("USDC", "WETH"), world.v2_pair("WETH", "WBTC")),
                        AMOUNT_IN, expected, DEADLINE)
    amounts = send(web3, asset_manager, vault, encode_execute_direct_call(
        [route], [AssetBound(usdc, AMOUNT_IN)], [AssetBound(wbtc, expected)]))
    assert amounts == {usdc: AMOUNT_IN, wbtc: expected}
    assert world.wbtc.functions.balanceOf(vault.address).call() == before + expected


def test_mixed_v3_then_v2_lands_in_the_vault(web3: Web3, world: World, vault: Contract,
                                             asset_manager: LocalAccount) -> None:
    allow_direct(world, vault)
    usdc, weth, wbtc = (world.token(s).address for s in ("USDC", "WETH", "WBTC"))
    weth_before = world.weth.functions.balanceOf(vault.address).call()
    route = DirectRoute((usdc, weth, wbtc), (world.v3_pool("USDC", "WETH", 500), world.v2_pair("WETH", "WBTC")),
                        AMOUNT_IN, 1, DEADLINE)
    amounts = send(web3, asset_manager, vault, encode_execute_direct_call(
        [route], [AssetBound(usdc, AMOUNT_IN)], [AssetBound(wbtc, 1)]))
    assert amounts[usdc] == AMOUNT_IN and amounts[wbtc] > 0
    # The V3 hop paid the V2 pair directly: the vault's WETH never moved.
    assert world.weth.functions.balanceOf(vault.address).call() == weth_before


def test_loss_bound_refuses_a_direct_sale_into_a_pushed_pair(web3: Web3, world: World, vault: Contract,
                                                               asset_manager: LocalAccount) -> None:
    """The world vault's oracle loss bound applies to the direct path exactly as to the router path."""
    allow_direct(world, vault)
    usdc, weth = world.usdc.address, world.weth.address
    pair = world.v2_pair("USDC", "WETH")
    # Push the pair: USDC donated and synced into its reserves, so USDC sells there far below its feed price.
    world.fund("USDC", pair, 10_000_000 * 10**6)
    sync = web3.eth.contract(address=pair, abi=[{"type": "function", "name": "sync", "stateMutability":
                                                 "nonpayable", "inputs": [], "outputs": []}])
    sync.functions.sync().transact({"from": world.deployer})
    route = ([usdc, weth], [pair], AMOUNT_IN, 1, DEADLINE)
    error = refused_as(web3, asset_manager, vault.functions.executeDirect([route], [(usdc, AMOUNT_IN)], [(weth, 1)]))
    assert error.name == "LossCapExceeded", error
    _, max_loss, value_spent = error.args
    assert value_spent == AMOUNT_IN * 10**12  # 5,000 USDC at the feed's $1, 18-decimal USD
    assert max_loss == value_spent * WORLD_LOSS_CAP_BPS // 10_000
