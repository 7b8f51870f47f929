"""A node that really restarts from an older state dump (issue 13, item 2).

A private anvil (a fork of the session's chain) is dumped with `anvil_dumpState` before a batch; the batch
settles; the node is stopped and a new anvil starts on the same port with `--load-state` of that dump: the
settlements' blocks and the wallet's nonces are gone. A batch before resume() is refused unsigned; resume()
reopens the settled trades (node rewind) and re-sends their stored bytes; none flips, no nonce is reused, the
books are exact. (test_node_rewind_world.py does the same with evm_snapshot/evm_revert on the shared node.)
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import NodeBehindError
from vaultexec.model.trade import TradeStatus
from vaultexec.testing.anvil import AnvilInstance, start_anvil
from vaultexec.testing.world import CODE_SIZE_LIMIT, World, attach_world, make_web3

from exec_pipeline import make_trade, pair  # isort: skip
from test_executor import SYMBOLS, balances, executed_events, raw_changes  # isort: skip
from test_reorg_world import new_executor  # isort: skip


def _private_node(fork_of: AnvilInstance, fork_block: int, port: int | None = None,
                  load_state: Path | None = None) -> AnvilInstance:
    return start_anvil(port=port, fork_url=fork_of.url, fork_block_number=fork_block, chain_id=None,
                       code_size_limit=CODE_SIZE_LIMIT, load_state=None if load_state is None else str(load_state))


def test_node_restarted_from_a_state_dump(web3: Web3, anvil: AnvilInstance, world: World, vault: Contract,
                                          asset_manager: LocalAccount, tmp_path: Path) -> None:
    fork_block = web3.eth.block_number
    node = _private_node(anvil, fork_block)
    try:
        w3 = make_web3(node.url)
        here = attach_world(w3, world.addresses)
        here_vault = w3.eth.contract(address=vault.address, abi=vault.abi)
        a = world.addresses
        before, start_block = balances(here, here_vault), w3.eth.block_number + 1
        nonce_before = w3.eth.get_transaction_count(asset_manager.address)
        dump = tmp_path / "before-batch.json"
        dump.write_bytes(gzip.decompress(bytes.fromhex(node.rpc("anvil_dumpState").removeprefix("0x"))))

        executor = new_executor(node, here, here_vault, tmp_path)
        trades = [make_trade(1, pair(a, "WETH", "USDC"), "700"),
                  make_trade(2, pair(a, "WETH", "USDC", 500), "900", buy=False),
                  make_trade(3, pair(a, "WBTC", "WETH", 3000), "1.5")]
        assert [t.get_status() for t in executor.execute_trades(trades)] == [TradeStatus.success] * 3
        hashes = {t.trade_id: t.blockchain_transactions[-1].tx_hash for t in trades}
        assert w3.eth.get_transaction_count(asset_manager.address) == nonce_before + 3

        port = node.port
        node.close()  # the node goes down ... and comes back on the same port from the dump taken before
        node = _private_node(anvil, fork_block, port=port, load_state=dump)
        assert w3.eth.get_transaction_count(asset_manager.address) == nonce_before
        assert w3.eth.block_number == start_block - 1  # the settlements' blocks are gone
        assert balances(here, here_vault) == before

        with pytest.raises(NodeBehindError, match=rf"pending nonce of hot wallet .* is {nonce_before}"):
            executor.execute_trades([make_trade(4, pair(a, "WETH", "USDC"), "500")])
        assert w3.eth.get_transaction_count(asset_manager.address, "pending") == nonce_before  # nothing signed

        settled = executor.resume()
        assert sorted(t.trade_id for t in settled) == [1, 2, 3]
        stored = [executor.store.load(i) for i in (1, 2, 3)]
        assert [t.get_status() for t in stored] == [TradeStatus.success] * 3  # none flipped
        assert {t.trade_id: t.blockchain_transactions[-1].tx_hash for t in stored} == hashes  # same transactions
        assert "node rewind" in (executor.store.history(1)[-2].reason or "")
        assert executed_events(w3, here_vault, start_block) == 3

        [fifth] = executor.execute_trades([make_trade(5, pair(a, "WETH", "USDC"), "500")])
        assert fifth.is_success() and fifth.blockchain_transactions[-1].nonce == nonce_before + 3
        everything = executor.store.export_all()
        assert [t.trade_id for t in everything if t.is_success()] == [1, 2, 3, 5]
        nonces = [tx.nonce for t in everything for tx in t.blockchain_transactions]
        assert sorted(set(nonces)) == list(range(nonce_before, nonce_before + 4))  # each nonce one trade's
        after = balances(here, here_vault)
        assert raw_changes([t for t in everything if t.is_success()]) == {
            s: after[s] - before[s] for s in SYMBOLS if after[s] != before[s]}
        assert executed_events(w3, here_vault, start_block) == 4
        executor.store.close()
    finally:
        node.close()
