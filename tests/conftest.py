"""Suite-wide: the tests that assert our local world's contents skip when the fixtures fork a real chain.

`VAULTEXEC_FORK_RPC_URL` makes the plugin's fixtures fork a real chain (docs/testing.md). The vault, chain,
dex, execution and CLI suites mint our test tokens and rely on the world's pools and prices, so they carry
the `local_world` marker; `tests/testing` marks its tests one by one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

LOCAL_WORLD_SUITES = frozenset({"vault", "chain", "dex", "execution", "cli", "integrations"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests_dir = Path(__file__).parent
    for item in items:
        try:
            suite = item.path.relative_to(tests_dir).parts[0]
        except ValueError:
            continue
        if suite in LOCAL_WORLD_SUITES and item.get_closest_marker("real_fork") is None:
            item.add_marker(pytest.mark.local_world)
