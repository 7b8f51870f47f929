"""A sandwich around a vault trade (front-run and back-run in the trade's block) is detected at settlement and
reported with its size, on a V2 pair and a V3 pool, checked against the pool's own state before the block;
a clean trade is not flagged although it differs from the vault's oracle (fee + impact); with no oracle for
the pair the start-of-block pool reference still flags."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.rpc import Reply, RPCClient
from vaultexec.dex.calls_at_blocks import CallAt, calls_at_blocks
from vaultexec.execution import sandwich
from vaultexec.execution.executor import (
    STAGE_BROADCAST,
    STAGE_SETTLED,
    STAGE_SIGNED,
    STAGE_TRACKED,
    VaultExecutionModel,
)
from vaultexec.execution.sandwich import (
    PRICE_CHECK_NOTE,
    SANDWICH_NOTE,
    PoolAtBlockStart,
    Reference,
    check_sandwiches,
    sandwich_notes,
)
from vaultexec.model.identifiers import TradingPairIdentifier
from vaultexec.model.price_check import PriceCheckRecord, parse_note, plain, price_checks
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeExecution
from vaultexec.store.export import trade_fields
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.faultproxy import FaultProxy
from vaultexec.testing.world import World

from exec_pipeline import make_executor, make_trade, pair, register_world, world_pairs  # isort: skip

GWEI = 10**9
FRONT_USDC = 30_000 * 10**6  # moves the WETH/USDC price ~0.6 %: inside the trade's 2 % tolerance and 5 % bound
BACK_WETH = 9 * 10**18
Q96 = 2**96
_POOL_ABI = [
    {"name": "getReserves", "type": "function", "stateMutability": "view", "inputs": [],
     "outputs": [{"type": "uint112"}, {"type": "uint112"}, {"type": "uint32"}]},
    {"name": "token0", "type": "function", "stateMutability": "view", "inputs": [],
     "outputs": [{"type": "address"}]},
    {"name": "slot0", "type": "function", "stateMutability": "view", "inputs": [],
     "outputs": [{"type": "uint160"}, {"type": "int24"}, {"type": "uint16"}, {"type": "uint16"}, {"type": "uint16"},
                 {"type": "uint8"}, {"type": "bool"}]},
    {"name": "liquidity", "type": "function", "stateMutability": "view", "inputs": [],
     "outputs": [{"type": "uint128"}]},
]


def executor(web3: Web3, world: World, vault: Contract, tmp_path: Path,
             on_stage: object = None) -> VaultExecutionModel:
    register_world(world.addresses)
    store = SQLiteStore(tmp_path / "store.db", vault.address)
    return make_executor(web3.provider.endpoint_uri, vault.address, world.chain_id,  # type: ignore[attr-defined]
                         world_pairs(world.addresses), store, RunState(), on_stage=on_stage)  # type: ignore[arg-type]


def v2_out(raw_in: int, reserve_in: int, reserve_out: int) -> int:
    """Uniswap V2's getAmountOut (0.3 % fee), written out here to check the detector independently."""
    return raw_in * 997 * reserve_out // (reserve_in * 1000 + raw_in * 997)


def pool_out_before(web3: Web3, world: World, trading_pair: TradingPairIdentifier, block: int, raw_usdc: int) -> int:
    """WETH out for `raw_usdc` in, from the pool's own state at `block` (reserves; for a full-range V3 pool its
    virtual reserves L/sqrtP and L*sqrtP, which a swap inside the range trades on as on a V2 pair)."""
    pool = web3.eth.contract(trading_pair.pool_address, abi=_POOL_ABI)
    usdc_is_0 = pool.functions.token0().call() == world.usdc.address
    if trading_pair.fee is None or trading_pair.exchange_address == world.uniswap_v2_router.address:
        r0, r1, _ = pool.functions.getReserves().call(block_identifier=block)
        return v2_out(raw_usdc, *((r0, r1) if usdc_is_0 else (r1, r0)))
    sqrt_price = pool.functions.slot0().call(block_identifier=block)[0]
    liquidity = pool.functions.liquidity().call(block_identifier=block)
    r0, r1 = liquidity * Q96 // sqrt_price, liquidity * sqrt_price // Q96
    fee_pips = trading_pair.fee
    reserve_in, reserve_out = (r0, r1) if usdc_is_0 else (r1, r0)
    in_after_fee = raw_usdc * (10**6 - fee_pips) // 10**6
    return reserve_out * in_after_fee // (reserve_in + in_after_fee)


