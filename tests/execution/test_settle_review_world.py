"""Settlement on a real anvil: a settlement error that is not a vanished receipt is not re-tracked."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from exec_pipeline import make_trade, pair
from web3 import Web3

from vaultexec.chain.broadcast import TrackerConfig, TransactionTracker
from vaultexec.chain.rpc import RPCClient
from vaultexec.execution.settle import track_and_settle
from vaultexec.model.run_state import RunState
from vaultexec.model.transaction import BlockchainTransaction, TxState
from vaultexec.store.factory import open_store
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.world import World


def _direct_v2_swap(world: World) -> tuple[str, str]:
    """A Uniswap swap made by an EOA (Swap log, no Executed event): (sender, tx hash)."""
    trader = world.web3.eth.accounts[3]
    world.fund("USDC", trader, 3000 * 10**6)
    world.usdc.functions.approve(world.uniswap_v2_router.address, 3000 * 10**6).transact({"from": trader})
    tx_hash = world.uniswap_v2_router.functions.swapExactTokensForTokens(
        3000 * 10**6, 1, [world.usdc.address, world.weth.address], trader, 2**63).transact({"from": trader})
    return trader, "0x" + bytes(tx_hash).hex()


def test_settlement_error_with_logs_is_not_taken_for_a_reorg(anvil: AnvilInstance, web3: Web3, world: World,
                                                             tmp_path: Path) -> None:
    """The landed transaction has logs but no Executed event of the vault: one settlement error, the receipt
    stays confirmed (it did not vanish), nothing is tracked again."""
    trader, tx_hash = _direct_v2_swap(world)
    receipt = web3.eth.wait_for_transaction_receipt(tx_hash)  # anvil mines just after answering
    nonce = web3.eth.get_transaction(tx_hash)["nonce"]
    vault = "0x" + "aa" * 20
    trade = make_trade(1, pair(world.addresses, "WETH", "USDC"), "3000")
    trade.mark_started(datetime.datetime(2026, 1, 1))
    tx = BlockchainTransaction(chain_id=world.addresses.chain_id, from_address=trader, tx_hash=tx_hash,
                               nonce=nonce, tx_state=TxState.broadcasted)
    trade.set_blockchain_transactions([tx])
    trade.mark_broadcasted(datetime.datetime(2026, 1, 1, 0, 1))
    client = RPCClient(anvil.url)
    tracker = TransactionTracker(client, TrackerConfig(poll_interval=0.01, timeout=10))
    run_state = RunState()
    store = open_store(f"sqlite:///{tmp_path / 'reports.db'}", vault)
    store.create(trade)

    settled = track_and_settle(client, tracker, [trade], store, vault, run_state, Decimal(1))

    assert settled == [] and trade.is_pending()
    assert tx.tx_state is TxState.confirmed and tx.block_number == receipt["blockNumber"]
    assert (trade.notes or "").count("settlement error") == 1
    assert tracker.stats.polls == 1
    assert "no Executed event" in run_state.last_errors[1]
