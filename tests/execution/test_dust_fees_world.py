"""LP fees of dust trades are what the pool really keeps (issue #14), checked against the pool's balances:
a V2 pair keeps an unrounded 0.3 % of its input, a V3 pool its input less what moved its price."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from web3 import Web3
from web3.contract import Contract

from vaultexec.execution.executor import VaultExecutionModel
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeStatus
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.world import World

from exec_pipeline import make_executor, make_trade, pair, register_world, world_pairs  # isort: skip

SLOT0 = bytes.fromhex("3850c7bd")
LIQUIDITY = bytes.fromhex("1a686502")
Q96 = 2**96


@pytest.fixture(autouse=True)
def wide_loss_bound(vault: Contract, deployer: str) -> None:
    """A dust trade loses most of its value to raw-unit rounding, which the world vault's 5 % oracle loss cap
    refuses (rightly); a 100 % cap lets these tests look at the fees the pools keep."""
    vault.functions.setLossBound(10_000, 2**128 - 1, 86_400).transact({"from": deployer})


@pytest.fixture()
def executor(web3: Web3, world: World, vault: Contract, tmp_path: Path) -> VaultExecutionModel:
    register_world(world.addresses)
    store = SQLiteStore(tmp_path / "store.db", vault.address)
    return make_executor(web3.provider.endpoint_uri, vault.address, world.chain_id,  # type: ignore[attr-defined]
                         world_pairs(world.addresses), store, RunState())


def read_uint(web3: Web3, to: str, selector: bytes) -> int:
    return int.from_bytes(web3.eth.call({"to": Web3.to_checksum_address(to), "data": selector})[:32], "big")


def usdc_of(world: World, holder: str) -> int:
    return int(world.usdc.functions.balanceOf(Web3.to_checksum_address(holder)).call())


def test_dust_v2_buy_records_the_pairs_unrounded_fee(world: World, executor: VaultExecutionModel) -> None:
    """A buy of 1 raw unit of USDC: the pair keeps 0.003 raw units (before: 1 raw unit, 100 % of the trade)."""
    a = world.addresses
    v2 = pair(a, "WETH", "USDC")
    trade = make_trade(1, v2, "0.000001")
    before = usdc_of(world, v2.pool_address)
    (settled,) = executor.execute_trades([trade])
    assert settled.get_status() is TradeStatus.success, settled.get_revert_reason()
    paid_in = usdc_of(world, v2.pool_address) - before
    assert paid_in == 1
    assert settled.lp_fees_paid == Decimal(paid_in) * Decimal("0.003") / 10**6 == Decimal("0.000000003")


def test_dust_v3_buy_records_what_the_pool_kept(web3: Web3, world: World, executor: VaultExecutionModel) -> None:
    """A buy of 10 raw units of USDC on the 0.05 % pool: the pool keeps what did not move its price, rounded
    up as SwapMath rounds (1 raw unit here); the recorded fee is exactly that."""
    a = world.addresses
    v3 = pair(a, "WETH", "USDC", 500)
    pool = v3.pool_address
    trade = make_trade(1, v3, "0.00001")
    usdc_is_token0 = int(a.tokens["USDC"], 16) < int(a.tokens["WETH"], 16)
    before, price_before = usdc_of(world, pool), read_uint(web3, pool, SLOT0)
    liquidity = read_uint(web3, pool, LIQUIDITY)
    (settled,) = executor.execute_trades([trade])
    assert settled.get_status() is TradeStatus.success, settled.get_revert_reason()
    price_after = read_uint(web3, pool, SLOT0)
    low, high = sorted((price_before, price_after))
    if usdc_is_token0:  # SqrtPriceMath.getAmount0Delta, rounded up
        moved = -(-(liquidity * Q96 * (high - low) // high) // low)
    else:  # getAmount1Delta, rounded up
        moved = -(-liquidity * (high - low) // Q96)
    paid_in = usdc_of(world, pool) - before
    kept = paid_in - moved
    assert paid_in == 10 and kept >= 1
    assert settled.lp_fees_paid is not None
    assert Fraction(settled.lp_fees_paid) == Fraction(kept, 10**6)
