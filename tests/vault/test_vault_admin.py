"""The owner's controls on the real world: rolling spend limits (consumed, refused, refilled over time),
pause/unpause, and withdrawals that can only go to the owner."""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount
from vaultkit import Trader, approve, call_error, refused_as, send_as, v2_swap
from web3 import Web3
from web3.logs import DISCARD

from vaultexec.testing.world import World
from vaultexec.vault.state import read_vault_state

USDC = 10**6
CAPACITY = 10_000 * USDC
DAY = 86_400


def _swap_usdc(world: World, trader: Trader, amount: int) -> tuple[list[tuple[str, bytes]], list[tuple[str, int]],
                                                                   list[tuple[str, int]]]:
    router, usdc, weth = world.uniswap_v2_router, world.usdc, world.weth
    calls = [approve(usdc, router.address, amount),
             v2_swap(router, amount, 1, [usdc.address, weth.address], trader.vault.address)]
    return calls, [(usdc.address, amount)], [(weth.address, 1)]


def _next_block_at(world: World, timestamp: int) -> None:
    world.web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]


def _mine_at(world: World, timestamp: int) -> None:
    _next_block_at(world, timestamp)
    world.web3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def test_spend_limit_is_consumed_refused_and_refills(world: World, trader: Trader, deployer: str) -> None:
    vault, usdc = trader.vault, world.usdc
    vault.functions.setSpendLimit(usdc.address, CAPACITY, DAY).transact({"from": deployer})
    assert vault.functions.availableSpend(usdc.address).call() == CAPACITY  # a new limit starts full
    assert vault.functions.availableSpend(world.weth.address).call() == 2**256 - 1  # unlimited

    start = world.web3.eth.get_block("latest")["timestamp"] + 100
    _next_block_at(world, start)
    assert trader.execute(*_swap_usdc(world, trader, 6_000 * USDC)).ok
    assert vault.functions.availableSpend(usdc.address).call() == 4_000 * USDC

    _next_block_at(world, start + 1)
    error = trader.refuse(*_swap_usdc(world, trader, 6_000 * USDC))
    assert error.name == "SpendLimitExceeded"
    asset, spent, available = error.args
    assert (asset, spent) == (usdc.address, 6_000 * USDC)
    assert 4_000 * USDC <= available < 4_000 * USDC + 2 * CAPACITY // DAY

    # Half a day later half the capacity came back (linear refill, rounded down).
    _mine_at(world, start + DAY // 2)
    assert vault.functions.availableSpend(usdc.address).call() == 9_000 * USDC
    _next_block_at(world, start + DAY // 2 + 1)
    assert trader.execute(*_swap_usdc(world, trader, 6_000 * USDC)).ok
    assert vault.functions.availableSpend(usdc.address).call() == 3_000 * USDC + CAPACITY // DAY

    # Never above capacity, however long it waits.
    _mine_at(world, start + 30 * DAY)
    state = read_vault_state(vault, [usdc.address])
    assert state.assets[usdc.address].available == CAPACITY
    assert state.assets[usdc.address].capacity == CAPACITY and state.assets[usdc.address].refill_period == DAY


def test_lowering_a_limit_caps_what_is_available(world: World, trader: Trader, deployer: str) -> None:
    vault, usdc = trader.vault, world.usdc
    vault.functions.setSpendLimit(usdc.address, CAPACITY, DAY).transact({"from": deployer})
    vault.functions.setSpendLimit(usdc.address, CAPACITY // 10, DAY).transact({"from": deployer})
    assert vault.functions.availableSpend(usdc.address).call() == CAPACITY // 10
    vault.functions.setSpendLimit(usdc.address, CAPACITY, DAY).transact({"from": deployer})
    assert vault.functions.availableSpend(usdc.address).call() < CAPACITY // 10 + CAPACITY // 100  # no instant refill
    error = trader.refuse(*_swap_usdc(world, trader, CAPACITY // 2))
    assert error.name == "SpendLimitExceeded"


def test_pause_and_unpause(world: World, trader: Trader, deployer: str) -> None:
    vault, web3 = trader.vault, world.web3
    receipt, _ = send_as(web3, trader.manager, vault.functions.pause())
    assert receipt["status"] == 1 and vault.functions.paused().call()
    error = trader.refuse(*_swap_usdc(world, trader, 1_000 * USDC))
    assert (error.name, error.args) == ("VaultPaused", ())
    assert refused_as(web3, trader.manager, vault.functions.unpause()).name == "OwnableUnauthorizedAccount"

    stranger: LocalAccount = Account.from_key("0x" + "22" * 32)
    web3.provider.make_request("anvil_setBalance", [stranger.address, hex(10**18)])  # type: ignore[arg-type]
    error = refused_as(web3, stranger, vault.functions.pause())
    assert (error.name, error.args) == ("NotOwnerOrAssetManager", (stranger.address,))

    vault.functions.unpause().transact({"from": deployer})
    assert not vault.functions.paused().call()
    assert trader.execute(*_swap_usdc(world, trader, 1_000 * USDC)).ok
    # Idempotent: unpausing an active vault (or pausing a paused one) neither reverts nor emits again.
    assert call_error(vault.functions.unpause(), deployer) is None
    receipt = web3.eth.wait_for_transaction_receipt(vault.functions.unpause().transact({"from": deployer}))
    assert receipt["status"] == 1 and not vault.events.Unpaused().process_receipt(receipt, errors=DISCARD)


def test_incident_batch_after_the_key_acted_first(world: World, trader: Trader, deployer: str) -> None:
    """The key pauses first and leaves an asset empty; the owner's pause + withdraw-all + rotate still succeed."""
    vault, web3 = trader.vault, world.web3
    send_as(web3, trader.manager, vault.functions.pause())
    vault.functions.withdraw(world.usdt.address, 2**256 - 1).transact({"from": deployer})  # USDT now empty
    receipts = [web3.eth.wait_for_transaction_receipt(fn.transact({"from": deployer})) for fn in (
        vault.functions.pause(),
        vault.functions.withdraw(world.usdt.address, 2**256 - 1),
        vault.functions.withdraw(world.weth.address, 2**256 - 1),
        vault.functions.setAssetManager("0x" + "00" * 20))]
    assert all(receipt["status"] == 1 for receipt in receipts)
    assert not vault.events.Paused().process_receipt(receipts[0], errors=DISCARD)  # no second Paused
    assert not receipts[1]["logs"]  # the empty balance: nothing called, no Transfer, no Withdrawn
    assert world.weth.functions.balanceOf(vault.address).call() == 0
    assert vault.functions.assetManager().call() == "0x" + "00" * 20


def test_withdraw_goes_to_the_owner_only(world: World, trader: Trader, deployer: str) -> None:
    vault, usdc, web3 = trader.vault, world.usdc, world.web3
    owner_before = usdc.functions.balanceOf(deployer).call()
    vault_before = usdc.functions.balanceOf(vault.address).call()
    receipt = web3.eth.wait_for_transaction_receipt(
        vault.functions.withdraw(usdc.address, 1_234 * USDC).transact({"from": deployer}))
    assert usdc.functions.balanceOf(deployer).call() == owner_before + 1_234 * USDC
    assert usdc.functions.balanceOf(vault.address).call() == vault_before - 1_234 * USDC
    (event,) = vault.events.Withdrawn().process_receipt(receipt, errors=DISCARD)
    assert (event["args"]["asset"], event["args"]["to"], event["args"]["amount"]) == (
        usdc.address, deployer, 1_234 * USDC)

    error = refused_as(web3, trader.manager, vault.functions.withdraw(usdc.address, 1))
    assert (error.name, error.args) == ("OwnableUnauthorizedAccount", (trader.manager.address,))

    # After a two-step ownership transfer, withdrawals follow the new owner, never anyone else.
    new_owner = Web3.to_checksum_address(web3.eth.accounts[6])
    vault.functions.transferOwnership(new_owner).transact({"from": deployer})
    vault.functions.acceptOwnership().transact({"from": new_owner})
    vault.functions.withdraw(usdc.address, 1 * USDC).transact({"from": new_owner})
    assert usdc.functions.balanceOf(new_owner).call() == 1 * USDC
