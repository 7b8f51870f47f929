"""A chunk an automining dev chain leaves in its pool is mined at once, not waited for (issue 14, N = 10,000).

anvil mines most of a bulk send right away and can leave the rest in its pool until something happens; the
executor's wait for the chunk's last nonce asks for a block (`evm_mine`) once the mined nonce stood still for
`mine_when_idle_after` (dev chains only), instead of polling until the drop-check deadline.
"""

from __future__ import annotations

from pathlib import Path

from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.broadcast import TrackerConfig
from vaultexec.chain.rpc import RPCClient
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeStatus
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.world import World

from exec_pipeline import make_executor, make_trade, pair, register_world  # isort: skip


def test_a_chunk_left_in_the_pool_of_an_idle_dev_chain_is_mined_at_once(web3: Web3, world: World, vault: Contract,
                                                                        tmp_path: Path) -> None:
    register_world(world.addresses)
    url = web3.provider.endpoint_uri  # type: ignore[attr-defined]
    client = RPCClient(url)
    tracker = TrackerConfig(confirmations=0, poll_interval=0.01, timeout=30.0, drop_check_after=3.0,
                            mine_when_idle_after=0.05, idle_mine_only_when_automining=False)
    a = world.addresses
    weth_usdc = pair(a, "WETH", "USDC", 500)
    executor = make_executor(url, vault.address, world.chain_id, [weth_usdc],
                             SQLiteStore(tmp_path / "store.db", vault.address), RunState(), tracker=tracker,
                             client=client)
    # Nothing is mined unless asked: the pool holds the whole chunk (automine off stands for anvil's leftover
    # pool, so the tracker is told to mine without asking the node whether it automines).
    client.call("evm_setAutomine", [False])
    try:
        settled = executor.execute_trades([make_trade(1, weth_usdc, "100"), make_trade(2, weth_usdc, "50", False)])
    finally:
        client.call("evm_setAutomine", [True])
    assert [t.get_status() for t in settled] == [TradeStatus.success] * 2
    used = client.stats.requests_by_method
    assert used["evm_mine"] >= 1
    # Polling every 10 ms until the 3 s drop-check deadline would look ~300 times.
    assert used["eth_getTransactionCount"] <= 12, used
