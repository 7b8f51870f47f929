"""One refused trade never changes another trade's plan (issue #14): refused trades drop out with their own
reason, the rest is planned and pre-flighted together again, and only what that batch pre-flight passed is
signed. On the world, through the executor (nothing may revert on chain) and through `plan_batch`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import (
    BadInputError,
    InsufficientBalanceError,
    PreflightRefusedError,
    PriceMovedError,
    RouteNotFoundError,
    VaultExecError,
)
from vaultexec.execution.chunking import FALLBACK_CHUNK, TRADE_BODY_BYTES, TRADE_GAS_BOUND, chunk_size, split
from vaultexec.execution.executor import VaultExecutionModel
from vaultexec.execution.routing import VaultRouting
from vaultexec.model.identifiers import TradingPairIdentifier
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.world import World, WorldAddresses

from exec_pipeline import make_executor, make_trade, pair, register_world, world_pairs  # isort: skip


def dust_sell(a: WorldAddresses) -> TradeExecution:
    """Sells less WBTC than one raw unit (8 decimals)."""
    trade = make_trade(1, pair(a, "WBTC", "WETH", 3000), "1", buy=False)
    trade.planned_quantity = Decimal("-0.000000001")
    return trade


def zero_quote_sell(a: WorldAddresses) -> TradeExecution:
    """Sells 1 wei of WETH: the V2 pair quotes 0 USDC for it."""
    trade = make_trade(1, pair(a, "WETH", "USDC"), "1", buy=False)
    trade.planned_quantity = Decimal("-0.000000000000000001")
    return trade


def price_guard_buy(a: WorldAddresses) -> TradeExecution:
    """A buy decided at 2,000 USDC per WETH with 1 % allowed: the pool's ~3,000 is refused."""
    trade = make_trade(1, pair(a, "WETH", "USDC", 500), "1000")
    trade.planned_mid_price = Decimal(2000)
    trade.planned_max_slippage = Decimal("0.01")
    return trade


def oversized_sell(a: WorldAddresses) -> TradeExecution:
    """Sells 400 WETH; the vault holds 300."""
    return make_trade(1, pair(a, "WETH", "USDC", 3000), "1200000", buy=False)


#: kind -> (the refused trade, its error, a phrase of its message)
REFUSALS: dict[str, tuple[Callable[[WorldAddresses], TradeExecution], type[VaultExecError], str]] = {
    "below_one_raw_unit": (dust_sell, BadInputError, "below one raw unit"),
    "zero_quote": (zero_quote_sell, RouteNotFoundError, "quotes 0 USDC"),
    "price_guard": (price_guard_buy, PriceMovedError, "from the decision price 2000"),
    "running_balance": (oversized_sell, InsufficientBalanceError, "holds 300"),
}


def chained_buys(a: WorldAddresses) -> list[TradeExecution]:
    """Two zero-tolerance 50,000 USDC buys on one V2 pair: the second can pass only if quoted after the first,
    so the batch pre-flight (the first's effects carried) refuses it. Planned alone, it would be signed."""
    v2 = pair(a, "WETH", "USDC")
    return [make_trade(2, v2, "50000", tolerance="0"), make_trade(3, v2, "50000", tolerance="0")]


@pytest.fixture(autouse=True)
def wide_loss_bound(vault: Contract, deployer: str) -> None:
    """These tests move pools by 10-20 % on purpose (200 WETH sells): the world vault's 5 % oracle loss cap
    would refuse them first. A 100 % cap keeps every asset bounded while batch planning is what is tested
    (the loss bound's own refusals in batches: tests/execution/test_routing_loss_bound.py)."""
    vault.functions.setLossBound(10_000, 2**128 - 1, 86_400).transact({"from": deployer})


@pytest.fixture()
def executor(web3: Web3, world: World, vault: Contract, tmp_path: Path) -> VaultExecutionModel:
    register_world(world.addresses)
    store = SQLiteStore(tmp_path / "store.db", vault.address)
    return make_executor(web3.provider.endpoint_uri, vault.address, world.chain_id,  # type: ignore[attr-defined]
                         world_pairs(world.addresses), store, RunState())