def sandwich_hook(web3: Web3, front: Callable[[], Any], back: Callable[[dict[str, int]], Any]
                  ) -> Callable[[str, Sequence[TradeExecution]], None]:
    """A stage hook putting `front` before our signed transaction and `back` after it, in one block."""

    def hook(stage: str, trades: Sequence[TradeExecution]) -> None:
        if stage == STAGE_SIGNED:  # our transaction is signed, not yet sent: the front-run goes first
            web3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
            front()
        elif stage == STAGE_BROADCAST:  # ours is in the pool: the back-run after it (the node orders by max fee)
            base_fee = int(web3.eth.get_block("pending")["baseFeePerGas"])
            back({"maxPriorityFeePerGas": 0, "maxFeePerGas": base_fee, "gas": 400_000})
            web3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
            web3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    return hook


def run_sandwiched(web3: Web3, world: World, vault: Contract, tmp_path: Path,
                   trading_pair: TradingPairIdentifier) -> tuple[VaultExecutionModel, TradeExecution]:
    """Buy $5000 of WETH on `trading_pair` with a USDC front-run and a WETH back-run around it (V2 router or
    SwapRouter, by the pair's router); returns the executor and the settled trade."""
    attacker, attacker_back = web3.eth.accounts[4], web3.eth.accounts[5]  # two senders: the node orders by tip
    usdc, weth = world.usdc.address, world.weth.address
    world.fund("USDC", attacker, FRONT_USDC)
    world.fund("WETH", attacker_back, BACK_WETH)
    v2 = trading_pair.exchange_address == world.uniswap_v2_router.address
    router = world.uniswap_v2_router if v2 else world.swap_router
    world.usdc.functions.approve(router.address, FRONT_USDC).transact({"from": attacker})
    world.weth.functions.approve(router.address, BACK_WETH).transact({"from": attacker_back})
    front_fees = {"from": attacker, "maxPriorityFeePerGas": 50 * GWEI, "maxFeePerGas": 100 * GWEI, "gas": 400_000}

    def swap(token_in: str, token_out: str, amount: int, sender: str) -> Any:
        if v2:
            return router.functions.swapExactTokensForTokens(amount, 1, [token_in, token_out], sender, 2**63)
        return router.functions.exactInputSingle((token_in, token_out, trading_pair.fee, sender, 2**63, amount, 1, 0))

    hook = sandwich_hook(web3, lambda: swap(usdc, weth, FRONT_USDC, attacker).transact(front_fees),
                         lambda fees: swap(weth, usdc, BACK_WETH, attacker_back).transact(
                             {"from": attacker_back, **fees}))
    model = executor(web3, world, vault, tmp_path, hook)
    [settled] = model.execute_trades([make_trade(1, trading_pair, "5000")])
    assert settled.is_success()
    tx = settled.blockchain_transactions[-1]
    assert tx.block_number is not None
    block = web3.eth.get_block(tx.block_number, full_transactions=True)
    assert len(block["transactions"]) == 3  # front-run, ours, back-run in one block
    assert block["transactions"][1]["hash"].to_0x_hex() == tx.tx_hash
    return model, settled


def expected_loss(web3: Web3, world: World, settled: TradeExecution) -> Decimal:
    """What the vault paid above the start-of-block price for what it got (USDC), from the pool's own state."""
    tx = settled.blockchain_transactions[-1]
    assert tx.block_number is not None and settled.executed_reserve is not None
    assert settled.executed_quantity is not None
    raw_in = int(abs(settled.executed_reserve).scaleb(6))
    weth_before = Decimal(pool_out_before(web3, world, settled.pair, tx.block_number - 1, raw_in)).scaleb(-18)
    return abs(settled.executed_reserve) * (1 - settled.executed_quantity / weth_before)


