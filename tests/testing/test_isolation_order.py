"""Acceptance: a test's trade is not visible to the next test. A sub-session runs two tests in a fixed
order: the first trades, spends from the vault, impersonates an account and changes node settings; the
second must see none of it."""

from __future__ import annotations

from pathlib import Path

from subsession import output_of, run_pytest, write_project

TESTS = """
    from web3 import Web3
    from vaultexec.testing.protocol import load_protocol_artifact
    from vaultexec.testing.vaults import VAULT_FUNDING
    from vaultexec.testing.world import make_web3, attach_world

    STRANGER = Web3.to_checksum_address("0x" + "5e" * 20)

    def reserves(world):
        pair = world.web3.eth.contract(address=world.v2_pair("USDC", "WETH"),
                                       abi=load_protocol_artifact("UniswapV2Pair").abi)
        return pair.functions.getReserves().call()[:2]

    def test_1_trades_and_changes_the_node(world, vault, anvil):
        trader = world.web3.eth.accounts[3]
        world.fund("USDC", trader, 3000 * 10**6)
        world.usdc.functions.approve(world.uniswap_v2_router.address, 3000 * 10**6).transact({"from": trader})
        world.uniswap_v2_router.functions.swapExactTokensForTokens(
            3000 * 10**6, 1, [world.usdc.address, world.weth.address], trader, 2**63).transact({"from": trader})
        vault.functions.withdraw(world.usdc.address, 10**6).transact({"from": world.deployer})
        anvil.rpc("anvil_setBalance", [STRANGER, hex(10**18)])
        world.impersonate(STRANGER)
        world.web3.eth.send_transaction({"from": STRANGER, "to": STRANGER, "value": 1})
        anvil.rpc("evm_setAutomine", [False])
        anvil.rpc("anvil_setNextBlockBaseFeePerGas", [hex(100 * 10**9)])

    def test_2_sees_none_of_it(world, vault, anvil, world_base):
        pristine = attach_world(make_web3(world_base[0].url), world_base[1])  # the untouched base chain
        assert reserves(world) == reserves(pristine)
        assert world.weth.functions.balanceOf(world.web3.eth.accounts[3]).call() == 0
        assert world.usdc.functions.balanceOf(vault.address).call() == VAULT_FUNDING["USDC"] * 10**6
        assert world.web3.eth.get_transaction_count(STRANGER) == 0
        assert anvil.rpc("anvil_getAutomine") is True
        assert world.web3.eth.get_block("pending")["baseFeePerGas"] < 50 * 10**9
        try:
            world.web3.eth.send_transaction({"from": STRANGER, "to": STRANGER, "value": 1})
        except Exception as exc:
            assert "No Signer available" in str(exc)
        else:
            raise AssertionError("the previous test's impersonation leaked into this one")
"""


def test_second_test_sees_nothing_of_the_first(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"test_order.py": TESTS})
    done = run_pytest(project, None, "-vv")  # cancels the -q of run_pytest
    assert done.returncode == 0, output_of(done)
    lines = [line for line in done.stdout.splitlines() if "PASSED" in line]
    assert [line.split("::")[1].split()[0] for line in lines] == [
        "test_1_trades_and_changes_the_node", "test_2_sees_none_of_it"], output_of(done)