def routing_of(web3: Web3, world: World, vault: Contract, asset_manager: LocalAccount,
               pairs: list[TradingPairIdentifier]) -> VaultRouting:
    register_world(world.addresses)
    return VaultRouting(web3, vault.address, asset_manager.address, pairs)


def sent(trade: TradeExecution) -> bool:
    return any(tx.tx_hash for tx in trade.blockchain_transactions)


def refusal(trade: TradeExecution) -> str:
    """The reason recorded on a trade refused before signing (on its unsigned transaction)."""
    return trade.blockchain_transactions[-1].revert_reason or ""


def assert_nothing_reverted_on_chain(web3: Web3, asset_manager: LocalAccount, start_nonce: int,
                                     trades: list[TradeExecution]) -> None:
    """Every signed trade succeeded, and the asset manager sent exactly those transactions."""
    signed = [t for t in trades if sent(t)]
    assert all(t.get_status() is TradeStatus.success for t in signed), \
        [(t.trade_id, t.get_revert_reason()) for t in signed if t.get_status() is not TradeStatus.success]
    assert web3.eth.get_transaction_count(asset_manager.address) - start_nonce == len(signed)


@pytest.mark.parametrize("kind", list(REFUSALS))
def test_one_refusal_keeps_the_batch_plan(kind: str, web3: Web3, world: World, vault: Contract,
                                          asset_manager: LocalAccount, executor: VaultExecutionModel) -> None:
    """Trade #1 is refused for `kind`; the others are planned together: the chained buy #3 is refused by the
    batch pre-flight before signing (one-by-one planning signed it and it reverted on chain)."""
    make_refused, _, phrase = REFUSALS[kind]
    a = world.addresses
    trades = [make_refused(a), *chained_buys(a)]
    start = web3.eth.get_transaction_count(asset_manager.address)
    settled = {t.trade_id: t for t in executor.execute_trades(trades)}

    refused = settled[1]
    assert refused.get_status() is TradeStatus.failed and not sent(refused)
    assert phrase in refusal(refused), refusal(refused)
    assert settled[2].get_status() is TradeStatus.success
    assert settled[3].get_status() is TradeStatus.failed and not sent(settled[3])
    assert "INSUFFICIENT_OUTPUT_AMOUNT" in refusal(settled[3]), refusal(settled[3])
    assert_nothing_reverted_on_chain(web3, asset_manager, start, list(settled.values()))


@pytest.mark.parametrize("kind", list(REFUSALS))
def test_refused_trade_drops_out_with_its_own_reason(kind: str, web3: Web3, world: World, vault: Contract,
                                                     asset_manager: LocalAccount) -> None:
    """`plan_batch` with the refused trade gives the others exactly the plans of the batch without it."""
    make_refused, error_type, phrase = REFUSALS[kind]
    a = world.addresses
    routing = routing_of(web3, world, vault, asset_manager, world_pairs(a))
    sell = make_trade(4, pair(a, "WETH", "USDC", 500), "30000", buy=False)
    with_refusal = routing.plan_batch([make_refused(a), *chained_buys(a), sell])
    without = routing.plan_batch([*chained_buys(a), make_trade(4, pair(a, "WETH", "USDC", 500), "30000",
                                                               buy=False)])
    assert set(with_refusal.refused) == {1, 3}
    assert isinstance(with_refusal.refused[1], error_type) and phrase in str(with_refusal.refused[1])
    assert isinstance(with_refusal.refused[3], PreflightRefusedError)
    assert "INSUFFICIENT_OUTPUT_AMOUNT" in str(with_refusal.refused[3])
    assert set(without.refused) == {3}
    assert [(p.trade_id, p.vault_calldata, p.gas_limit) for p in with_refusal.plan.plans] == \
        [(p.trade_id, p.vault_calldata, p.gas_limit) for p in without.plan.plans]
    assert [p.trade_id for p in with_refusal.plan.plans] == [4, 2]


