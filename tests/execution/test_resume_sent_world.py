"""What the store says about a batch once it is sent, and what resume() makes of it: a chunk mined at once is
stored when signed and when settled, never in between; one that waits to be mined is stored as broadcasted
before it is tracked, and a crash right after that write leaves it so: a refused replacement at resume never
fails a trade whose transaction then executes; neither does a refused re-send after a crash between the send
and any write recording it; a transaction resume() sends is stored as sent before it is mined; repair waits
for the chain's confirmation depth."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.broadcast import TrackerConfig
from vaultexec.errors import StoreUnavailableError
from vaultexec.execution.executor import STAGE_SIGNED, StageHook, VaultExecutionModel
from vaultexec.model.run_state import RunState
from vaultexec.model.trade import TradeExecution, TradeStatus
from vaultexec.model.transaction import TxState
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.faultproxy import BackendWithoutTheTx
from vaultexec.testing.world import World

from exec_pipeline import make_executor, make_trade, pair, register_world, world_pairs  # isort: skip
from test_executor import executed_events  # isort: skip

#: Replace a transaction that waited 0.2 s; give up tracking after 3 s (the trade stays in flight).
IMPATIENT = TrackerConfig(confirmations=0, poll_interval=0.05, timeout=3.0, stuck_after=0.2, drop_check_after=0.0)
#: anvil's automine can leave a transaction in its pool until something happens: the gate asks for a block
#: after 0.2 s of that, as the executor's dev-chain default does after 2 s.
MINES_WHEN_IDLE = TrackerConfig(confirmations=0, poll_interval=0.05, timeout=30.0, drop_check_after=10.0,
                                mine_when_idle_after=0.2)
#: The mined-nonce gate gives up after 0.3 s (nothing is replaced meanwhile).
GATE_GIVES_UP = TrackerConfig(confirmations=0, poll_interval=0.05, timeout=3.0, stuck_after=60.0,
                              drop_check_after=0.3)


class Crash(BaseException):
    """The process dies (not an error the executor could catch)."""


@pytest.fixture()
def automine(anvil: AnvilInstance) -> Iterator[None]:
    yield
    anvil.rpc("evm_setAutomine", [True])


def stop_mining_once_signed(anvil: AnvilInstance) -> StageHook:
    def hook(stage: str, trades: Sequence[TradeExecution]) -> None:
        if stage == STAGE_SIGNED:
            anvil.rpc("evm_setAutomine", [False])

    return hook


def crash_at(stage_to_crash: str, anvil: AnvilInstance) -> StageHook:
    """Stop mining once the batch is signed, and crash at `stage_to_crash`."""

    def hook(stage: str, trades: Sequence[TradeExecution]) -> None:
        if stage == STAGE_SIGNED:
            anvil.rpc("evm_setAutomine", [False])
        if stage == stage_to_crash:
            raise Crash()

    return hook


def executor(anvil: AnvilInstance, world: World, vault: Contract, store: SQLiteStore, on_stage: StageHook | None = None,
             tracker: TrackerConfig | None = None) -> VaultExecutionModel:
    register_world(world.addresses)
    return make_executor(anvil.url, vault.address, world.chain_id, world_pairs(world.addresses), store, RunState(),
                         on_stage, tracker)


def crash_with_one_trade(anvil: AnvilInstance, world: World, vault: Contract, path: Path, stage: str) -> None:
    crashing = executor(anvil, world, vault, SQLiteStore(path, vault.address), crash_at(stage, anvil))
    with pytest.raises(Crash):
        crashing.execute_trades([make_trade(1, pair(world.addresses, "WETH", "USDC", 500), "1000")])


class CrashOnceStoredAsSent(SQLiteStore):
    """The process dies right after the batch is stored as broadcasted."""

    def update_many(self, trades: Sequence[TradeExecution]) -> None:
        super().update_many(trades)
        if any(t.get_status() is TradeStatus.broadcasted for t in trades):
            raise Crash()


def crash_once_stored_as_sent(anvil: AnvilInstance, world: World, vault: Contract, path: Path) -> None:
    """One trade sent while nothing is mined: stored as broadcasted once the mined-nonce gate gives up, then
    the crash."""
    crashing = executor(anvil, world, vault, CrashOnceStoredAsSent(path, vault.address), stop_mining_once_signed(anvil),
                        tracker=GATE_GIVES_UP)
    with pytest.raises(Crash):
        crashing.execute_trades([make_trade(1, pair(world.addresses, "WETH", "USDC", 500), "1000")])


def test_crash_after_broadcast_then_refused_replacement_at_resume_does_not_fail_the_trade(
        web3: Web3, anvil: AnvilInstance, world: World, vault: Contract, asset_manager: LocalAccount,
        tmp_path: Path, automine: None) -> None:
    start_block = web3.eth.block_number + 1
    crash_once_stored_as_sent(anvil, world, vault, tmp_path / "s.db")
    stored = SQLiteStore(tmp_path / "s.db", vault.address).load(1)
    sent = stored.blockchain_transactions[-1]
    assert stored.get_status() is TradeStatus.broadcasted  # stored as sent before the crash
    assert sent.tx_state is TxState.broadcasted and sent.broadcasted_at is not None
    original = sent.tx_hash
    assert anvil.rpc("eth_getTransactionByHash", [original]) is not None  # in the pool, not mined

    class DrainingStore(SQLiteStore):
        """Once a replacement is stored (write-ahead), the gas money goes elsewhere before it is sent."""

        def update(self, trade: TradeExecution) -> None:
            super().update(trade)
            tx = trade.blockchain_transactions[-1]
            if tx.tx_hash != original and trade.is_pending():
                assert tx.gas_limit is not None and tx.max_fee_per_gas is not None
                anvil.rpc("anvil_setBalance", [asset_manager.address,
                                               hex(tx.gas_limit * tx.max_fee_per_gas * 8 // 9)])

    restarted = executor(anvil, world, vault, DrainingStore(tmp_path / "s.db", vault.address), tracker=IMPATIENT)
    assert restarted.resume() == []  # replaced, the replacement refused, the original left to land
    after = restarted.store.load(1)
    tx = after.blockchain_transactions[-1]
    assert after.get_status() is TradeStatus.broadcasted and tx.revert_reason is None, after.notes
    assert tx.tx_hash == original and len(tx.get_all_tx_hashes()) == 2  # the replacement's hash is kept
    assert "refused by the node" in (tx.notes or "")

    anvil.rpc("anvil_setBalance", [asset_manager.address, hex(10**20)])
    anvil.rpc("evm_mine")
    [settled] = restarted.resume()
    assert settled.is_success() and restarted.store.load(1).is_success()
    assert settled.blockchain_transactions[-1].tx_hash == original
    assert executed_events(web3, vault, start_block) == 1


def test_crash_between_send_and_store_then_refused_resend_at_resume_does_not_fail_the_trade(
        web3: Web3, anvil: AnvilInstance, world: World, vault: Contract, tmp_path: Path, automine: None) -> None:
    start_block = web3.eth.block_number + 1
    crash_with_one_trade(anvil, world, vault, tmp_path / "s.db", STAGE_SIGNED)
    stored = SQLiteStore(tmp_path / "s.db", vault.address).load(1)
    sent = stored.blockchain_transactions[-1]
    assert stored.get_status() is TradeStatus.started and sent.broadcasted_at is None  # stored only as signed
    anvil.rpc("eth_sendRawTransaction", [sent.signed_bytes])  # the crashed run sent it before its write

    with BackendWithoutTheTx(anvil.url) as proxy:
        register_world(world.addresses)
        restarted = make_executor(proxy.url, vault.address, world.chain_id, world_pairs(world.addresses),
                                  SQLiteStore(tmp_path / "s.db", vault.address), RunState(), tracker=IMPATIENT)
        assert restarted.resume() == []  # re-sent and refused "for good" by a backend that lacks it
    after = restarted.store.load(1)
    tx = after.blockchain_transactions[-1]
    assert after.is_pending() and tx.revert_reason is None, after.notes
    assert tx.tx_hash == sent.tx_hash and restarted.run_state.trades_failed == 0

    anvil.rpc("evm_mine")
    [settled] = executor(anvil, world, vault, SQLiteStore(tmp_path / "s.db", vault.address)).resume()
    assert settled.is_success() and settled.blockchain_transactions[-1].tx_hash == sent.tx_hash
    assert executed_events(web3, vault, start_block) == 1


def test_transaction_resume_sends_is_stored_as_sent_before_it_is_mined(
        web3: Web3, anvil: AnvilInstance, world: World, vault: Contract, tmp_path: Path, automine: None) -> None:
    start_block = web3.eth.block_number + 1
    crash_with_one_trade(anvil, world, vault, tmp_path / "s.db", STAGE_SIGNED)  # signed and stored, never sent
    restarted = executor(anvil, world, vault, SQLiteStore(tmp_path / "s.db", vault.address), tracker=IMPATIENT)
    assert restarted.resume() == []  # sent, not mined (mining is off): tracking times out
    stored = restarted.store.load(1)
    tx = stored.blockchain_transactions[-1]
    assert anvil.rpc("eth_getTransactionByHash", [tx.tx_hash]) is not None
    assert stored.get_status() is TradeStatus.broadcasted and tx.broadcasted_at is not None
    anvil.rpc("evm_mine")
    [settled] = restarted.resume()
    assert settled.is_success() and executed_events(web3, vault, start_block) == 1


def test_repair_waits_for_the_confirmation_depth(web3: Web3, anvil: AnvilInstance, world: World, vault: Contract,
                                                 tmp_path: Path, automine: None) -> None:
    crash_once_stored_as_sent(anvil, world, vault, tmp_path / "s.db")
    anvil.rpc("evm_mine")  # the trade's transaction lands; nobody settled it
    deep = TrackerConfig(confirmations=3, poll_interval=0.05, timeout=3.0)
    restarted = executor(anvil, world, vault, SQLiteStore(tmp_path / "s.db", vault.address), tracker=deep)
    early = restarted.repair([1])
    assert not early.settled and not early.repaired
    assert "with 0 of the 3 confirmations needed" in early.refused[1] and "wait for 3" in early.refused[1]
    assert restarted.store.load(1).get_status() is TradeStatus.broadcasted
    for _ in range(3):
        anvil.rpc("evm_mine")
    late = restarted.repair([1])
    assert [t.trade_id for t in late.settled] == [1] and restarted.store.load(1).is_success()


class CountingStore(SQLiteStore):
    """Records writes; refuses the first batched update when `refuse_first`."""

    def __init__(self, path: Path, vault: str, refuse_first: bool = False) -> None:
        super().__init__(path, vault)
        self.refuse_first = refuse_first
        self.created: list[list[str]] = []
        self.updates: list[str] = []
        self.batched: list[list[str]] = []

    def create_many(self, trades: Sequence[TradeExecution]) -> None:
        self.created.append([t.get_status().value for t in trades])
        super().create_many(trades)

    def update(self, trade: TradeExecution) -> None:
        self.updates.append(trade.get_status().value)
        super().update(trade)

    def update_many(self, trades: Sequence[TradeExecution]) -> None:
        self.batched.append([t.get_status().value for t in trades])
        if self.refuse_first and len(self.batched) == 1:
            raise StoreUnavailableError("disk full (test)")
        super().update_many(trades)


def two_trades(world: World) -> list[TradeExecution]:
    a = world.addresses
    return [make_trade(1, pair(a, "WETH", "USDC", 500), "1000"), make_trade(2, pair(a, "WETH", "USDC"), "500")]


def test_batch_mined_at_once_is_stored_when_signed_and_when_settled_only(
        web3: Web3, anvil: AnvilInstance, world: World, vault: Contract, tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "s.db", vault.address)
    settled = executor(anvil, world, vault, store, tracker=MINES_WHEN_IDLE).execute_trades(two_trades(world))
    assert [t.get_status() for t in settled] == [TradeStatus.success] * 2
    assert store.created == [["started", "started"]] and store.batched == [["success", "success"]]
    assert store.updates == []
    assert all(t.blockchain_transactions[-1].broadcasted_at is not None for t in store.export_all())


def test_batch_waiting_to_be_mined_is_stored_as_sent_in_one_write_and_a_refused_write_is_made_again(
        web3: Web3, anvil: AnvilInstance, world: World, vault: Contract, tmp_path: Path, automine: None) -> None:
    class MiningAfterTheWrite(CountingStore):
        def update_many(self, trades: Sequence[TradeExecution]) -> None:
            try:
                super().update_many(trades)
            finally:
                if anvil.rpc("eth_getBlockByNumber", ["pending", False])["transactions"]:
                    anvil.rpc("evm_setAutomine", [True])
                    anvil.rpc("evm_mine")

    store = MiningAfterTheWrite(tmp_path / "s.db", vault.address, refuse_first=True)
    model = executor(anvil, world, vault, store, stop_mining_once_signed(anvil), tracker=GATE_GIVES_UP)
    settled = model.execute_trades(two_trades(world))
    assert [t.get_status() for t in settled] == [TradeStatus.success] * 2
    assert store.batched == [["broadcasted", "broadcasted"], ["success", "success"]]
    assert store.updates == ["broadcasted", "broadcasted"]  # the refused write, made at the next change
    assert [t.get_status() for t in store.export_all()] == [TradeStatus.success] * 2
