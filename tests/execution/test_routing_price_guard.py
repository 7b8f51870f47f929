"""A fresh quote too far from the executor's decision price is refused before anything is signed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_account.signers.local import LocalAccount
from test_routing_helpers import make_trade, nonce, world_pairs
from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import PriceMovedError
from vaultexec.execution import VaultRouting
from vaultexec.testing.world import World


@pytest.mark.parametrize("buy", [True, False])
def test_quote_beyond_planned_max_slippage_is_refused(web3: Web3, world: World, vault: Contract,
                                                       asset_manager: LocalAccount, buy: bool) -> None:
    pairs = world_pairs(world)
    trade = make_trade(1, pairs["v3"], Decimal(3000), buy=buy)
    # The executor decided at 2,500 USDC/WETH (a buy) or 3,500 (a sell); the pool is at ~3,000.
    trade.planned_mid_price = Decimal(2500) if buy else Decimal(3500)
    trade.planned_max_slippage = Decimal("0.02")
    start = nonce(web3, asset_manager)
    expected = (r"trade #1 \(WETH-USDC\): the pool quotes (299|300)\d\.\d+ USDC per WETH.*"
                r"beyond planned_max_slippage 2\.0000%")
    with pytest.raises(PriceMovedError, match=expected):
        VaultRouting(web3, vault.address, asset_manager.address, [pairs["v3"]]).setup_trades([trade])
    assert trade.is_planned() and trade.blockchain_transactions == []
    assert nonce(web3, asset_manager) == start


def test_quote_within_planned_max_slippage_is_planned(web3: Web3, world: World, vault: Contract,
                                                      asset_manager: LocalAccount) -> None:
    pairs = world_pairs(world)
    trade = make_trade(1, pairs["v3"], Decimal(3000))
    trade.planned_mid_price = Decimal(3000)
    trade.planned_max_slippage = Decimal("0.01")  # the quote is ~0.1% above mid (fee + impact)
    VaultRouting(web3, vault.address, asset_manager.address, [pairs["v3"]]).setup_trades([trade])
    assert trade.is_started()
