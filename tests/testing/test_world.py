"""The local world on real Uniswap bytecode, seen through the pytest plugin's fixtures."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from vaultexec.testing.anvil import AnvilInstance, launch_anvil
from vaultexec.testing.plugin import CODE_SIZE_LIMIT, make_web3
from vaultexec.testing.protocol import load_protocol_artifact
from vaultexec.testing.world import POOLS, TOKENS, V3_FEE_TIERS, World, WorldAddresses, attach_world

#: Our world's tokens, pools and prices: skipped when the fixtures fork a real chain.
pytestmark = [pytest.mark.usefixtures("isolated_chain"), pytest.mark.local_world]


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


def _built_v2_reserves(world: World, symbol_a: str, symbol_b: str, usd: Decimal) -> dict[str, int]:
    """The reserves the world was built with: `usd` worth of each side (independent of world.py's code)."""
    prices = {spec.symbol: spec.usd_price for spec in TOKENS}
    return {world.token(symbol).address: int(usd / prices[symbol] * 10 ** world.decimals(symbol))
            for symbol in (symbol_a, symbol_b)}


def _pool_state(world: World) -> dict[str, object]:
    """V2 reserves by token and V3 sqrtPriceX96 of every world pool."""
    pair_abi, pool_abi = load_protocol_artifact("UniswapV2Pair").abi, load_protocol_artifact("UniswapV3Pool").abi
    state: dict[str, object] = {}
    for key, address in world.addresses.v2_pairs.items():
        pair = world.web3.eth.contract(address=Web3.to_checksum_address(address), abi=pair_abi)
        reserve0, reserve1, _ = pair.functions.getReserves().call()
        state[key] = {pair.functions.token0().call(): reserve0, pair.functions.token1().call(): reserve1}
    for key, address in world.addresses.v3_pools.items():
        pool = world.web3.eth.contract(address=Web3.to_checksum_address(address), abi=pool_abi)
        state[key] = pool.functions.slot0().call()[0]
    return state


def _built_pool_state(world: World) -> dict[str, object]:
    state: dict[str, object] = {}
    for symbol_a, symbol_b, usd in POOLS:
        reserves = _built_v2_reserves(world, symbol_a, symbol_b, usd)
        state[f"{symbol_a}/{symbol_b}"] = reserves
        (_, amount0), (_, amount1) = sorted(reserves.items(), key=lambda side: int(side[0], 16))
        for fee in V3_FEE_TIERS if symbol_a != "DAI" else ():
            state[f"{symbol_a}/{symbol_b}/{fee}"] = math.isqrt((amount1 << 192) // amount0)
    return state


@pytest.mark.parametrize("run", [1, 2])
def test_every_test_starts_from_the_pools_as_built(world: World, run: int) -> None:
    """Order-independent isolation check: whatever ran before (the other run, and the swaps of the tests
    above), the pools are as built; then this run trades on V2 and V3 for whoever comes next."""
    assert _pool_state(world) == _built_pool_state(world)
    trader = _fund_trader(world, "USDC", 6000 * 10**6)
    world.usdc.functions.approve(world.uniswap_v2_router.address, 3000 * 10**6).transact({"from": trader})
    world.uniswap_v2_router.functions.swapExactTokensForTokens(
        3000 * 10**6, 1, [world.usdc.address, world.weth.address], trader, 2**63).transact({"from": trader})
    world.usdc.functions.approve(world.swap_router.address, 3000 * 10**6).transact({"from": trader})
    world.swap_router.functions.exactInputSingle(
        (world.usdc.address, world.weth.address, 500, trader, 2**63, 3000 * 10**6, 1, 0)).transact({"from": trader})
    changed = _pool_state(world)
    built = _built_pool_state(world)
    assert changed["USDC/WETH"] != built["USDC/WETH"]
    assert changed["USDC/WETH/500"] != built["USDC/WETH/500"]


def test_impersonation_through_the_world_can_be_stopped(world: World) -> None:
    """`World.impersonate` records the account; `stop_impersonating` (the `world` fixture's teardown) ends it."""
    stranger = Web3.to_checksum_address("0x" + "5e" * 20)
    world.web3.provider.make_request("anvil_setBalance", [stranger, hex(10**18)])  # type: ignore[arg-type]
    world.impersonate(stranger)
    assert world.impersonated == {stranger}
    world.web3.eth.send_transaction({"from": stranger, "to": stranger, "value": 1})
    world.stop_impersonating()
    assert world.impersonated == set()
    with pytest.raises(Web3RPCError, match="No Signer available"):
        world.web3.eth.send_transaction({"from": stranger, "to": stranger, "value": 1})


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


def test_world_is_bound_once_per_session(world: World, session_world: World, web3: Web3) -> None:
    """No per-test `attach_world` (tens of ms of contract objects): the fixture hands out the session's."""
    assert world is session_world
    assert world.web3 is web3