def check_flagged(settled: TradeExecution, loss: Decimal) -> tuple[str, PriceCheckRecord]:
    """The trade's one sandwich note, its size equal to `loss` (USDC) to 6 significant digits."""
    [line] = sandwich_notes(settled)
    assert line.startswith(SANDWICH_NOTE)
    worse, lost = re.search(r"([0-9.]+) % worse, ([0-9.e+]+) USDC", line).groups()  # type: ignore[union-attr]
    assert Decimal(worse) > Decimal("0.3")
    assert loss > 10  # USDC: the front-run made the vault pay more
    assert abs(Decimal(lost) - loss) <= Decimal("0.00001") * loss
    record = parse_note(line)
    assert record is not None and record.flagged and record.loss == Decimal(lost)
    return line, record


def cli_env(web3: Web3, vault: Contract, tmp_path: Path) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("VAULTEXEC_")},
            "VAULTEXEC_RPC_URL": web3.provider.endpoint_uri, "VAULTEXEC_VAULT": vault.address,  # type: ignore[attr-defined]
            "VAULTEXEC_STORE": f"sqlite:///{tmp_path / 'store.db'}", "COLUMNS": "300"}


VAULTEXEC = str(Path(sys.executable).with_name("vaultexec"))


def test_a_v2_sandwich_is_flagged_with_its_size_and_oracle_value(web3: Web3, world: World, vault: Contract,
                                                                 tmp_path: Path) -> None:
    model, settled = run_sandwiched(web3, world, vault, tmp_path, pair(world.addresses, "WETH", "USDC"))
    line, record = check_flagged(settled, expected_loss(web3, world, settled))
    assert record.oracle is not None  # the vault prices WETH and USDC: its oracle values the loss
    usdc_usd = Decimal(world.feed("USDC").functions.latestRoundData().call()[1]).scaleb(-8)
    assert abs(record.oracle.loss_usd - record.loss * usdc_usd) <= Decimal("0.01")
    assert record.oracle.bps > record.adverse * 10_000  # fee + impact + the front-run, against the oracle
    assert sandwich_notes(model.store.load(1)) == [line]  # stored with the trade
    fields = trade_fields(model.store.load(1))  # the CSV export / trade JSON
    assert fields["sandwich_suspected"] == "yes" and fields["price_check"] == line
    assert Decimal(fields["price_check_loss"]) == record.loss

    env = cli_env(web3, vault, tmp_path)
    text = subprocess.run([VAULTEXEC, "status"], env=env, capture_output=True, text=True, timeout=120, check=True)
    assert f"SANDWICH trade #1: {line}" in text.stdout
    document = json.loads(subprocess.run([VAULTEXEC, "status", "--json"], env=env, capture_output=True, text=True,
                                         timeout=120, check=True).stdout)
    [suspected] = document["sandwiches_suspected"]
    assert suspected["trade_id"] == 1 and suspected["note"] == line and suspected["reserve"] == "USDC"
    assert Decimal(suspected["loss"]) == record.loss and Decimal(suspected["loss_usd"]) == record.oracle.loss_usd
    assert Decimal(suspected["oracle_difference_bps"]) == record.oracle.bps


def test_a_v3_sandwich_is_flagged_with_its_size(web3: Web3, world: World, vault: Contract, tmp_path: Path) -> None:
    _, settled = run_sandwiched(web3, world, vault, tmp_path, pair(world.addresses, "WETH", "USDC", 3000))
    _, record = check_flagged(settled, expected_loss(web3, world, settled))
    assert record.oracle is not None and "pool at the start of block" in record.source


