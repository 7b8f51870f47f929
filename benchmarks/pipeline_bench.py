"""The full pipeline on the world: N planned trades -> routing, pre-flight, sign, write-ahead, broadcast,
track, settle. Prints JSON-RPC requests per trade by method, HTTP round trips, wall time per trade, the
floor beside it and the growth from the smallest to the largest N.

The floor: the very same vault transactions (the pipeline's signed bytes), sent in bulk and their receipts
asked in bulk, 100 at a time as the pipeline's chunks, on the chain as it was before the pipeline ran
(evm_snapshot / evm_revert): what anvil itself needs for them. Peak memory is the process's peak
resident set so far (ru_maxrss).

The CPU table says where the time goes: CPU ms per trade of anvil (its process and children, from /proc)
and of this process (every thread: the executor and its helpers) during the pipeline and during the floor.
"overlap bound" is the wall time per trade if every CPU ms of both ran side by side on this machine's cores
(max of the two, or their sum / cores): no schedule of the pipeline's work can go below it, and its ratio to
the floor is the best "x floor" this machine allows for that work. /proc counts CPU in ticks (10 ms here): the
N = 10 and N = 100 rows are coarse. A row whose floor could not be measured shows the pipeline's CPU only.

Run: .venv/bin/python benchmarks/pipeline_bench.py [N ...]   (default 10 100 1000 10000)

Its own anvil (automine) with the world deployed and a vault funded for ~11,000 small trades; the store
is SQLite (WAL, synchronous=FULL) in a temporary directory. Targets (issue #14): every trade of N = 10,000
settled; <= 2.5 ms/trade at N = 1,000 and <= 2.5x the floor; ms/trade at N = 10,000 <= 1.5x that at
N = 100; <= 2.2 JSON-RPC requests per trade. The load column is the machine's 1-minute load average when
that N finished (the 2 cores are shared: read absolute times beside it).

anvil runs with automine; the tracker config asks it for a block (`evm_mine`) when our transactions waited
10 ms in its pool with no new block (`mine_when_idle_after`, dev chains only; it looks every 5 ms), as the
floor does after one look at receipts that found nothing new (anvil leaves the tail of a bulk send in its
pool until something happens: at 50 ms that wait was ~0.3 ms per trade at N = 1,000). anvil keeps the states
of its last 300 blocks (`ANVIL_HISTORY`). A floor anvil cannot replay (it refused to revert, or the re-sent
transactions came back "nonce too low" or never mined: seen at N = 10,000 before `ANVIL_HISTORY`) leaves that
row's floor empty, the pipeline's figures stand, and the larger sizes are not run (the chain is no longer
what the store recorded).
"""

from __future__ import annotations

import datetime
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from eth_account import Account

from vaultexec.chain.broadcast import TrackerConfig
from vaultexec.chain.rpc import Reply, RPCClient, connect_web3
from vaultexec.chain.wallet import HotWallet
from vaultexec.dex.deployments import Deployment, register_deployment
from vaultexec.execution.executor import ExecutorConfig, RoutingPlanner, StageHook, VaultExecutionModel
from vaultexec.execution.routing import VaultRouting
from vaultexec.model.identifiers import AssetIdentifier, ExchangeKind, TradingPairIdentifier
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeExecution, TradeType
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.anvil import AnvilInstance, launch_anvil
from vaultexec.testing.plugin import ASSET_MANAGER_KEY, CODE_SIZE_LIMIT, make_web3
from vaultexec.testing.vaults import deploy_world_vault
from vaultexec.testing.world import TOKENS, World, deploy_world

DEFAULT_SIZES = (10, 100, 1000, 10000)
#: anvil keeps the states of its last 300 blocks, as a full node keeps recent state (the sandwich check reads
#: at most a chunk's blocks back). Keeping every state, anvil could not revert to the snapshot taken before a
#: 10,000-trade run: the floor's replay came back "nonce too low" and that floor was never measured.
ANVIL_HISTORY = ["--prune-history", "300"]
#: Transactions per bulk send of the floor: the pipeline's chunk on anvil (30M block gas / 300k per trade).
FLOOR_CHUNK = 100
EXTRA_FUNDING = {"USDC": 2_000_000, "WETH": 600}
DECIMALS = {spec.symbol: spec.decimals for spec in TOKENS}
WETH_PRICE = Decimal(3000)
#: Wall time up to each stage mark, summed over chunks. Chunks overlap (docs/execution.md, "One batch"): the
#: marks come as tracked (chunk k), planned, signed (chunk k+1), settled (chunk k), broadcast (chunk k+1). So
#: "tracked" holds chunk k's mined wait and chunk k+1's planning (chunk k's receipts come in beside it),
#: "settled" chunk k+1's sends with chunk k's settlement beside them; the first chunk's planning counts as
#: "planned", its sends as "broadcast"; the last chunk's tracking and settlement come alone at the end.
STAGE_NAMES = ("planned", "tracked: mined wait + plan next", "signed", "settled: sends + settle previous",
               "broadcast")
