"""The local world on real Uniswap bytecode, seen through the pytest plugin's fixtures."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractLogicError

from vaultexec.testing.anvil import AnvilInstance, launch_anvil
from vaultexec.testing.plugin import CODE_SIZE_LIMIT, make_web3
from vaultexec.testing.world import POOLS, TOKENS, V3_FEE_TIERS, World, WorldAddresses, attach_world

pytestmark = pytest.mark.usefixtures("isolated_chain")


def _fund_trader(world: World, symbol: str, raw: int) -> str:
    trader = world.web3.eth.accounts[3]
    world.fund(symbol, trader, raw)
    return trader


def test_world_has_every_token_and_pool(world: World) -> None:
    for spec in TOKENS:
        token = world.token(spec.symbol)
        assert token.functions.decimals().call() == spec.decimals
        assert token.functions.symbol().call() == spec.symbol
    for symbol_a, symbol_b, _ in POOLS:
        pair = world.v2_pair(symbol_a, symbol_b)
        assert world.uniswap_v2_factory.functions.getPair(
            world.token(symbol_a).address, world.token(symbol_b).address).call() == pair
        if symbol_a == "DAI":
            continue
        for fee in V3_FEE_TIERS:
            pool = world.v3_pool(symbol_a, symbol_b, fee)
            assert pool != "0x" + "00" * 20
            assert world.web3.eth.get_code(pool) != b""


def test_v2_pool_price_is_realistic(world: World) -> None:
    amounts = world.uniswap_v2_router.functions.getAmountsOut(
        10**18, [world.weth.address, world.usdc.address]).call()
    usdc_per_weth = Decimal(amounts[1]) / Decimal(10**6)
    assert Decimal(2980) < usdc_per_weth < Decimal(3000)  # 0.3% fee and a hair of price impact




def test_v2_direct_router_swap(world: World) -> None:
    trader = _fund_trader(world, "USDC", 3000 * 10**6)
    router = world.uniswap_v2_router
    world.usdc.functions.approve(router.address, 3000 * 10**6).transact({"from": trader})
    router.functions.swapExactTokensForTokens(
        3000 * 10**6, 1, [world.usdc.address, world.weth.address], trader, 2**63).transact({"from": trader})
    received = world.weth.functions.balanceOf(trader).call()
    assert Decimal("0.99") * 10**18 < received < 10**18


def test_v3_direct_router_swap_multi_hop(world: World) -> None:
    trader = _fund_trader(world, "USDC", 60_000 * 10**6)
    router = world.swap_router
    world.usdc.functions.approve(router.address, 60_000 * 10**6).transact({"from": trader})
    path = (Web3.to_bytes(hexstr=world.usdc.address) + (500).to_bytes(3, "big")
            + Web3.to_bytes(hexstr=world.weth.address) + (3000).to_bytes(3, "big")
            + Web3.to_bytes(hexstr=world.wbtc.address))
    router.functions.exactInput((path, trader, 2**63, 60_000 * 10**6, 1)).transact({"from": trader})
    received = world.wbtc.functions.balanceOf(trader).call()
    assert Decimal("0.97") * 10**8 < received < 10**8  # two fees + ~1% price impact


def test_v2_too_high_min_out_reverts_with_router_message(world: World) -> None:
    trader = _fund_trader(world, "USDC", 3000 * 10**6)
    router = world.uniswap_v2_router
    world.usdc.functions.approve(router.address, 3000 * 10**6).transact({"from": trader})
    with pytest.raises(ContractLogicError, match="UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"):
        router.functions.swapExactTokensForTokens(
            3000 * 10**6, 10**18, [world.usdc.address, world.weth.address], trader, 2**63
        ).transact({"from": trader})


def test_v3_too_high_min_out_reverts_with_router_message(world: World) -> None:
    trader = _fund_trader(world, "USDC", 3000 * 10**6)
    router = world.swap_router
    world.usdc.functions.approve(router.address, 3000 * 10**6).transact({"from": trader})
    with pytest.raises(ContractLogicError, match="Too little received"):
        router.functions.exactInputSingle(
            (world.usdc.address, world.weth.address, 3000, trader, 2**63, 3000 * 10**6, 10**18, 0)
        ).transact({"from": trader})


def test_tether_like_token_needs_allowance_reset(world: World) -> None:
    owner = _fund_trader(world, "USDT", 10**6)
    spender = world.web3.eth.accounts[4]
    world.usdt.functions.approve(spender, 5).transact({"from": owner})
    with pytest.raises(ContractLogicError):
        world.usdt.functions.approve(spender, 6).transact({"from": owner})
    world.usdt.functions.approve(spender, 0).transact({"from": owner})
    world.usdt.functions.approve(spender, 6).transact({"from": owner})
    assert world.usdt.functions.allowance(owner, spender).call() == 6


def test_asset_manager_is_funded_hot_wallet(web3: Web3, asset_manager: LocalAccount) -> None:
    assert web3.eth.get_balance(asset_manager.address) == 100 * 10**18
    assert asset_manager.address not in web3.eth.accounts  # signs locally, not unlocked on the node


@pytest.mark.parametrize("order", [1, 2])
def test_snapshot_isolation(world: World, order: int) -> None:
    """Both runs see the world's own balance: neither sees the other's swap."""
    marker = world.web3.eth.accounts[5]
    assert world.weth.functions.balanceOf(marker).call() == 0
    world.fund("WETH", marker, 10**18)
    assert world.weth.functions.balanceOf(marker).call() == 10**18


def test_fork_anvil_sees_base_world_and_trades(world_base: tuple[AnvilInstance, WorldAddresses]) -> None:
    """A fresh anvil forking the base chain sees its pools and can trade on them."""
    base, addresses = world_base
    with launch_anvil(code_size_limit=CODE_SIZE_LIMIT, fork_url=base.url, chain_id=None) as fork:
        forked = attach_world(make_web3(fork.url), addresses)
        reserves = forked.web3.eth.contract(
            address=forked.v2_pair("USDC", "WETH"),
            abi=[{"name": "getReserves", "type": "function", "stateMutability": "view", "inputs": [],
                  "outputs": [{"type": "uint112"}, {"type": "uint112"}, {"type": "uint32"}]}],
        ).functions.getReserves().call()
        assert sorted(reserves[:2]) == sorted([10_000_000 * 10**6, 3333_333333333333333333])
        trader = _fund_trader(forked, "USDC", 3000 * 10**6)
        before_base = attach_world(make_web3(base.url), addresses).usdc.functions.balanceOf(trader).call()
        router = forked.uniswap_v2_router
        forked.usdc.functions.approve(router.address, 3000 * 10**6).transact({"from": trader})
        router.functions.swapExactTokensForTokens(
            3000 * 10**6, 1, [forked.usdc.address, forked.weth.address], trader, 2**63).transact({"from": trader})
        assert forked.weth.functions.balanceOf(trader).call() > 0
        # The base chain is untouched by what happens on the fork.
        assert attach_world(make_web3(base.url), addresses).usdc.functions.balanceOf(trader).call() == before_base


def test_v3_quote_is_realistic(world: World) -> None:
    amount_out = world.quoter_v2.functions.quoteExactInputSingle(
        (world.weth.address, world.wbtc.address, 10**18, 500, 0)).call()[0]
    assert Decimal("0.0499") * 10**8 < amount_out < Decimal("0.05") * 10**8


@pytest.mark.parametrize("order", [1, 2])
def test_isolation_restores_a_forced_base_fee(web3: Web3, anvil: AnvilInstance, order: int) -> None:
    pending = web3.eth.get_block("pending")["baseFeePerGas"]
    assert pending < 50 * 10**9  # the other run's forced fee did not leak
    anvil.rpc("anvil_setNextBlockBaseFeePerGas", [hex(100 * 10**9)])


@pytest.mark.parametrize("order", [1, 2])
def test_isolation_restores_automine(anvil: AnvilInstance, isolated_chain: None, order: int) -> None:
    assert anvil.rpc("anvil_getAutomine") is True  # the other run switched it off
    anvil.rpc("evm_setAutomine", [False])
