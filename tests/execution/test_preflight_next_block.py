"""Pre-flight gas when the trade lands a second after the block it was planned at.

A V2 pair writes its price accumulators, a V3 pool its oracle observation, only in a block whose timestamp
moved since its last swap. Simulated in the latest block itself, a trade on a pool swapped in that block's
second skipped those writes and got too low a gas limit: the demo's V2 trades ran out of gas on chain.
Pre-flight now runs each call in its own block after the latest one, one second apart: the simulated
gasUsed is then exactly what the transaction uses when mined a second later.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from test_routing_helpers import asset, make_trade, send_plan, world_pairs
from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.rpc import RPCClient
from vaultexec.dex.reads import MAX_SIMULATED_BLOCKS, BlockHeader, CallRunner, ContractCall
from vaultexec.errors import PreflightRefusedError
from vaultexec.execution import VaultRouting
from vaultexec.execution.plan import TradePlan
from vaultexec.model import ExchangeKind, TradingPairIdentifier
from vaultexec.testing.world import World


def rpc(web3: Web3, method: str, params: list[Any]) -> Any:
    answer = web3.provider.make_request(method, params)  # type: ignore[arg-type]
    assert "error" not in answer, answer
    return answer["result"]


def gas_needed_next_second(web3: Web3, manager: LocalAccount, vault: Contract, plan: TradePlan) -> int:
    """What the plan's transaction needs (before refunds) in the next block, one second after the latest."""
    latest = web3.eth.get_block("latest")
    call = {"from": manager.address, "to": vault.address, "data": "0x" + plan.vault_calldata.hex()}
    overrides = {"number": hex(latest["number"] + 1), "time": hex(latest["timestamp"] + 1)}
    return int(rpc(web3, "eth_estimateGas", [call, hex(latest["number"]), {}, overrides]), 16)


def mine_next_one_second_later(web3: Web3) -> None:
    rpc(web3, "evm_setNextBlockTimestamp", [web3.eth.get_block("latest")["timestamp"] + 1])


def land_a_second_later(web3: Web3, manager: LocalAccount, vault: Contract, plan: TradePlan) -> int:
    """Send the plan's transaction into a block one second after the latest; returns its gasUsed after
    checking the plan's gas figures cover what it needed."""
    needed = gas_needed_next_second(web3, manager, vault, plan)
    assert plan.gas_estimate is not None and plan.gas_estimate >= needed, (plan.gas_estimate, needed)
    mine_next_one_second_later(web3)
    gas_used = int(send_plan(web3, manager, plan, vault)["gasUsed"])  # asserts status 1
    assert plan.gas_limit is not None and gas_used < plan.gas_limit
    return gas_used


def fresh_v2_pair(world: World, vault: Contract, deployer: str) -> TradingPairIdentifier:
    """A new WETH/DAI V2 pair, allowed by the vault; its liquidity is added last, so the latest block is
    its last update and its price accumulators are still zero (their first write costs ~20k gas each)."""
    router = world.uniswap_v2_router
    weth, dai = world.weth, world.dai
    vault.functions.setPoolAllowed(router.address, weth.address, dai.address, 0, True).transact({"from": deployer})
    world.fund("WETH", deployer, 100 * 10**18)
    world.fund("DAI", deployer, 300_000 * 10**18)
    for token, amount in ((weth, 100 * 10**18), (dai, 300_000 * 10**18)):
        token.functions.approve(router.address, amount).transact({"from": deployer})
    router.functions.addLiquidity(weth.address, dai.address, 100 * 10**18, 300_000 * 10**18, 0, 0, deployer,
                                  2**63).transact({"from": deployer})
    pair = world.uniswap_v2_factory.functions.getPair(weth.address, dai.address).call()
    return TradingPairIdentifier(asset(world, "WETH"), asset(world, "DAI"), pair, router.address, 3000,
                                 ExchangeKind.uniswap_v2)


@pytest.mark.parametrize("use_simulate", [True, False], ids=["eth_simulateV1", "eth_call"])
def test_fresh_v2_pair_updated_in_the_latest_block(web3: Web3, world: World, vault: Contract,
                                                   asset_manager: LocalAccount, deployer: str,
                                                   use_simulate: bool) -> None:
    """The audit's failure: limit 196,725 from a simulation that skipped the first accumulator writes,
    198,465 needed a second later -> out of gas on chain."""
    pair = fresh_v2_pair(world, vault, deployer)
    routing = VaultRouting(web3, vault.address, asset_manager.address, [pair], use_simulate=use_simulate)
    plan = routing.plan_trades([make_trade(1, pair, Decimal(500))]).plans[0]
    gas_used = land_a_second_later(web3, asset_manager, vault, plan)
    if use_simulate:
        assert plan.simulation is not None and plan.simulation.gas_used == gas_used


@pytest.mark.parametrize("route", ["v2", "v3", "v3_router02"])
def test_pool_swapped_in_the_latest_block(web3: Web3, world: World, vault: Contract, asset_manager: LocalAccount,
                                          route: str) -> None:
    """A trade planned right after another swap on its pool, mined a second later."""
    pairs = world_pairs(world)
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()))
    mine_next_one_second_later(web3)
    send_plan(web3, asset_manager, routing.plan_trades([make_trade(1, pairs[route], Decimal(2000))]).plans[0],
              vault)
    plan = routing.plan_trades([make_trade(2, pairs[route], Decimal(500), buy=False)]).plans[0]
    gas_used = land_a_second_later(web3, asset_manager, vault, plan)
    assert plan.simulation is not None and plan.simulation.gas_used == gas_used


