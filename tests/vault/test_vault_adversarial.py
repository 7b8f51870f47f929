"""A leaked asset-manager key attacks the vault on the real Uniswap world: every attempt must revert on
chain with the expected custom error (selector and arguments decoded) and move nothing.

Re-entrancy and an under-delivering router need hostile contracts: they are covered by the forge mocks
(contracts/test/Adversarial.t.sol)."""

from __future__ import annotations

import math

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from vaultkit import (
    DEADLINE,
    Trader,
    approve,
    data,
    refused_as,
    router02_v2_swap,
    selector,
    v2_swap,
    v3_exact_input,
    v3_path,
    v3_single,
)
from web3 import Web3
from web3.contract import Contract

from vaultexec.testing.world import V3_MAX_TICK, World
from vaultexec.vault.contracts import load_artifact
from vaultexec.vault.state import VaultError

USDC = 10**6
AMOUNT = 10_000 * USDC
ZERO = "0x0000000000000000000000000000000000000000"
MSG_SENDER_SENTINEL = "0x0000000000000000000000000000000000000001"
ROUTER_SENTINEL = "0x0000000000000000000000000000000000000002"


def _expect(error: VaultError, name: str, *args: object) -> None:
    assert error.name == name, str(error)
    assert error.selector == selector(_signature(name)), str(error)
    assert error.args == args, str(error)


def _signature(name: str) -> str:
    abi = load_artifact("Vault")["abi"]
    entry = next(e for e in abi if e["type"] == "error" and e["name"] == name)
    return f"{name}({','.join(p['type'] for p in entry['inputs'])})"


def _usdc_to_weth_bounds(world: World) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    return [(world.usdc.address, AMOUNT)], [(world.weth.address, 1)]


# ---------------------------------------------------------------- recipients


@pytest.mark.parametrize("recipient", ["manager", "zero"])
def test_v2_swap_to_someone_else(world: World, trader: Trader, recipient: str) -> None:
    router, usdc = world.uniswap_v2_router, world.usdc
    to = trader.manager.address if recipient == "manager" else ZERO
    spend, receive = _usdc_to_weth_bounds(world)
    error = trader.refuse([approve(usdc, router.address, AMOUNT),
                           v2_swap(router, AMOUNT, 1, [usdc.address, world.weth.address], to)], spend, receive)
    _expect(error, "BadRecipient", to)


@pytest.mark.parametrize("to", [ZERO, MSG_SENDER_SENTINEL, ROUTER_SENTINEL, "manager", "router"])
def test_router02_swap_to_a_sentinel_or_elsewhere(world: World, trader: Trader, to: str) -> None:
    """SwapRouter02 reads 1 as msg.sender (the vault!) and 2 as itself: only the vault's own address passes."""
    router02, usdc, weth = world.swap_router02, world.usdc, world.weth
    recipient = {"manager": trader.manager.address, "router": router02.address}.get(to, to)
    spend, receive = _usdc_to_weth_bounds(world)
    for swap in (v3_single(router02, usdc.address, weth.address, 500, recipient, AMOUNT, 1, router02=True),
                 router02_v2_swap(router02, AMOUNT, 1, [usdc.address, weth.address], recipient)):
        error = trader.refuse([approve(usdc, router02.address, AMOUNT), swap], spend, receive)
        _expect(error, "BadRecipient", Web3.to_checksum_address(recipient))


def test_swap_to_the_router_then_sweep(world: World, trader: Trader) -> None:
    router02, usdc, weth = world.swap_router02, world.usdc, world.weth
    spend, receive = _usdc_to_weth_bounds(world)
    sweep = selector("sweepToken(address,uint256,address)")
    sweep_call = (router02.address, sweep + encode(["address", "uint256", "address"],
                                                   [weth.address, 1, trader.manager.address]))
    swap = v3_single(router02, usdc.address, weth.address, 500, ROUTER_SENTINEL, AMOUNT, 1, router02=True)
    _expect(trader.refuse([approve(usdc, router02.address, AMOUNT), swap, sweep_call], spend, receive),
            "BadRecipient", ROUTER_SENTINEL)
    # Even alone, after some other swap left tokens in the router, sweepToken is not a swap selector.
    _expect(trader.refuse([sweep_call], spend, receive), "SelectorNotAllowed", router02.address, sweep)