OPENED_AT = datetime.datetime(2026, 1, 1)


def _pairs(world: World) -> list[TradingPairIdentifier]:
    a = world.addresses

    def token(symbol: str) -> AssetIdentifier:
        return AssetIdentifier(a.chain_id, a.tokens[symbol], symbol, DECIMALS[symbol])

    weth, usdc = token("WETH"), token("USDC")
    return [TradingPairIdentifier(weth, usdc, a.v2_pairs["USDC/WETH"], a.uniswap_v2_router, 3000,
                                  ExchangeKind.uniswap_v2),
            TradingPairIdentifier(weth, usdc, a.v3_pools["USDC/WETH/500"], a.swap_router, 500,
                                  ExchangeKind.uniswap_v3),
            TradingPairIdentifier(weth, usdc, a.v3_pools["USDC/WETH/3000"], a.swap_router, 3000,
                                  ExchangeKind.uniswap_v3)]


def _trades(pairs: Sequence[TradingPairIdentifier], first_id: int, count: int) -> list[TradeExecution]:
    """Small alternating buys (10 USDC) and sells (0.003 WETH) spread over the V2 and V3 pools.

    The executor runs a batch's sells first: at N = 10,000 the 5,000 sells go out before any buy, so they are
    small enough to move no pool beyond the vault's per-trade oracle loss cap (0.03 WETH each did, from
    trade ~9,600 on)."""
    trades = []
    for n in range(count):
        pair = pairs[n % len(pairs)]
        buy = n % 2 == 0
        reserve = Decimal(10) if buy else Decimal(9)
        quantity = (reserve / WETH_PRICE).quantize(Decimal("1e-18"))
        trades.append(TradeExecution(
            trade_id=first_id + n, position_id=1, trade_type=TradeType.rebalance, pair=pair,
            opened_at=OPENED_AT, planned_quantity=quantity if buy else -quantity, planned_reserve=reserve,
            planned_price=WETH_PRICE, reserve_currency=pair.quote, slippage_tolerance=Decimal("0.02")))
    return trades


def main(sizes: Sequence[int]) -> None:
    with launch_anvil(code_size_limit=CODE_SIZE_LIMIT, extra_args=ANVIL_HISTORY) as node, \
            tempfile.TemporaryDirectory() as tmp:
        web3 = make_web3(node.url)
        world = deploy_world(web3)
        manager = Account.from_key(ASSET_MANAGER_KEY)
        node.rpc("anvil_setBalance", [manager.address, hex(10_000 * 10**18)])
        vault = deploy_world_vault(world, manager.address)
        for symbol, human in EXTRA_FUNDING.items():
            world.fund(symbol, vault.address, human * 10 ** DECIMALS[symbol])
        a = world.addresses
        register_deployment(Deployment(a.chain_id, "world", a.uniswap_v2_factory, a.uniswap_v2_router,
                                       a.uniswap_v3_factory, a.swap_router, a.swap_router02, a.quoter_v2),
                            replace_existing=True)
        client = RPCClient(node.url, timeout=300.0)  # the floor's bulk sends of 1,000s: anvil takes its time
        wallet = HotWallet.from_key(ASSET_MANAGER_KEY, a.chain_id)
        routing = VaultRouting(connect_web3(client), vault.address, wallet.address, _pairs(world), client=client)
        store = SQLiteStore(Path(tmp) / "bench.db", vault.address)
        executor = VaultExecutionModel(
            client, vault.address, RoutingPlanner(routing), wallet, store, RunState(),
            ExecutorConfig(TrackerConfig(confirmations=0, poll_interval=0.005, timeout=600, drop_check_after=5.0,
                                        mine_when_idle_after=0.01)))
        executor.resume()  # as at start-up (nothing to do; syncs the nonce)
        executor.execute_trades(_trades(_pairs(world), 1_000_000, 2))  # warm-up: caches, connections

        rows = []
        stages: list[tuple[int, dict[str, float]]] = []
        floors: dict[int, float | None] = {}
        memory: dict[int, float] = {}
        loads: dict[int, float] = {}
        cpus: dict[int, tuple[Cpu | None, Cpu | None]] = {}
        next_id = 1
        for size in sizes:
            trades = _trades(_pairs(world), next_id, size)
            next_id += size
            marks: list[tuple[str, float]] = []
            executor.on_stage = _stage_recorder(marks)
            snapshot = node.rpc("evm_snapshot", [])
            before = client.stats.snapshot()
            cpu_before = _cpu(node)
            started = time.perf_counter()
            settled = executor.execute_trades(trades)
            elapsed = time.perf_counter() - started
            cpu_pipeline = _cpu_since(node, cpu_before)
            used = client.stats.since(before)
            ok = sum(1 for t in settled if t.is_success())
            rows.append((size, ok, used.requests_by_method, used.total_requests, used.http_round_trips, elapsed))
            stages.append((size, _stage_ms(started, marks, size)))
            memory[size] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            loads[size] = os.getloadavg()[0]
            cpus[size] = (cpu_pipeline, None)
            cpu_before = _cpu(node)
            try:
                floors[size] = _floor(node, client, settled, snapshot)
                cpus[size] = (cpu_pipeline, _cpu_since(node, cpu_before))
            except FloorError as exc:  # that row shows no floor; the pipeline's own figures stand
                floors[size] = None
                later = sizes[sizes.index(size) + 1:]
                print(f"N={size}: floor not measured: {exc}" + (
                    f"; N={', '.join(map(str, later))} not run (the chain is no longer the one the store "
                    "recorded)" if later else ""), file=sys.stderr)
                break
        _print(rows, floors, memory, loads)
        _print_cpu(cpus, floors, {row[0]: row[5] for row in rows})
        print()
        print("| N | " + " | ".join(f"{name} ms/trade" for name in STAGE_NAMES) + " |")
        print("| --- |" + " --- |" * len(STAGE_NAMES))
        for size, per_stage in stages:
            print(f"| {size} | " + " | ".join(f"{per_stage.get(name, 0.0):.2f}" for name in STAGE_NAMES) + " |")


