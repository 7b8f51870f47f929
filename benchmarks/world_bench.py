"""Measure the test harness: world build time, and per-test isolation cost (evm_snapshot + evm_revert).

Run: .venv/bin/python benchmarks/world_bench.py
"""

from __future__ import annotations

import statistics
import time

from vaultexec.testing.anvil import AnvilInstance, launch_anvil
from vaultexec.testing.plugin import CODE_SIZE_LIMIT, make_web3
from vaultexec.testing.world import attach_world, deploy_world

BUILDS = 3
ISOLATION_ROUNDS = 200


def _isolation_ms(node: AnvilInstance, addresses_web3_world: object) -> float:
    world = addresses_web3_world
    samples = []
    for _ in range(ISOLATION_ROUNDS):
        started = time.perf_counter()
        snapshot = node.rpc("evm_snapshot")
        middle = time.perf_counter()
        world.fund("USDC", world.deployer, 1)  # type: ignore[attr-defined]  # a state change to roll back
        resumed = time.perf_counter()
        node.rpc("evm_revert", [snapshot])
        samples.append(time.perf_counter() - resumed + middle - started)
    return statistics.median(samples) * 1000


def main() -> None:
    builds = []
    for _ in range(BUILDS):
        with launch_anvil(code_size_limit=CODE_SIZE_LIMIT) as base:
            started = time.perf_counter()
            world = deploy_world(make_web3(base.url))
            builds.append(time.perf_counter() - started)
    with launch_anvil(code_size_limit=CODE_SIZE_LIMIT) as base:
        world = deploy_world(make_web3(base.url))
        base_ms = _isolation_ms(base, world)
        with launch_anvil(code_size_limit=CODE_SIZE_LIMIT, fork_url=base.url, chain_id=None) as fork:
            fork_world = attach_world(make_web3(fork.url), world.addresses)
            fork_ms = _isolation_ms(fork, fork_world)
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| world build (median of {BUILDS}) | {statistics.median(builds):.2f} s |")
    print(f"| isolation cost per test (evm_snapshot + evm_revert), base anvil (median of {ISOLATION_ROUNDS}) "
          f"| {base_ms:.2f} ms |")
    print(f"| same on the fork anvil | {fork_ms:.2f} ms |")


if __name__ == "__main__":
    main()