def test_multicall_is_refused(world: World, trader: Trader) -> None:
    router02, usdc, weth = world.swap_router02, world.usdc, world.weth
    spend, receive = _usdc_to_weth_bounds(world)
    inner = v3_single(router02, usdc.address, weth.address, 500, trader.vault.address, AMOUNT, 1, router02=True)[1]
    multicall = selector("multicall(bytes[])")
    call = (router02.address, multicall + encode(["bytes[]"], [[inner]]))
    _expect(trader.refuse([approve(usdc, router02.address, AMOUNT), call], spend, receive),
            "SelectorNotAllowed", router02.address, multicall)


# ---------------------------------------------------------------- pools the attacker made


@pytest.fixture()
def attacker(world: World) -> str:
    """An unlocked dev account holding a little of every token, to seed thin pools."""
    account = Web3.to_checksum_address(world.web3.eth.accounts[7])
    for symbol in ("USDC", "USDT", "WBTC", "WETH"):
        world.fund(symbol, account, 1000 * 10 ** world.decimals(symbol))
    return account


def test_swap_through_a_v2_pair_the_attacker_created(world: World, trader: Trader, attacker: str) -> None:
    """WBTC and USDT are both allowed but have no world pair; a thin one appears: the vault won't use it."""
    usdt, wbtc, router = world.usdt, world.wbtc, world.uniswap_v2_router
    for token in (usdt, wbtc):
        token.functions.approve(router.address, 10**12).transact({"from": attacker})
    router.functions.addLiquidity(usdt.address, wbtc.address, 10 * USDC, 10**3, 0, 0, attacker,
                                  DEADLINE).transact({"from": attacker})
    assert world.uniswap_v2_factory.functions.getPair(usdt.address, wbtc.address).call() != ZERO
    amount = 10_000 * USDC
    spend, receive = [(usdt.address, amount)], [(wbtc.address, 1)]
    for via in (router, world.swap_router02):
        swap = (v2_swap(via, amount, 1, [usdt.address, wbtc.address], trader.vault.address) if via == router
                else router02_v2_swap(via, amount, 1, [usdt.address, wbtc.address], trader.vault.address))
        error = trader.refuse([approve(usdt, via.address, amount), swap], spend, receive)
        _expect(error, "PoolNotAllowed", via.address, usdt.address, wbtc.address, 0)


