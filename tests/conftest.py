"""Suite-wide: the tests that assert our local world's contents skip when the fixtures fork a real chain.

`VAULTEXEC_FORK_RPC_URL` makes the plugin's fixtures fork a real chain (docs/testing.md). The vault, chain,
dex, execution and CLI suites mint our test tokens and rely on the world's pools and prices, so they carry
the `local_world` marker; `tests/testing` marks its tests one by one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

LOCAL_WORLD_SUITES = frozenset({"vault", "chain", "dex", "execution", "cli", "integrations"})

#: The `te_pins` subset: run a second time under trade-executor's pins (web3 7, eth-account 0.13,
#: dataclasses-json 0.5, tblib 1.7; `make test-te-pins`). Lean (a few minutes) but touching every package:
#: the codec and model, RPC, wallet, gas, broadcast, revert decoding, DEX calldata, the vault, routing,
#: pre-flight, write-ahead, settlement, resume/repair, both stores, the CLI, the world, the adapter.
TE_PINS = frozenset({
    "model", "integrations", "dex",
    "chain/test_wallet.py", "chain/test_rpc.py", "chain/test_revert.py", "chain/test_broadcast.py",
    "chain/test_gas.py",
    "vault/test_vault_swaps.py", "vault/test_vault_admin.py",
    "execution/test_executor.py", "execution/test_chunk_overlap_world.py", "execution/test_resume.py",
    "execution/test_settle.py",
    "execution/test_repair_world.py", "execution/test_preflight_world.py", "execution/test_routing_world.py",
    "store/test_store_suite.py", "store/test_store_executor_extras.py",
    "cli/test_cli_trade.py",
    "testing/test_world.py", "testing/test_anvil.py",
})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests_dir = Path(__file__).parent
    for item in items:
        try:
            suite = item.path.relative_to(tests_dir).parts[0]
        except ValueError:
            continue
        if suite in LOCAL_WORLD_SUITES and item.get_closest_marker("real_fork") is None:
            item.add_marker(pytest.mark.local_world)
        relative = item.path.relative_to(tests_dir).as_posix()
        if suite in TE_PINS or relative in TE_PINS:
            item.add_marker(pytest.mark.te_pins)