def test_cumulative_oversell_refused_before_signing(web3: Web3, world: World, vault: Contract,
                                                    asset_manager: LocalAccount,
                                                    executor: VaultExecutionModel) -> None:
    """Two sells of 200 WETH each (the vault holds 300) beside a refused trade: the second is refused by the
    running balance before signing; before, planned alone, both were signed and the second reverted (STF)."""
    a = world.addresses
    trades = [dust_sell(a), make_trade(2, pair(a, "WETH", "USDC"), "600000", buy=False),
              make_trade(3, pair(a, "WETH", "USDC", 3000), "600000", buy=False)]
    start = web3.eth.get_transaction_count(asset_manager.address)
    settled = {t.trade_id: t for t in executor.execute_trades(trades)}
    assert settled[2].get_status() is TradeStatus.success
    assert settled[3].get_status() is TradeStatus.failed and not sent(settled[3])
    assert "holds 100" in refusal(settled[3]), refusal(settled[3])
    assert_nothing_reverted_on_chain(web3, asset_manager, start, list(settled.values()))


def test_buy_funded_by_earlier_sell_accepted(web3: Web3, world: World, vault: Contract, deployer: str,
                                             asset_manager: LocalAccount, executor: VaultExecutionModel) -> None:
    """The vault keeps 1,000 USDC; a 20,000 USDC buy is paid by the batch's WETH sell, beside a refused trade
    (one-by-one planning refused the buy against the balance at the start of the batch)."""
    usdc = world.usdc
    balance = usdc.functions.balanceOf(vault.address).call()
    vault.functions.withdraw(usdc.address, balance - 1000 * 10**6).transact({"from": deployer})
    a = world.addresses
    trades = [zero_quote_sell(a), make_trade(2, pair(a, "WETH", "USDC", 500), "20000"),
              make_trade(3, pair(a, "WETH", "USDC"), "30000", buy=False)]
    start = web3.eth.get_transaction_count(asset_manager.address)
    settled = {t.trade_id: t for t in executor.execute_trades(trades)}
    assert settled[1].get_status() is TradeStatus.failed and not sent(settled[1])
    assert settled[2].get_status() is TradeStatus.success and settled[3].get_status() is TradeStatus.success
    assert_nothing_reverted_on_chain(web3, asset_manager, start, list(settled.values()))


def test_chunks_are_planned_on_the_previous_chunks_effects(web3: Web3, world: World, vault: Contract,
                                                           asset_manager: LocalAccount, tmp_path: Path) -> None:
    """A batch bigger than a chunk runs chunk after chunk: the second zero-tolerance buy on one pair, in a
    chunk of its own, is quoted after the first landed and succeeds (in one chunk the pre-flight refuses it)."""
    register_world(world.addresses)
    executor = make_executor(web3.provider.endpoint_uri, vault.address, world.chain_id,  # type: ignore[attr-defined]
                             world_pairs(world.addresses), SQLiteStore(tmp_path / "s.db", vault.address),
                             RunState())
    executor.config = replace(executor.config, chunk_size=1)
    start = web3.eth.get_transaction_count(asset_manager.address)
    settled = executor.execute_trades(chained_buys(world.addresses))
    assert [t.get_status() for t in settled] == [TradeStatus.success] * 2
    assert settled[0].blockchain_transactions[-1].block_number < settled[1].blockchain_transactions[-1].block_number
    assert_nothing_reverted_on_chain(web3, asset_manager, start, settled)


def test_chunk_size_follows_the_body_limit_and_the_block_gas() -> None:
    assert chunk_size(1_000_000, 30_000_000) == 30_000_000 // TRADE_GAS_BOUND
    assert chunk_size(30_000, 30_000_000) == 30_000 // TRADE_BODY_BYTES
    assert chunk_size(1_000_000, None) == FALLBACK_CHUNK
    assert chunk_size(10, 10) == 1
    assert split(list(range(5)), 2) == [[0, 1], [2, 3], [4]]


def test_batch_whose_every_trade_is_refused_plans_nothing(web3: Web3, world: World, vault: Contract,
                                                          asset_manager: LocalAccount) -> None:
    a = world.addresses
    routing = routing_of(web3, world, vault, asset_manager, world_pairs(a))
    zero = zero_quote_sell(a)
    zero.trade_id = 2
    batch = routing.plan_batch([dust_sell(a), zero])
    assert set(batch.refused) == {1, 2} and batch.plan.plans == []