def test_without_an_oracle_for_the_pair_the_start_of_block_pool_still_flags(web3: Web3, world: World,
                                                                            vault: Contract, tmp_path: Path) -> None:
    owner = {"from": world.deployer}
    vault.functions.disableLossBound().transact(owner)  # WETH unpriced: the bound would refuse the trade
    vault.functions.setUnboundedSpendAllowed(world.usdc.address, True).transact(owner)
    vault.functions.removePriceSource(world.weth.address).transact(owner)
    _, settled = run_sandwiched(web3, world, vault, tmp_path, pair(world.addresses, "WETH", "USDC"))
    line, record = check_flagged(settled, expected_loss(web3, world, settled))
    assert record.oracle is None and "oracle" not in line
    assert trade_fields(settled)["oracle_difference_bps"] == ""


def test_a_clean_trade_differs_from_the_oracle_and_is_not_flagged(web3: Web3, world: World, vault: Contract,
                                                                  tmp_path: Path) -> None:
    model = executor(web3, world, vault, tmp_path)
    done = model.execute_trades([make_trade(1, pair(world.addresses, "WETH", "USDC"), "5000"),
                                 make_trade(2, pair(world.addresses, "WBTC", "WETH", 3000), "2", buy=False)])
    settled, other = sorted(done, key=lambda t: t.trade_id)
    assert settled.is_success() and other.is_success() and sandwich_notes(settled) == sandwich_notes(other) == []
    [(_, other_record)] = price_checks(other.notes)
    # a sell of WBTC (priced by its V3 TWAP in WETH, WETH by its feed): worse than the oracle by the 0.3 % fee
    # and its impact (~10 bps for $6,000 on the $6M pool), in the same direction as a buy's
    assert other_record.oracle is not None and 30 < other_record.oracle.bps < 50
    # both references of the whole batch in one HTTP request, one eth_simulateV1 per block (each holds that
    # block's route quote and oracle valuation)
    blocks = {t.blockchain_transactions[-1].block_number for t in (settled, other)}
    before = model.client.stats.snapshot()
    references = PoolAtBlockStart(model.client, vault.address).prices([settled, other])
    asked = model.client.stats.since(before)
    assert asked.http_round_trips == 1 and asked.requests_by_method == {"eth_simulateV1": len(blocks)}
    assert all(references[t].oracle is not None for t in (1, 2))
    # a node without eth_simulateV1: the same references from one eth_call each (asked once, remembered)
    with NoSimulateProxy(model.client.url) as proxy:
        client = RPCClient(proxy.url)
        assert PoolAtBlockStart(client, vault.address).prices([settled, other]) == references
        assert client.stats.requests_by_method == {"eth_simulateV1": len(blocks), "eth_call": 4}
        assert PoolAtBlockStart(client, vault.address).prices([settled, other]) == references
        assert client.stats.requests_by_method == {"eth_simulateV1": len(blocks), "eth_call": 8}
    # a node whose simulation answer cannot be read: no references, no error (the settlement stands)
    with MangledSimulateProxy(model.client.url) as proxy:
        assert PoolAtBlockStart(RPCClient(proxy.url), vault.address).prices([settled, other]) == {}
    [(line, record)] = price_checks(settled.notes)
    assert line.startswith(f"{PRICE_CHECK_NOTE}: executed price") and "0.0000 % worse" in line
    assert not record.flagged and record.oracle is not None
    # the oracle's figure, from the feeds: paid X USDC for Q WETH, worth Q x WETH/USD against X x USDC/USD
    weth_usd, usdc_usd = (Decimal(world.feed(s).functions.latestRoundData().call()[1]).scaleb(-8)
                          for s in ("WETH", "USDC"))
    assert settled.executed_reserve is not None and settled.executed_quantity is not None
    spent, got = abs(settled.executed_reserve) * usdc_usd, abs(settled.executed_quantity) * weth_usd
    assert abs(record.oracle.usd - (spent - got)) <= Decimal("0.01")
    bps = (spent - got) / spent * 10_000
    assert bps > 30  # at least the pool's 0.3 % fee: never zero, so never the flag's measure
    assert abs(record.oracle.bps - bps) <= Decimal("0.01")
    assert abs(record.oracle.price - weth_usd / usdc_usd) <= Decimal("0.0001")
    assert trade_fields(settled)["sandwich_suspected"] == "no"


