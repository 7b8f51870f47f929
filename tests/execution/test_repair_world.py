"""repair() asks the chain before it says "nothing executed" (a nonce another transaction used counts once it
is the chain's confirmations deep, and never while a node still holds our transaction in its pool), and
closes by hand (force, with a note) a trade that landed but cannot be settled."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from vaultexec.chain.broadcast import TrackerConfig, TransactionTracker
from vaultexec.chain.gas import fetch_fees
from vaultexec.chain.rpc import Reply, RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.errors import BadInputError, NodeRejectedError
from vaultexec.execution.repair import repair_trades
from vaultexec.execution.settle import track_and_settle
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.model.transaction import BlockchainTransaction, TxState
from vaultexec.store.factory import open_store
from vaultexec.store.protocol import ExecutionStore
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.plugin import ASSET_MANAGER_KEY
from vaultexec.testing.world import World

from exec_pipeline import make_trade, pair  # isort: skip
from test_settle_review_world import _direct_v2_swap  # isort: skip

VAULT = "0x" + "aa" * 20
STARTED = datetime.datetime(2026, 1, 1)
DEAD = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[ExecutionStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'reports.db'}", VAULT)
    yield opened
    opened.close()


@pytest.fixture()
def client(anvil: AnvilInstance, web3: Web3) -> RPCClient:
    return RPCClient(anvil.url)


def refused_trade(world: World, tx: BlockchainTransaction) -> TradeExecution:
    """A trade stored failed as "refused at broadcast, nothing was executed" (what the tracker used to
    conclude when only a replacement was refused)."""
    trade = make_trade(1, pair(world.addresses, "WETH", "USDC"), "1000")
    trade.mark_started(STARTED)
    trade.set_blockchain_transactions([tx])
    tx.tx_state, tx.revert_reason = TxState.failed, "refused by the node at broadcast: ...; nothing was executed"
    trade.mark_failed(STARTED)
    return trade


def signed_transfer(client: RPCClient, world: World, value: int = 1) -> BlockchainTransaction:
    wallet = HotWallet.from_key(ASSET_MANAGER_KEY, world.chain_id)
    client.call("anvil_setBalance", [wallet.address, hex(10**20)])
    wallet.sync_nonce(client)
    return wallet.sign_blockchain_transaction(BlockchainTransaction(contract_address=DEAD), "0x", 30_000,
                                              fetch_fees(client, world.chain_id), value=value)


def test_landed_trade_that_cannot_be_settled_is_closed_by_hand(client: RPCClient, web3: Web3, world: World,
                                                               store: ExecutionStore) -> None:
    trader, tx_hash = _direct_v2_swap(world)  # lands, but is no vault execute: no Executed event
    receipt = web3.eth.wait_for_transaction_receipt(tx_hash)
    trade = make_trade(1, pair(world.addresses, "WETH", "USDC"), "3000")
    trade.mark_started(STARTED)
    trade.set_blockchain_transactions([BlockchainTransaction(
        chain_id=world.chain_id, from_address=trader, tx_hash=tx_hash, signed_bytes="0x02",
        nonce=web3.eth.get_transaction(tx_hash)["nonce"], tx_state=TxState.broadcasted)])
    trade.mark_broadcasted(STARTED)
    store.create(trade)
    run_state = RunState()
    track_and_settle(client, TransactionTracker(client, TrackerConfig(poll_interval=0.01, timeout=10)),
                     [trade], store, VAULT, run_state, Decimal(1))
    assert trade.is_pending() and "no Executed event" in run_state.last_errors[1]

    refused = repair_trades(client, store, VAULT, run_state, [1], note="looked at it")
    assert not refused.repaired and "--force --note" in refused.refused[1]
    for ids, note in (([1], None), ([1], "  "), (None, "looked at it")):
        with pytest.raises(BadInputError, match=r"trade ids.*note"):
            repair_trades(client, store, VAULT, run_state, ids, note=note, force=True)
    assert store.load(1).is_pending()

    closed = repair_trades(client, store, VAULT, run_state, [1], note="swap made by hand, see ticket 7",
                           force=True)
    assert [t.trade_id for t in closed.repaired] == [1] and not closed.refused
    stored = store.load(1)
    assert stored.get_status() is TradeStatus.repaired
    assert f"closed by hand (force): swap made by hand, see ticket 7; {tx_hash} succeeded in block " \
           f"{receipt['blockNumber']}" in (stored.notes or "")
    tx = stored.blockchain_transactions[-1]
    assert tx.block_number == receipt["blockNumber"] and tx.status is True
    assert run_state.trades_repaired == 1


def test_failed_trade_is_not_called_unexecuted_while_its_transaction_can_land(
        client: RPCClient, anvil: AnvilInstance, world: World, store: ExecutionStore) -> None:
    anvil.rpc("evm_setAutomine", [False])
    try:
        tx = signed_transfer(client, world)
        client.call("eth_sendRawTransaction", [tx.signed_bytes])  # in the pool, not mined
        store.create(refused_trade(world, tx))
        run_state = RunState()
        pooled = repair_trades(client, store, VAULT, run_state, [1])
        assert not pooled.repaired and "could still land" in pooled.refused[1]
        # resume() only takes started/broadcasted trades: the advice for a failed one is to repair it later
        assert "run repair again once it is mined" in pooled.refused[1] and "resume" not in pooled.refused[1]
        anvil.rpc("evm_mine")
    finally:
        anvil.rpc("evm_setAutomine", [True])
    landed = repair_trades(client, store, VAULT, run_state, [1])
    assert not landed.repaired and "landed in block" in landed.refused[1] and "executed" in landed.refused[1]
    assert store.load(1).is_failed()
    closed = repair_trades(client, store, VAULT, run_state, [1], note="recorded the transfer by hand", force=True)
    assert [t.trade_id for t in closed.repaired] == [1]
    assert f"{tx.tx_hash} succeeded in block" in (store.load(1).notes or "")


def test_failed_trade_never_sent_is_repaired_after_the_chain_is_asked(client: RPCClient, world: World,
                                                                      store: ExecutionStore) -> None:
    tx = signed_transfer(client, world)  # signed, never sent: unknown to the node, nonce unused
    store.create(refused_trade(world, tx))
    before = client.stats.snapshot()
    result = repair_trades(client, store, VAULT, RunState(), [1])
    assert [t.trade_id for t in result.repaired] == [1]
    assert f"nonce {tx.nonce} is unused and the node knows none" in (store.load(1).notes or "")
    asked = client.stats.since(before).requests_by_method
    assert asked["eth_getTransactionCount"] == 1 and asked["eth_getTransactionReceipt"] == 1
    assert asked["eth_getTransactionByHash"] == 1


def broadcasted_trade(world: World, tx: BlockchainTransaction) -> TradeExecution:
    trade = make_trade(1, pair(world.addresses, "WETH", "USDC"), "1000")
    trade.mark_started(STARTED)
    tx.tx_state, tx.broadcasted_at = TxState.broadcasted, STARTED
    trade.set_blockchain_transactions([tx])
    trade.mark_broadcasted(STARTED)
    return trade


def test_nonce_used_by_another_transaction_counts_once_it_is_confirmations_deep(
        client: RPCClient, anvil: AnvilInstance, world: World, store: ExecutionStore) -> None:
    for _ in range(3):  # blocks of its own below the head (anvil keeps no state from before its loaded one)
        anvil.rpc("evm_mine")
    ours = signed_transfer(client, world)
    other = signed_transfer(client, world, value=2)  # same nonce, other bytes: it takes the nonce, ours never lands
    assert ours.nonce == other.nonce and ours.tx_hash != other.tx_hash
    client.call("eth_sendRawTransaction", [other.signed_bytes])
    store.create(broadcasted_trade(world, ours))
    before = client.stats.snapshot()
    early = repair_trades(client, store, VAULT, RunState(), [1], confirmations=3)
    assert not early.repaired and "less than 3 blocks ago" in early.refused[1] and "wait for 3" in early.refused[1]
    assert client.stats.since(before).requests_by_method["eth_getTransactionCount"] == 2  # latest, head - 3
    assert store.load(1).get_status() is TradeStatus.broadcasted
    for _ in range(2):
        anvil.rpc("evm_mine")
    assert 1 in repair_trades(client, store, VAULT, RunState(), [1], confirmations=3).refused  # 2 deep
    anvil.rpc("evm_mine")
    late = repair_trades(client, store, VAULT, RunState(), [1], confirmations=3)
    assert [t.trade_id for t in late.repaired] == [1] and "used by another transaction" in (
        store.load(1).notes or "")


class LaggingNode:
    """Answers nonce 7 of the sender as mined at the head, serves no receipt, and by hash `by_hash` (our
    transaction still pending: a load-balanced provider whose backends disagree); the nonce at an older
    block is refused as a node without that block's state refuses it."""

    def __init__(self, by_hash: dict[str, Any] | None) -> None:
        self.by_hash = by_hash

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Reply]:
        return [self._answer(method, params) for method, params in calls]

    def _answer(self, method: str, params: Sequence[Any]) -> Reply:
        if method == "eth_getTransactionCount" and params[1] != "latest":
            return Reply(method, error=NodeRejectedError("refused", method, -32000, "missing trie node"))
        answers: dict[str, Any] = {"eth_blockNumber": "0x100", "eth_getTransactionCount": "0x8",
                                   "eth_getTransactionReceipt": None, "eth_getTransactionByHash": self.by_hash}
        return Reply(method, result=answers[method])

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        return self._answer(method, params).value()


