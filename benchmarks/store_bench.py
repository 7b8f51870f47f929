"""Store throughput at 10,000 settled trade reports: SQLite (WAL, synchronous=FULL) and Redis (AOF always).

Writes: one durable `create()` per report (each fsynced before it returns). Reads: `load()` of every
report by id, in random order; scan: `export_all()` (time-ordered, paged). Starts its own redis-server.
Usage: .venv/bin/python benchmarks/store_bench.py [--reports N]
"""

from __future__ import annotations

import argparse
import copy
import random
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from vaultexec.model.identifiers import AssetIdentifier, ExchangeKind, TradingPairIdentifier
from vaultexec.model.trade import TradeExecution, TradeType
from vaultexec.model.transaction import BlockchainTransaction, TxState
from vaultexec.store.protocol import ExecutionStore
from vaultexec.store.redis import RedisStore, connect
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.redis import launch_redis

VAULT = "0x" + "5a" * 20
T0 = datetime(2024, 1, 1)
USDC = AssetIdentifier(1, "0x" + "01" * 20, "USDC", 6)
WETH = AssetIdentifier(1, "0x" + "02" * 20, "WETH", 18)
PAIR = TradingPairIdentifier(WETH, USDC, "0x" + "03" * 20, "0x" + "04" * 20, 500, ExchangeKind.uniswap_v3)


def settled_template() -> TradeExecution:
    """A realistic settled report: one signed, confirmed transaction with receipt data."""
    trade = TradeExecution(trade_id=0, position_id=1, trade_type=TradeType.rebalance, pair=PAIR, opened_at=T0,
                           planned_quantity=Decimal("0.5"), planned_reserve=Decimal("1500"),
                           planned_price=Decimal(3000), reserve_currency=USDC, slippage_tolerance=Decimal("0.005"))
    tx = BlockchainTransaction(chain_id=1, from_address="0x" + "0a" * 20, contract_address=VAULT,
                               function_selector="execute", gas_limit=300_000, max_fee_per_gas=30 * 10**9)
    tx.set_signed("0x" + "ab" * 32, "0x02f9" + "cd" * 400, 7)
    trade.set_blockchain_transactions([tx])
    trade.mark_started(T0 + timedelta(seconds=1))
    trade.mark_broadcasted(T0 + timedelta(seconds=2))
    tx.block_number, tx.status, tx.tx_state = 100, True, TxState.confirmed
    tx.realised_gas_units_consumed, tx.realised_gas_price = 150_000, 2 * 10**9
    trade.mark_success(T0 + timedelta(seconds=14), Decimal("3001.5"), Decimal("0.499750124937531234"),
                       Decimal(1500), Decimal("0.75"), None)
    return trade


def make_reports(count: int) -> list[TradeExecution]:
    template = settled_template()
    reports = []
    for i in range(count):
        trade = copy.deepcopy(template)
        trade.trade_id = i + 1
        trade.opened_at = T0 + timedelta(seconds=i)
        tx = trade.blockchain_transactions[0]  # each its own hash and nonce: the store refuses a shared one
        tx.tx_hash, tx.nonce = "0x" + f"{i + 1:064x}", i + 1
        reports.append(trade)
    return reports


def rate(count: int, action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return count / (time.perf_counter() - started)


def measure(store: ExecutionStore, reports: list[TradeExecution]) -> tuple[float, float, float]:
    ids = [t.trade_id for t in reports]
    random.Random(1).shuffle(ids)

    def write_all() -> None:
        for trade in reports:
            store.create(trade)

    def read_all() -> None:
        for trade_id in ids:
            store.load(trade_id)

    writes = rate(len(reports), write_all)
    reads = rate(len(reports), read_all)
    scan = rate(len(reports), lambda: len(store.export_all()))
    assert store.count() == len(reports)
    return writes, reads, scan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reports", type=int, default=10_000)
    count = parser.parse_args().reports
    reports = make_reports(count)
    size = len(reports[0].to_json())
    results: list[tuple[str, tuple[float, float, float]]] = []
    with tempfile.TemporaryDirectory(prefix="vaultexec-bench-") as folder:
        with SQLiteStore(Path(folder) / "bench.db", VAULT) as sqlite_store:
            results.append(("sqlite (WAL, synchronous=FULL)", measure(sqlite_store, reports)))
        with launch_redis(data_dir=Path(folder) / "redis") as server, \
                RedisStore(connect(server.url), VAULT) as redis_store:
            results.append(("redis (appendfsync always)", measure(redis_store, reports)))
    print(f"Store throughput, {count:,} settled reports of {size:,} bytes JSON each")
    print(f"| {'backend':<32} | {'writes/s':>9} | {'reads/s':>9} | {'scan/s':>9} |")
    print(f"|{'-' * 34}|{'-' * 11}|{'-' * 11}|{'-' * 11}|")
    for name, (writes, reads, scan) in results:
        print(f"| {name:<32} | {writes:>9,.0f} | {reads:>9,.0f} | {scan:>9,.0f} |")


if __name__ == "__main__":
    main()