class NoSimulateProxy(FaultProxy):
    """A node that has no eth_simulateV1 (method not found)."""

    def rewrite_reply(self, request: dict[str, Any], reply: dict[str, Any]) -> None:
        if request.get("method") == "eth_simulateV1":
            reply.pop("result", None)
            reply["error"] = {"code": -32601, "message": "the method eth_simulateV1 does not exist/is not available"}


class MangledSimulateProxy(FaultProxy):
    """A node whose eth_simulateV1 answers hold no calls."""

    def rewrite_reply(self, request: dict[str, Any], reply: dict[str, Any]) -> None:
        if request.get("method") == "eth_simulateV1":
            reply["result"] = [{"calls": []}]


class FixedOracle:
    """A stand-in reference source: one price for every trade."""

    def __init__(self, price: Decimal) -> None:
        self.price = price

    def prices(self, trades: Sequence[TradeExecution]) -> dict[int, Reference]:
        return {t.trade_id: Reference(self.price, "oracle") for t in trades}


def test_a_reference_source_plugs_in(web3: Web3, world: World, vault: Contract, tmp_path: Path) -> None:
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

    # any reference, however absurd, never breaks a settlement: a price that makes the gain a 37-digit USDC
    # amount is still noted exactly; a zero price (no comparison possible) is skipped
    [huge] = check_sandwiches([settled], FixedOracle(Decimal("1e30")))
    assert huge.loss < Decimal("-1e28") and not huge.flagged
    [(_, record)] = price_checks(settled.notes)[-1:]
    assert record.reference == Decimal("1e30") and record.loss == Decimal(plain(huge.loss, 8))
    assert check_sandwiches([settled], FixedOracle(Decimal(0))) == []


def test_a_trade_first_in_its_block_needs_no_start_of_block_quote(web3: Web3, world: World, vault: Contract,
                                                                  tmp_path: Path, monkeypatch: Any) -> None:
    """Nothing ran before it in its block (its receipt's transaction index is 0): the pool at the block's start
    is the pool it met, so settlement asks only the oracle's valuation (issue 14: requests per trade)."""
    asked: dict[str, Any] = {}
    read: list[CallAt] = []

    def count(stage: str, trades: Sequence[TradeExecution]) -> None:
        if stage == STAGE_TRACKED:
            asked["before"] = model.client.stats.snapshot()
        elif stage == STAGE_SETTLED:
            asked["settle"] = model.client.stats.since(asked["before"]).requests_by_method

    def recorded(client: RPCClient, calls: Sequence[CallAt]) -> list[Reply]:
        read.extend(calls)
        return calls_at_blocks(client, calls)

    monkeypatch.setattr(sandwich, "calls_at_blocks", recorded)
    model = executor(web3, world, vault, tmp_path, count)
    [settled] = model.execute_trades([make_trade(1, pair(world.addresses, "WETH", "USDC", 3000), "5000")])
    tx = settled.blockchain_transactions[-1]
    assert web3.eth.get_transaction_receipt(tx.tx_hash)["transactionIndex"] == 0  # type: ignore[arg-type]
    assert asked["settle"]["eth_simulateV1"] == 1 and "eth_call" not in asked["settle"]
    assert [call.to for call in read] == [vault.address]  # the oracle valuation; no route quote
    [(line, record)] = price_checks(settled.notes)
    assert not record.flagged and "0.0000 % worse" in line and "which the trade opened" in record.source
    assert record.oracle is not None and record.oracle.bps > 0  # the oracle's figure is still recorded
    # the start-of-block quote it spared says the same: the executed price is the pool's at the block's start
    quoted = PoolAtBlockStart(model.client, vault.address).prices([settled])[1]
    assert abs(quoted.price - record.reference) <= Decimal("1e-6") * quoted.price