def test_two_trades_on_one_pool_in_a_batch(web3: Web3, world: World, vault: Contract,
                                           asset_manager: LocalAccount) -> None:
    """Each call is simulated in its own later block: the second trade on the pool pays the accumulator
    writes too, as it does when mined in a later second than the first."""
    pairs = world_pairs(world)
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()))
    plan = routing.plan_trades([make_trade(1, pairs["v2"], Decimal(500)),
                                make_trade(2, pairs["v2"], Decimal(700))])
    for trade_plan in plan.plans:
        mine_next_one_second_later(web3)
        gas_used = int(send_plan(web3, asset_manager, trade_plan, vault)["gasUsed"])
        assert trade_plan.simulation is not None and trade_plan.simulation.gas_used == gas_used


def test_deadline_before_the_next_block_is_refused(web3: Web3, world: World, vault: Contract,
                                                   asset_manager: LocalAccount) -> None:
    """A deadline of 0 s expires before any later block: refused here, not (as before) on chain."""
    pairs = world_pairs(world)
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()), deadline_seconds=0)
    with pytest.raises(PreflightRefusedError, match="DeadlinePassed"):
        routing.plan_trades([make_trade(1, pairs["v2"], Decimal(500))])


#: Runtime code returning block.timestamp: TIMESTAMP PUSH0 MSTORE PUSH1 32 PUSH0 RETURN.
CLOCK_CODE = "0x425f5260205ff3"


@pytest.mark.parametrize(("calls", "per_block", "use_simulate", "expected_offsets"), [
    (3, 1, True, [1, 2, 3]),
    (3, 40, True, [1, 1, 1]),
    (MAX_SIMULATED_BLOCKS + 2, 1, True, [1 + n // 2 for n in range(MAX_SIMULATED_BLOCKS + 2)]),  # 2 a block
    (3, 1, False, [1, 1, 1]),
], ids=["one-per-block", "shared-block", "block-limit", "eth_call"])
def test_calls_run_in_the_blocks_after(web3: Web3, calls: int, per_block: int, use_simulate: bool,
                                       expected_offsets: list[int]) -> None:
    """The timestamps calls see after a BlockHeader: +1 s per simulated block, never more than
    MAX_SIMULATED_BLOCKS blocks (calls then share them); the eth_call fallback runs all in the next block."""
    clock = "0x" + "c1" * 20
    rpc(web3, "anvil_setCode", [clock, CLOCK_CODE])
    latest = BlockHeader.from_json(rpc(web3, "eth_getBlockByNumber", ["latest", False]))
    runner = CallRunner(RPCClient(web3.provider.endpoint_uri), use_simulate)  # type: ignore[attr-defined]
    results, _ = runner.run([ContractCall(clock, bytes([n % 256])) for n in range(calls)], latest,
                            calls_per_block=per_block)
    assert [int.from_bytes(r.data, "big") - latest.timestamp for r in results] == expected_offsets


class _NoOverridesNode(BaseHTTPRequestHandler):
    """A node without eth_simulateV1 whose eth_call / eth_estimateGas refuse a 4th (block overrides)
    parameter, as hardhat and older clients do; everything else goes to the real node."""

    upstream = ""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answer = [self._answer(r) for r in body] if isinstance(body, list) else self._answer(body)
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, request: dict[str, Any]) -> Any:
        method, params = request["method"], request.get("params", [])
        if method == "eth_simulateV1":
            return {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32601, "message": "method not found"}}
        if method in ("eth_call", "eth_estimateGas") and len(params) > 2:
            return {"jsonrpc": "2.0", "id": request["id"],
                    "error": {"code": -32602, "message": "too many arguments, want at most 2"}}
        forwarded = urllib.request.Request(self.upstream, json.dumps(request).encode(),
                                           {"Content-Type": "application/json"})
        with urllib.request.urlopen(forwarded, timeout=30) as reply:
            return json.loads(reply.read())

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture()
def no_overrides_node(web3: Web3) -> Iterator[str]:
    handler = type("Handler", (_NoOverridesNode,), {"upstream": web3.provider.endpoint_uri})  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_node_without_block_overrides_still_plans(web3: Web3, world: World, vault: Contract,
                                                  asset_manager: LocalAccount, no_overrides_node: str) -> None:
    """Such a node gets its calls again without the overrides (once per routing) and the plan stands."""
    pairs = world_pairs(world)
    client = RPCClient(no_overrides_node)
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()), client=client)
    first = routing.plan_trades([make_trade(1, pairs["v3"], Decimal(500))])
    assert routing.runner.use_simulate is False and routing.runner.block_overrides is False
    assert first.plans[0].simulation is not None and first.plans[0].simulation.success
    assert first.plans[0].gas_limit is not None
    before = client.stats.snapshot()
    routing.plan_trades([make_trade(2, pairs["v2"], Decimal(500))])
    # reads, loss check, pre-flight: no retry once the node is known
    assert client.stats.since(before).http_round_trips == 3, "no retry once the node is known"
    send_plan(web3, asset_manager, first.plans[0], vault)
