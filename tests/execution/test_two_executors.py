"""Two real executor processes on one hot wallet and one vault (issue 13, item 1).

Process A signs and stores its batch, then waits; process B is given the same trades under other ids (a
re-planned strategy, a second deployment by mistake). Without a lease B signs the same nonces, so byte-identical
transactions: one execution on chain, both trades marked success. With the leases B is refused before it
signs anything, naming A's host and pid; A then finishes and the books match the chain exactly.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.store.protocol import ExecutionStore
from vaultexec.store.redis import DEFAULT_PREFIX, RedisStore, connect
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.redis import RedisServer, launch_redis
from vaultexec.testing.world import World

from exec_pipeline import sqlite_url  # isort: skip
from test_crash import TRADES, check_settled_once, write_config  # isort: skip
from test_executor import balances  # isort: skip

WORKER = Path(__file__).with_name("lease_worker.py")


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with launch_redis() as server:
        yield server


def _stores(backend: str, layout: str, tmp_path: Path, request: pytest.FixtureRequest,
            vault: str) -> tuple[str, ExecutionStore, ExecutionStore]:
    """(B's prefix, A's store, B's store): one store, or two separate stores (other file, other Redis prefix)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    if backend == "sqlite":
        path_a = tmp_path / "a" / "store.db"
        path_b = path_a if layout == "same" else tmp_path / "b" / "store.db"
        return "", SQLiteStore(path_a, vault), SQLiteStore(path_b, vault)
    server: RedisServer = request.getfixturevalue("redis_server")
    server.start()
    connect(server.url).flushdb()
    prefix = DEFAULT_PREFIX if layout == "same" else "other"
    return prefix, RedisStore.from_url(server.url, vault), RedisStore.from_url(server.url, vault, prefix)


def _url(store: ExecutionStore) -> str:
    if isinstance(store, SQLiteStore):
        return sqlite_url(store.path)
    assert isinstance(store, RedisStore)
    kwargs = store.client.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs.get('db', 0)}"


@pytest.mark.parametrize("layout", ["same", "separate"])
@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_second_executor_on_the_wallet_is_refused(backend: str, layout: str, web3: Web3, anvil: AnvilInstance,
                                                   world: World, vault: Contract, asset_manager: LocalAccount,
                                                   tmp_path: Path, request: pytest.FixtureRequest) -> None:
    prefix_b, store_a, store_b = _stores(backend, layout, tmp_path, request, vault.address)
    config_a = write_config(tmp_path / "a", anvil, vault, world, _url(store_a))
    config_b = write_config(tmp_path / "b", anvil, vault, world, _url(store_b))
    if prefix_b:
        Path(config_b).write_text(json.dumps({**json.loads(Path(config_b).read_text()), "prefix": prefix_b}))
    before_balances = balances(world, vault)
    start_block, nonce_before = web3.eth.block_number + 1, web3.eth.get_transaction_count(asset_manager.address)

    first = subprocess.Popen([sys.executable, str(WORKER), config_a, "1", "hold"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert first.stdout is not None and first.stdin is not None
        assert first.stdout.readline().strip() == "held", first.stderr.read() if first.stderr else ""
        second = subprocess.run([sys.executable, str(WORKER), config_b, "101"], capture_output=True, text=True,
                                timeout=120)
        first.stdin.write("go\n")
        first.stdin.flush()
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    assert second.returncode == 3, second.stderr[-3000:]
    refusal = json.loads(second.stdout.strip().splitlines()[-1])
    assert f"host {socket.gethostname()}, pid {first.pid}, since " in refusal["holder"]
    assert "Nothing was signed" in refusal["refused"]
    assert first.returncode == 0, err[-3000:]
    assert json.loads(out.strip().splitlines()[-1])["statuses"] == {str(i): "success" for i in range(1, TRADES + 1)}

    check_settled_once(web3, world, vault, store_a, before_balances, start_block)
    assert [t.trade_id for t in store_b.export_all()] == ([] if layout == "separate" else list(range(1, TRADES + 1)))
    assert web3.eth.get_transaction_count(asset_manager.address) - nonce_before == TRADES
    assert os.environ.get("VAULTEXEC_LOCK_DIR")  # the session's own lock directory (see testing.plugin)
