"""A sandwich around a vault trade (front-run and back-run in the trade's block) is detected at settlement and
reported with its size; the same trade alone is not flagged."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from web3 import Web3
from web3.contract import Contract

from vaultexec.execution.executor import STAGE_BROADCAST, STAGE_SIGNED, VaultExecutionModel
from vaultexec.execution.sandwich import PRICE_CHECK_NOTE, SANDWICH_NOTE, Reference, sandwich_notes
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeExecution
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.world import World

from exec_pipeline import make_executor, make_trade, pair, register_world, world_pairs  # isort: skip

GWEI = 10**9
FRONT_USDC = 30_000 * 10**6  # moves the V2 WETH/USDC price ~0.6 %: inside the trade's 2 % tolerance
BACK_WETH = 9 * 10**18


def executor(web3: Web3, world: World, vault: Contract, tmp_path: Path,
             on_stage: object = None) -> VaultExecutionModel:
    register_world(world.addresses)
    store = SQLiteStore(tmp_path / "store.db", vault.address)
    return make_executor(web3.provider.endpoint_uri, vault.address, world.chain_id,  # type: ignore[attr-defined]
                         world_pairs(world.addresses), store, RunState(), on_stage=on_stage)  # type: ignore[arg-type]


def v2_out(raw_in: int, reserve_in: int, reserve_out: int) -> int:
    """Uniswap V2's getAmountOut (0.3 % fee), written out here to check the detector independently."""
    return raw_in * 997 * reserve_out // (reserve_in * 1000 + raw_in * 997)


def test_sandwich_around_a_vault_trade_is_detected_with_its_size(web3: Web3, world: World, vault: Contract,
                                                                 tmp_path: Path) -> None:
    attacker, attacker_back = web3.eth.accounts[4], web3.eth.accounts[5]  # two senders: the node orders by tip
    router = world.uniswap_v2_router
    world.fund("USDC", attacker, FRONT_USDC)
    world.fund("WETH", attacker_back, BACK_WETH)
    world.usdc.functions.approve(router.address, FRONT_USDC).transact({"from": attacker})
    world.weth.functions.approve(router.address, BACK_WETH).transact({"from": attacker_back})
    usdc, weth = world.usdc.address, world.weth.address

    def sandwich(stage: str, trades: Sequence[TradeExecution]) -> None:
        if stage == STAGE_SIGNED:  # our transaction is signed, not yet sent: the front-run goes first
            web3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
            router.functions.swapExactTokensForTokens(FRONT_USDC, 1, [usdc, weth], attacker, 2**63).transact(
                {"from": attacker, "maxPriorityFeePerGas": 50 * GWEI, "maxFeePerGas": 100 * GWEI, "gas": 300_000})
        elif stage == STAGE_BROADCAST:  # ours is in the pool: the back-run after it, then one block
            base_fee = int(web3.eth.get_block("pending")["baseFeePerGas"])  # the node orders by max fee
            router.functions.swapExactTokensForTokens(BACK_WETH, 1, [weth, usdc], attacker, 2**63).transact(
                {"from": attacker_back, "maxPriorityFeePerGas": 0, "maxFeePerGas": base_fee, "gas": 300_000})
            web3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
            web3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]

    model = executor(web3, world, vault, tmp_path, sandwich)
    trade = make_trade(1, pair(world.addresses, "WETH", "USDC"), "5000")
    [settled] = model.execute_trades([trade])
    assert settled.is_success()
    tx = settled.blockchain_transactions[-1]
    assert tx.block_number is not None
    block = web3.eth.get_block(tx.block_number, full_transactions=True)
    assert len(block["transactions"]) == 3  # front-run, ours, back-run in one block
    assert block["transactions"][1]["hash"].to_0x_hex() == tx.tx_hash

    # the size, computed here from the pair's reserves before the block
    pair_contract = web3.eth.contract(world.v2_pair("WETH", "USDC"), abi=[{
        "name": "getReserves", "type": "function", "stateMutability": "view", "inputs": [],
        "outputs": [{"type": "uint112"}, {"type": "uint112"}, {"type": "uint32"}]}, {
        "name": "token0", "type": "function", "stateMutability": "view", "inputs": [],
        "outputs": [{"type": "address"}]}])
    r0, r1, _ = pair_contract.functions.getReserves().call(block_identifier=tx.block_number - 1)
    reserve_usdc, reserve_weth = (r0, r1) if pair_contract.functions.token0().call() == usdc else (r1, r0)
    assert settled.executed_reserve is not None and settled.executed_quantity is not None
    raw_in = settled.executed_reserve.scaleb(6).to_integral_value()
    expected_weth = Decimal(v2_out(int(raw_in), reserve_usdc, reserve_weth)).scaleb(-18)
    # the vault paid executed_reserve for what the start-of-block pool would have sold for less
    expected_loss = settled.executed_reserve * (1 - settled.executed_quantity / expected_weth)
    assert expected_loss > 10  # USDC: the front-run made the vault pay more

    [line] = sandwich_notes(settled)
    assert line.startswith(SANDWICH_NOTE)
    worse, lost = re.search(r"([0-9.]+) % worse, ([0-9.e+]+) USDC", line).groups()  # type: ignore[union-attr]
    assert Decimal(worse) > Decimal("0.3")
    assert abs(Decimal(lost) - expected_loss) <= Decimal("0.00001") * expected_loss
    assert sandwich_notes(model.store.load(1)) == [line]  # stored with the trade

    # `vaultexec status` flags it
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("VAULTEXEC_")},
           "VAULTEXEC_RPC_URL": web3.provider.endpoint_uri, "VAULTEXEC_VAULT": vault.address,  # type: ignore[attr-defined]
           "VAULTEXEC_STORE": f"sqlite:///{tmp_path / 'store.db'}", "COLUMNS": "300"}
    vaultexec = str(Path(sys.executable).with_name("vaultexec"))
    text = subprocess.run([vaultexec, "status"], env=env, capture_output=True, text=True, timeout=120, check=True)
    assert f"SANDWICH trade #1: {line}" in text.stdout


