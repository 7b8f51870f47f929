"""A vault batch through several providers: a lagging, a failing and a healthy reader in front of the world's
anvil, and a private send endpoint. The batch settles exactly; the lagging reader is never believed; every
raw transaction reached only the private endpoint."""

from __future__ import annotations

from pathlib import Path

from web3 import Web3
from web3.contract import Contract

from vaultexec.chain.providers import ProviderConfig, ProviderSet
from vaultexec.model.run_state import RunState
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.faultproxy import Fault
from vaultexec.testing.providerproxies import LaggingProxy, RecordingProxy
from vaultexec.testing.world import World

from exec_pipeline import FAST_RETRY, make_executor, make_trade, pair, register_world, world_pairs  # isort: skip

SYMBOLS = ("USDC", "WETH")


def test_vault_batch_through_lagging_failing_healthy_readers_and_a_private_sender(
        web3: Web3, world: World, vault: Contract, anvil: AnvilInstance, tmp_path: Path) -> None:
    web3.provider.make_request("anvil_mine", ["0x5"])  # type: ignore[arg-type]
    head = web3.eth.block_number
    with (LaggingProxy(anvil.url, head=head - 3) as lagging, RecordingProxy(anvil.url) as failing,
          RecordingProxy(anvil.url) as healthy, RecordingProxy(anvil.url) as private):
        failing.inject(Fault.http_error(503), Fault.drop(), times=30)
        providers = ProviderSet([lagging.url, failing.url, healthy.url], send_urls=[private.url],
                                config=ProviderConfig(max_lag_blocks=1), retry=FAST_RETRY)
        register_world(world.addresses)
        store = SQLiteStore(tmp_path / "store.db", vault.address)
        executor = make_executor(anvil.url, vault.address, world.chain_id, world_pairs(world.addresses), store,
                                 RunState(), client=providers)
        a = world.addresses
        trades = [make_trade(1, pair(a, "WETH", "USDC"), "1000"),
                  make_trade(2, pair(a, "WETH", "USDC", 500), "2000"),
                  make_trade(3, pair(a, "WETH", "USDC", 3000), "1500", buy=False)]
        before = {s: int(world.token(s).functions.balanceOf(vault.address).call()) for s in SYMBOLS}
        settled = executor.execute_trades(trades)
        after = {s: int(world.token(s).functions.balanceOf(vault.address).call()) for s in SYMBOLS}

        assert all(t.is_success() for t in settled)
        weth = sum((t.executed_quantity or 0) for t in settled)
        usdc = sum(-(t.executed_reserve or 0) if t.is_buy() else (t.executed_reserve or 0) for t in settled)
        assert after["WETH"] - before["WETH"] == int(weth.scaleb(18))  # type: ignore[union-attr]
        assert after["USDC"] - before["USDC"] == int(usdc.scaleb(6))  # type: ignore[union-attr]
        txs = [t.blockchain_transactions[-1] for t in settled]
        assert all(tx.replaced_tx_hashes in (None, []) for tx in txs)  # nothing re-signed
        assert executor.run_state.trades_succeeded == 3

        counters = providers.counters()
        assert counters[f"read {lagging.url}"].lag_rejections > 0
        assert counters[f"read {failing.url}"].failures > 0
        assert sorted(private.raw_transactions) == sorted(tx.signed_bytes for tx in txs)
        assert lagging.raw_transactions == failing.raw_transactions == healthy.raw_transactions == []
