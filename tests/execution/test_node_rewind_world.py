"""A node that comes back from an older state (issue 13, item 2).

The node goes back to a state taken before the batch (evm_snapshot / evm_revert: the blocks holding the
settlements and the wallet's nonces are gone; no new blocks). Before the fix resume() took the settlements above
the head for a lagging node's and left them settled, and the next batch signed the same nonces: the new
transactions replaced the old ones and settled trades flipped. Now resume() reopens them (node rewind), re-sends
their stored bytes, and they settle again from the same transactions; a batch before resume() is refused
unsigned; nonces are never reused; books exact.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import NodeBehindError
from vaultexec.model.trade import TradeStatus
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.world import World

from exec_pipeline import make_trade, pair  # isort: skip
from test_executor import SYMBOLS, balances, executed_events, raw_changes  # isort: skip
from test_reorg_world import new_executor  # isort: skip


def test_node_restarted_from_an_older_state(web3: Web3, anvil: AnvilInstance, world: World, vault: Contract,
                                            asset_manager: LocalAccount, tmp_path: Path) -> None:
    a = world.addresses
    before, start_block = balances(world, vault), web3.eth.block_number + 1
    nonce_before = web3.eth.get_transaction_count(asset_manager.address)
    old_state = anvil.rpc("evm_snapshot")
    executor = new_executor(anvil, world, vault, tmp_path)
    trades = [make_trade(1, pair(a, "WETH", "USDC"), "700"), make_trade(2, pair(a, "WETH", "USDC", 500), "900",
                                                                        buy=False),
              make_trade(3, pair(a, "WBTC", "WETH", 3000), "1.5")]
    assert [t.get_status() for t in executor.execute_trades(trades)] == [TradeStatus.success] * 3
    hashes = {t.trade_id: t.blockchain_transactions[-1].tx_hash for t in trades}
    assert anvil.rpc("evm_revert", [old_state])  # the node restarts from the older state
    assert web3.eth.get_transaction_count(asset_manager.address) == nonce_before

    # a new batch before resume(): refused before signing, the nonces the store holds are not reused
    with pytest.raises(NodeBehindError, match=rf"pending nonce of hot wallet .* is {nonce_before}"):
        executor.execute_trades([make_trade(4, pair(a, "WETH", "USDC"), "500")])
    assert web3.eth.get_transaction_count(asset_manager.address, "pending") == nonce_before

    settled = executor.resume()
    assert sorted(t.trade_id for t in settled) == [1, 2, 3]
    stored = [executor.store.load(i) for i in (1, 2, 3)]
    assert [t.get_status() for t in stored] == [TradeStatus.success] * 3  # none flipped
    assert {t.trade_id: t.blockchain_transactions[-1].tx_hash for t in stored} == hashes  # the same transactions
    assert "node rewind" in (executor.store.history(1)[-2].reason or "")
    assert executed_events(web3, vault, start_block) == 3

    [fifth] = executor.execute_trades([make_trade(5, pair(a, "WETH", "USDC"), "500")])
    assert fifth.is_success() and fifth.blockchain_transactions[-1].nonce == nonce_before + 3
    everything = executor.store.export_all()
    assert [t.trade_id for t in everything if t.is_success()] == [1, 2, 3, 5]
    after = balances(world, vault)
    assert raw_changes([t for t in everything if t.is_success()]) == {
        s: after[s] - before[s] for s in SYMBOLS if after[s] != before[s]}
    assert executed_events(web3, vault, start_block) == 4