def test_the_same_trade_alone_is_not_flagged(web3: Web3, world: World, vault: Contract, tmp_path: Path) -> None:
    model = executor(web3, world, vault, tmp_path)
    [settled] = model.execute_trades([make_trade(1, pair(world.addresses, "WETH", "USDC"), "5000")])
    assert settled.is_success()
    assert sandwich_notes(settled) == []
    assert f"{PRICE_CHECK_NOTE}: executed price" in (settled.notes or "")
    assert "0.0000 % worse" in (settled.notes or "")


class FixedOracle:
    """A stand-in for an oracle price source (the vault's feeds): one price for every trade."""

    def __init__(self, price: Decimal) -> None:
        self.price = price

    def prices(self, trades: Sequence[TradeExecution]) -> dict[int, Reference]:
        return {t.trade_id: Reference(self.price, "oracle") for t in trades}


def test_an_oracle_reference_plugs_in(web3: Web3, world: World, vault: Contract, tmp_path: Path) -> None:
    model = executor(web3, world, vault, tmp_path)
    trade = make_trade(1, pair(world.addresses, "WETH", "USDC"), "5000")
    oracle = trade.planned_price * Decimal("0.98")  # 2 % below the market: every buy looks bad against it
    model.config = replace(model.config, price_reference=FixedOracle(oracle))
    [settled] = model.execute_trades([trade])
    [line] = sandwich_notes(settled)
    assert "(oracle)" in line
    worse = Decimal(re.search(r"([0-9.]+) % worse", line).group(1))  # type: ignore[union-attr]
    expected = (settled.executed_reserve / (settled.executed_quantity * oracle) - 1) * 100  # type: ignore[operator]
    assert abs(worse - expected) < Decimal("0.0001")