class FloorError(Exception):
    """The floor's replay did not go as the pipeline's run did (anvil refused or mined otherwise)."""


def _floor(node: AnvilInstance, client: RPCClient, settled: Sequence[TradeExecution], snapshot: str,
           chunk: int = FLOOR_CHUNK) -> float:
    """Seconds anvil needs for the pipeline's own signed transactions, sent and received in bulk, on the chain
    as it was before the pipeline (reverted to `snapshot`); afterwards the chain is as the pipeline left it.

    Every transaction the pipeline got mined is sent again (a reverted one too: leaving it out would leave a
    nonce gap that holds back all later ones); each must be mined again with the status it had. They go out
    `chunk` at a time, as the pipeline sends them (one request of sends, then receipts in bulk until all are
    mined): one request of 10,000 sends made anvil grow past 6 GB without mining anything."""
    mined = [tx for t in settled for tx in t.blockchain_transactions[-1:] if tx.signed_bytes and tx.block_number]
    raw = [(str(tx.signed_bytes), str(tx.tx_hash)) for tx in mined]
    expected = {str(tx.tx_hash): "0x1" if tx.status else "0x0" for tx in mined}
    if node.rpc("evm_revert", [snapshot]) is not True:
        raise FloorError(f"anvil could not revert to snapshot {snapshot}")
    started = time.perf_counter()
    receipts: dict[str, Reply] = {}
    for start in range(0, len(raw), chunk):
        part = raw[start:start + chunk]
        sent = client.batch([("eth_sendRawTransaction", [signed]) for signed, _ in part])
        refused = [r.error for r in sent if r.error is not None and not _already_in(r)]
        if refused:
            raise FloorError(f"the node refused {len(refused)} of {len(part)} sends: {refused[:3]}")
        _receipts_of(client, [tx_hash for _, tx_hash in part], receipts)
    elapsed = time.perf_counter() - started
    bad = [(h, r.result) for h, r in receipts.items()
           if not isinstance(r.result, dict) or r.result.get("status") != expected[h]]
    if bad:
        raise FloorError(f"{len(bad)} transactions landed otherwise than in the pipeline: {bad[:3]}")
    return elapsed


def _receipts_of(client: RPCClient, hashes: list[str], receipts: dict[str, Reply]) -> None:
    """Ask for the receipts of `hashes` in bulk until all are mined (anvil mines right after it accepts; an
    `evm_mine` when part of a bulk send stays in its pool, as the tracker does); 60 s without progress fails."""
    progress = time.perf_counter()
    while True:
        missing = [tx_hash for tx_hash in hashes if tx_hash not in receipts]
        if not missing:
            return
        answers = client.batch([("eth_getTransactionReceipt", [tx_hash]) for tx_hash in missing])
        found = {h: r for h, r in zip(missing, answers, strict=True) if r.result is not None}
        receipts.update(found)
        if found:
            progress = time.perf_counter()
        elif time.perf_counter() - progress > 60:
            raise FloorError(f"{len(missing)} transactions not mined after 60 s without progress")
        else:
            client.call("evm_mine")


def _already_in(reply: Reply) -> bool:
    """A send answered "already imported / known": a retried bulk send whose first try the node took."""
    text = str(reply.error).lower()
    return "already" in text and ("imported" in text or "known" in text)


