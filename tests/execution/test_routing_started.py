"""Routing refuses trades that are no longer planned before it plans or signs anything (a second
setup_trades used to re-sign, burn a nonce and drop the first transaction before mark_started refused)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_account.signers.local import LocalAccount
from test_routing_helpers import make_trade, nonce, synced_wallet, world_pairs
from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import IllegalTransitionError
from vaultexec.execution import VaultRouting
from vaultexec.testing.world import World


def test_setup_twice_signs_nothing_the_second_time(web3: Web3, world: World, vault: Contract,
                                                   asset_manager: LocalAccount) -> None:
    pairs = world_pairs(world)
    wallet = synced_wallet(web3)
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()))
    trades = [make_trade(1, pairs["v2"], Decimal(1000)), make_trade(2, pairs["v3"], Decimal(1000))]
    routing.setup_trades(trades, wallet=wallet)
    first = [t.to_json() for t in trades]
    hashes = [t.blockchain_transactions[0].tx_hash for t in trades]
    next_nonce = wallet.next_nonce
    start = nonce(web3, asset_manager)

    with pytest.raises(IllegalTransitionError, match=rf"trade #1 \(WETH-USDC\) is started, not planned "
                                                     rf"\(it holds transaction {hashes[0]}\)"):
        routing.setup_trades(trades, wallet=wallet)

    assert wallet.next_nonce == next_nonce, "no nonce burned"
    assert [t.to_json() for t in trades] == first, "the signed transactions and the quote are kept"
    assert nonce(web3, asset_manager) == start


def test_plan_refuses_a_started_trade_in_a_batch(web3: Web3, world: World, vault: Contract,
                                                 asset_manager: LocalAccount) -> None:
    pairs = world_pairs(world)
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()))
    started = make_trade(2, pairs["v3"], Decimal(1000))
    routing.setup_trades([started])
    fresh = make_trade(1, pairs["v2"], Decimal(1000))
    before = (started.to_json(), fresh.to_json())
    with pytest.raises(IllegalTransitionError, match=r"trade #2 .* is started, not planned"):
        routing.plan_trades([fresh, started])
    assert (started.to_json(), fresh.to_json()) == before