OURS = "0x" + "11" * 32


def store_nonce_seven(world: World, store: ExecutionStore) -> None:
    store.create(broadcasted_trade(world, BlockchainTransaction(
        contract_address=VAULT, from_address="0x" + "bb" * 20, nonce=7, tx_hash=OURS, signed_bytes="0x01")))


@pytest.mark.parametrize("confirmations", [0, 12])
def test_nonce_used_while_our_transaction_is_in_the_pool_is_not_called_unexecuted(
        world: World, store: ExecutionStore, confirmations: int) -> None:
    store_nonce_seven(world, store)
    node = LaggingNode({"hash": OURS, "blockNumber": None})
    result = repair_trades(node, store, VAULT, RunState(), [1], confirmations=confirmations)  # type: ignore[arg-type]
    assert not result.repaired and "still holds a transaction of this trade in its pool" in result.refused[1]
    assert store.load(1).get_status() is TradeStatus.broadcasted


def test_nonce_depth_the_node_cannot_tell_is_a_refusal(world: World, store: ExecutionStore) -> None:
    store_nonce_seven(world, store)
    result = repair_trades(LaggingNode(None), store, VAULT, RunState(), [1], confirmations=12)  # type: ignore[arg-type]
    assert not result.repaired and "cannot tell whether it was 12 blocks ago (missing trie node)" in result.refused[1]
    assert store.load(1).get_status() is TradeStatus.broadcasted