def _stage_recorder(marks: list[tuple[str, float]]) -> StageHook:
    def record(stage: str, trades: Sequence[TradeExecution]) -> None:
        marks.append((stage, time.perf_counter()))

    return record


def _stage_ms(started: float, marks: list[tuple[str, float]], size: int) -> dict[str, float]:
    """Wall ms per trade of each stage, from the executor's stage marks."""
    names = dict(zip(("planned", "tracked", "signed", "settled", "broadcast"), STAGE_NAMES, strict=True))
    result: dict[str, float] = {}
    previous = started
    for stage, moment in marks:  # one round of stages per chunk: summed
        result[names[stage]] = result.get(names[stage], 0.0) + (moment - previous) * 1000 / size
        previous = moment
    return result


#: (anvil CPU seconds, this process's CPU seconds).
Cpu = tuple[float, float]


def _cpu(node: AnvilInstance) -> Cpu | None:
    """CPU seconds so far; None where anvil's cannot be read (no /proc)."""
    anvil = _process_tree_cpu(node.process.pid if node.process else None)
    if anvil is None:
        return None
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return anvil, usage.ru_utime + usage.ru_stime


def _cpu_since(node: AnvilInstance, before: Cpu | None) -> Cpu | None:
    now = _cpu(node)
    if now is None or before is None:
        return None
    return now[0] - before[0], now[1] - before[1]


def _process_tree_cpu(root: int | None) -> float | None:
    """User + system CPU seconds of `root` and its descendants (Linux /proc; None elsewhere)."""
    if root is None or not os.path.isdir("/proc"):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    seconds: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        parents[int(entry)] = int(fields[1])
        seconds[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    tree, grown = {root}, True
    while grown:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    return sum(seconds.get(pid, 0.0) for pid in tree) if root in seconds else None


def _print_cpu(cpus: dict[int, tuple[Cpu | None, Cpu | None]], floors: dict[int, float | None],
               walls: dict[int, float]) -> None:
    cores = os.cpu_count() or 1
    print()
    print(f"| N | pipeline: anvil CPU ms/trade | pipeline: this process CPU ms/trade | floor: anvil CPU ms/trade | "
          f"overlap bound ms/trade ({cores} cores) | pipeline wall / bound | bound x floor |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for size, (pipeline, floor_cpu) in cpus.items():
        if pipeline is None:
            print(f"| {size} | - | - | - | - | - | - |")
            continue
        anvil, own = pipeline
        bound = max(anvil, own, (anvil + own) / cores)
        seconds = floors.get(size)
        floor_anvil = f"{floor_cpu[0] * 1000 / size:.2f}" if floor_cpu is not None else "-"
        against_wall = f"{walls[size] / bound:.2f}" if bound > 0 else "-"
        against_floor = f"{bound / seconds:.2f}" if seconds and bound > 0 else "-"
        print(f"| {size} | {anvil * 1000 / size:.2f} | {own * 1000 / size:.2f} | {floor_anvil} | "
              f"{bound * 1000 / size:.2f} | {against_wall} | {against_floor} |")


def _print(rows: list[tuple[int, int, Counter[str], int, int, float]], floors: dict[int, float | None],
           memory: dict[int, float], loads: dict[int, float]) -> None:
    methods = sorted({m for row in rows for m in row[2]})
    print("| N | settled ok | JSON-RPC requests / trade | HTTP round trips | ms / trade | floor ms / trade | "
          "x floor | peak RSS MiB | load (1 min) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for size, ok, _, total, trips, elapsed in rows:
        seconds = floors[size]
        floor = f"{seconds * 1000 / size:.2f}" if seconds else "-"
        ratio = f"{elapsed / seconds:.2f}" if seconds else "-"
        print(f"| {size} | {ok} of {size} | {total / size:.3f} | {trips} | {elapsed * 1000 / size:.2f} | {floor} | "
              f"{ratio} | {memory[size]:.0f} | {loads[size]:.1f} |")
    print()
    print("| method | " + " | ".join(f"N={row[0]}" for row in rows) + " |")
    print("| --- |" + " --- |" * len(rows))
    for method in methods:
        print(f"| {method} | " + " | ".join(f"{row[2].get(method, 0) / row[0]:.3f}" for row in rows) + " |")
    first, last = rows[0], rows[-1]
    growth = (last[5] / last[0]) / (first[5] / first[0])
    print()
    print(f"growth of wall time per trade from N={first[0]} to N={last[0]}: x{growth:.2f} "
          f"(1.00 = perfectly linear total time)")
    by_size = {row[0]: row[5] / row[0] for row in rows}
    if 100 in by_size and 10000 in by_size:
        print(f"ms/trade at N=10000 / at N=100: x{by_size[10000] / by_size[100]:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or DEFAULT_SIZES)
