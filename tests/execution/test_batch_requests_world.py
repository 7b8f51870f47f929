"""Requests a batch asks beyond the send and the receipt, each once (issue 14: <= 2.2 JSON-RPC requests per
trade): the wallet's pending nonce is read once per chunk for both the nonce sync and the nonce-floor check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

from vaultexec.model.run_state import RunState
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.faultproxy import FaultProxy
from vaultexec.testing.world import World

from exec_pipeline import make_executor, make_trade, pair, register_world  # isort: skip


class _Recorder(FaultProxy):
    """Relays every request and remembers (method, params) in order."""

    def __init__(self, upstream_url: str) -> None:
        super().__init__(upstream_url)
        self.seen: list[tuple[str, list[Any]]] = []

    def rewrite_reply(self, request: dict[str, Any], reply: dict[str, Any]) -> None:
        self.seen.append((str(request.get("method")), list(request.get("params") or [])))


def test_one_pending_nonce_read_per_chunk(web3: Web3, world: World, vault: Contract, tmp_path: Path) -> None:
    register_world(world.addresses)
    weth_usdc = pair(world.addresses, "WETH", "USDC", 500)
    with _Recorder(web3.provider.endpoint_uri) as proxy:  # type: ignore[attr-defined]
        executor = make_executor(proxy.url, vault.address, world.chain_id, [weth_usdc],
                                 SQLiteStore(tmp_path / "store.db", vault.address), RunState())
        executor.execute_trades([make_trade(1, weth_usdc, "100")])  # the store now holds a nonce of the wallet
        proxy.seen.clear()
        settled = executor.execute_trades([make_trade(2, weth_usdc, "50", False), make_trade(3, weth_usdc, "20")])
    assert all(t.is_success() for t in settled)
    first_send = next(i for i, (method, _) in enumerate(proxy.seen) if method == "eth_sendRawTransaction")
    pending = [params for method, params in proxy.seen[:first_send]
               if method == "eth_getTransactionCount" and params[1:] == ["pending"]]
    assert len(pending) == 1, proxy.seen[:first_send]