def test_swap_through_a_v3_pool_with_a_new_fee_tier(world: World, trader: Trader, attacker: str) -> None:
    """The attacker opens USDC/WETH at the 1% tier with thin liquidity at a terrible price."""
    usdc, weth, manager = world.usdc, world.weth, world.position_manager
    (token0, amount0), (token1, amount1) = sorted([(usdc.address, 10 * USDC), (weth.address, 10**18)],
                                                  key=lambda side: int(side[0], 16))
    for token in (usdc, weth):
        token.functions.approve(manager.address, 2**255).transact({"from": attacker})
    manager.functions.createAndInitializePoolIfNecessary(
        token0, token1, 10000, math.isqrt((amount1 << 192) // amount0)).transact({"from": attacker})
    tick = V3_MAX_TICK // 200 * 200
    manager.functions.mint((token0, token1, 10000, -tick, tick, amount0, amount1, 0, 0, attacker,
                            DEADLINE)).transact({"from": attacker, "gas": 6_000_000})
    assert world.uniswap_v3_factory.functions.getPool(usdc.address, weth.address, 10000).call() != ZERO
    spend, receive = _usdc_to_weth_bounds(world)
    for router, is02 in ((world.swap_router, False), (world.swap_router02, True)):
        single = v3_single(router, usdc.address, weth.address, 10000, trader.vault.address, AMOUNT, 1, is02)
        _expect(trader.refuse([approve(usdc, router.address, AMOUNT), single], spend, receive),
                "PoolNotAllowed", router.address, usdc.address, weth.address, 10000)
        # Hidden as the second hop of a path whose first hop is an allowed pool.
        wbtc_in = 10**7
        path = v3_path([world.wbtc.address, weth.address, usdc.address], [500, 10000])
        multi = v3_exact_input(router, path, trader.vault.address, wbtc_in, 1, is02)
        _expect(trader.refuse([approve(world.wbtc, router.address, wbtc_in), multi],
                              [(world.wbtc.address, wbtc_in)], [(usdc.address, 1)]),
                "PoolNotAllowed", router.address, weth.address, usdc.address, 10000)


def test_v2_hop_cannot_borrow_the_fee_of_an_earlier_v3_swap(world: World, trader: Trader, deployer: str) -> None:
    """The owner allows SwapRouter02's USDC/WETH V3 pool but not the V2 pair behind the same router: a V2
    swap placed after an allowed V3 swap in one execute is still judged as the fee-0 pair it is."""
    usdc, weth, router02 = world.usdc, world.weth, world.swap_router02
    trader.vault.functions.setPoolAllowed(router02.address, usdc.address, weth.address, 0, False).transact(
        {"from": deployer})
    assert trader.vault.functions.isPoolAllowed(router02.address, usdc.address, weth.address, 500).call()
    small = 10 * USDC
    calls = [approve(usdc, router02.address, AMOUNT),
             v3_single(router02, usdc.address, weth.address, 500, trader.vault.address, small, 1, True),
             router02_v2_swap(router02, AMOUNT - small, 1, [usdc.address, weth.address], trader.vault.address)]
    error = trader.refuse(calls, [(usdc.address, AMOUNT)], [(weth.address, 1)])
    _expect(error, "PoolNotAllowed", router02.address, usdc.address, weth.address, 0)
    # Both swaps on allowed pools, V3 first, pass: the V2 pair of the V2 router is allowed.
    router = world.uniswap_v2_router
    both = [approve(usdc, router02.address, small),
            v3_single(router02, usdc.address, weth.address, 500, trader.vault.address, small, 1, True),
            approve(usdc, router.address, small),
            v2_swap(router, small, 1, [usdc.address, weth.address], trader.vault.address)]
    assert trader.execute(both, [(usdc.address, 2 * small)], [(weth.address, 1)]).ok


def test_path_through_an_unlisted_token(world: World, trader: Trader, deployer: str) -> None:
    artifact = load_artifact("TestToken")
    factory = world.web3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = world.web3.eth.wait_for_transaction_receipt(
        factory.constructor("Unlisted", "UNL", 18).transact({"from": deployer}))
    unlisted = receipt["contractAddress"]
    usdc, weth, router = world.usdc, world.weth, world.uniswap_v2_router
    spend, receive = _usdc_to_weth_bounds(world)
    error = trader.refuse([approve(usdc, router.address, AMOUNT),
                           v2_swap(router, AMOUNT, 1, [usdc.address, unlisted, weth.address],
                                   trader.vault.address)], spend, receive)
    _expect(error, "AssetNotAllowed", unlisted)
    _expect(trader.refuse([approve(usdc, router.address, AMOUNT)], spend, [(unlisted, 1)]),
            "AssetNotAllowed", unlisted)


# ---------------------------------------------------------------- approvals, targets, selectors


def test_approve_to_a_non_router(world: World, trader: Trader) -> None:
    spend, receive = _usdc_to_weth_bounds(world)
    for spender in (trader.manager.address, world.uniswap_v2_factory.address, world.position_manager.address):
        _expect(trader.refuse([approve(world.usdc, spender, AMOUNT)], spend, receive),
                "SpenderNotAllowed", spender)


def test_approve_more_than_max_spend(world: World, trader: Trader) -> None:
    router, usdc = world.uniswap_v2_router, world.usdc
    spend, receive = _usdc_to_weth_bounds(world)
    error = trader.refuse([approve(usdc, router.address, AMOUNT + 1),
                           v2_swap(router, AMOUNT, 1, [usdc.address, world.weth.address], trader.vault.address)],
                          spend, receive)
    _expect(error, "AmountExceedsMaxSpend", 0, usdc.address, AMOUNT + 1, AMOUNT)


def test_approve_of_an_undeclared_asset(world: World, trader: Trader) -> None:
    spend, receive = _usdc_to_weth_bounds(world)
    _expect(trader.refuse([approve(world.wbtc, world.uniswap_v2_router.address, 1)], spend, receive),
            "NotDeclaredAsSpend", 0, world.wbtc.address)


@pytest.mark.parametrize("what", ["transfer", "transferFrom", "factory", "pair", "manager"])
def test_arbitrary_target_or_selector(world: World, trader: Trader, what: str) -> None:
    usdc, vault, manager = world.usdc, trader.vault, trader.manager.address
    spend, receive = _usdc_to_weth_bounds(world)
    calls = {
        "transfer": (usdc.address, data(usdc, "transfer", manager, AMOUNT)),
        "transferFrom": (usdc.address, data(usdc, "transferFrom", vault.address, manager, AMOUNT)),
        "factory": (world.uniswap_v2_factory.address,
                    data(world.uniswap_v2_factory, "createPair", world.wbtc.address, world.dai.address)),
        "pair": (world.v2_pair("USDC", "WETH"), selector("skim(address)") + encode(["address"], [manager])),
        "manager": (manager, b"\x12\x34\x56\x78"),
    }
    error = trader.refuse([calls[what]], spend, receive)
    if what in ("transfer", "transferFrom"):
        _expect(error, "SelectorNotAllowed", usdc.address, calls[what][1][:4])
    else:
        _expect(error, "TargetNotAllowed", calls[what][0])


@pytest.mark.parametrize("signature", [
    "swapExactTokensForTokensSupportingFeeOnTransferTokens(uint256,uint256,address[],address,uint256)",
    "swapTokensForExactTokens(uint256,uint256,address[],address,uint256)",
    "removeLiquidity(address,address,uint256,uint256,uint256,address,uint256)",
])
def test_other_router_selectors(world: World, trader: Trader, signature: str) -> None:
    router = world.uniswap_v2_router
    spend, receive = _usdc_to_weth_bounds(world)
    valid = v2_swap(router, AMOUNT, 1, [world.usdc.address, world.weth.address], trader.vault.address)[1]
    call = (router.address, selector(signature) + valid[4:])
    _expect(trader.refuse([approve(world.usdc, router.address, AMOUNT), call], spend, receive),
            "SelectorNotAllowed", router.address, selector(signature))


def test_execute_with_eth_value(world: World, trader: Trader) -> None:
    router, usdc = world.uniswap_v2_router, world.usdc
    spend, receive = _usdc_to_weth_bounds(world)
    outcome = trader.execute([approve(usdc, router.address, AMOUNT),
                              v2_swap(router, AMOUNT, 1, [usdc.address, world.weth.address], trader.vault.address)],
                             spend, receive, value=1)
    assert not outcome.ok
    assert outcome.raw_revert == b""  # Solidity's non-payable check: no custom error
    assert world.web3.eth.get_balance(trader.vault.address) == 0


# ---------------------------------------------------------------- encodings


def test_non_canonical_encodings_of_a_valid_swap(world: World, trader: Trader) -> None:
    """The router would decode these to the same valid swap; the vault refuses anything but the standard
    encoding, so its decoder and the router's can never disagree."""
    router, usdc, weth = world.uniswap_v2_router, world.usdc, world.weth
    spend, receive = _usdc_to_weth_bounds(world)
    valid = v2_swap(router, AMOUNT, 1, [usdc.address, weth.address], trader.vault.address)[1]
    words = [valid[4 + 32 * k:36 + 32 * k] for k in range((len(valid) - 4) // 32)]
    dirty_recipient = [*words[:3], b"\x01" + words[3][1:], *words[4:]]
    moved_path = [*words[:2], (192).to_bytes(32, "big"), *words[3:5], b"\x00" * 32, *words[5:]]
    trailing = [*words, b"\x00" * 32]
    for variant in (dirty_recipient, moved_path, trailing):
        call = (router.address, valid[:4] + b"".join(variant))
        _expect(trader.refuse([approve(usdc, router.address, AMOUNT), call], spend, receive),
                "NonCanonicalCalldata", 1)
    dirty_spender = approve(usdc, router.address, AMOUNT)
    dirty = (usdc.address, dirty_spender[1][:4] + b"\xff" + dirty_spender[1][5:])
    _expect(trader.refuse([dirty], spend, receive), "NonCanonicalCalldata", 0)


@pytest.mark.parametrize("on_router02", [False, True], ids=["SwapRouter", "SwapRouter02"])
def test_v3_path_with_trailing_bytes(world: World, trader: Trader, on_router02: bool) -> None:
    """The router reads one hop of a 46-byte path and ignores the rest; the vault refuses the path."""
    router = world.swap_router02 if on_router02 else world.swap_router
    usdc, weth = world.usdc, world.weth
    spend, receive = _usdc_to_weth_bounds(world)
    for extra in (b"\x00", b"\x00\x01\xf4", b"\x00" * 22):
        path = v3_path([usdc.address, weth.address], [500]) + extra
        call = v3_exact_input(router, path, trader.vault.address, AMOUNT, 1, router02=on_router02)
        _expect(trader.refuse([approve(usdc, router.address, AMOUNT), call], spend, receive), "InvalidPath", 1)
    # 23 trailing zero bytes make a well-formed second hop, to token 0 at fee 0: refused as such.
    path = v3_path([usdc.address, weth.address], [500]) + b"\x00" * 23
    call = v3_exact_input(router, path, trader.vault.address, AMOUNT, 1, router02=on_router02)
    _expect(trader.refuse([approve(usdc, router.address, AMOUNT), call], spend, receive), "AssetNotAllowed", ZERO)


# ---------------------------------------------------------------- roles


def test_execute_from_anyone_but_the_manager(world: World, trader: Trader, deployer: str) -> None:
    stranger: LocalAccount = Account.from_key("0x" + "11" * 32)
    world.web3.provider.make_request("anvil_setBalance", [stranger.address, hex(10**18)])  # type: ignore[arg-type]
    router, usdc = world.uniswap_v2_router, world.usdc
    calls = [approve(usdc, router.address, AMOUNT),
             v2_swap(router, AMOUNT, 1, [usdc.address, world.weth.address], trader.vault.address)]
    spend, receive = _usdc_to_weth_bounds(world)
    _expect(trader.refuse(calls, spend, receive, account=stranger), "NotAssetManager", stranger.address)
    raw = trader.simulate(calls, spend, receive, sender=deployer)
    assert raw is not None and raw[:4] == selector("NotAssetManager(address)")


def _admin_calls(world: World, vault: Contract, manager: str) -> dict[str, object]:
    usdc, router = world.usdc.address, world.uniswap_v2_router.address
    return {
        "setAssetAllowed": vault.functions.setAssetAllowed(world.token("USDC").address, False),
        "setRouter": vault.functions.setRouter(manager, 1),
        "setPoolAllowed": vault.functions.setPoolAllowed(router, usdc, world.wbtc.address, 0, True),
        "setSpendLimit": vault.functions.setSpendLimit(usdc, 0, 0),
        "setAssetManager": vault.functions.setAssetManager(manager),
        "withdraw": vault.functions.withdraw(usdc, AMOUNT),
        "unpause": vault.functions.unpause(),
        "transferOwnership": vault.functions.transferOwnership(manager),
    }


@pytest.mark.parametrize("name", ["setAssetAllowed", "setRouter", "setPoolAllowed", "setSpendLimit",
                                  "setAssetManager", "withdraw", "unpause", "transferOwnership"])
def test_manager_cannot_configure_or_withdraw(world: World, trader: Trader, name: str) -> None:
    fn = _admin_calls(world, trader.vault, trader.manager.address)[name]
    before = trader.balances()
    _expect(refused_as(world.web3, trader.manager, fn), "OwnableUnauthorizedAccount", trader.manager.address)
    assert trader.balances() == before
