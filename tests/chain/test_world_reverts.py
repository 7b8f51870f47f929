"""Real Uniswap routers on the local world: failed swaps are tracked to `failed` with the router's reason."""

from __future__ import annotations

import time
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from vaultexec.chain.broadcast import TrackerConfig, TransactionTracker
from vaultexec.chain.gas import fetch_fees
from vaultexec.chain.revert import fetch_revert
from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.model.transaction import BlockchainTransaction, TxState
from vaultexec.testing.anvil import AnvilInstance
from vaultexec.testing.world import World

USDC_IN = 1_000 * 10**6
IMPOSSIBLE_OUT = 10**40


@pytest.fixture()
def hot(anvil: AnvilInstance, web3: Web3, asset_manager: LocalAccount) -> tuple[RPCClient, HotWallet]:
    client = RPCClient(anvil.url)
    wallet = HotWallet.from_key("0x" + bytes(asset_manager.key).hex(), web3.eth.chain_id)
    wallet.sync_nonce(client)
    return client, wallet


def run(client: RPCClient, wallet: HotWallet, calls: list[tuple[Any, str, Any]]) -> list[BlockchainTransaction]:
    """Sign `(contract, function, args)` calls with fixed gas (a doomed swap cannot be estimated) and track."""
    fees = fetch_fees(client, wallet.chain_id)
    txs = [wallet.sign_blockchain_transaction(BlockchainTransaction(contract_address=contract.address),
                                              contract.encode_abi(fn, args=args), 400_000, fees)
           for contract, fn, args in calls]
    TransactionTracker(client, TrackerConfig(poll_interval=0.01, timeout=30)).send_and_track(txs)
    return txs


def deadline() -> int:
    return int(time.time()) + 3600


def test_v2_router_error_string(world: World, hot: tuple[RPCClient, HotWallet]) -> None:
    client, wallet = hot
    world.fund("USDC", wallet.address, USDC_IN)
    router = world.uniswap_v2_router
    approve, swap = run(client, wallet, [
        (world.usdc, "approve", [router.address, USDC_IN]),
        (router, "swapExactTokensForTokens", [USDC_IN, IMPOSSIBLE_OUT, [world.usdc.address, world.weth.address],
                                              wallet.address, deadline()]),
    ])
    assert approve.tx_state is TxState.confirmed
    assert swap.tx_state is TxState.failed
    assert swap.revert_reason == "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"
    assert world.usdc.functions.balanceOf(wallet.address).call() == USDC_IN  # nothing spent


def test_v3_router_slippage_and_missing_approval(world: World, hot: tuple[RPCClient, HotWallet]) -> None:
    client, wallet = hot
    world.fund("USDC", wallet.address, 2 * USDC_IN)
    router = world.swap_router

    def params(min_out: int) -> tuple[Any, ...]:
        return (world.usdc.address, world.weth.address, 500, wallet.address, deadline(), USDC_IN, min_out, 0)

    no_allowance, = run(client, wallet, [(router, "exactInputSingle", [params(0)])])
    assert no_allowance.tx_state is TxState.failed
    assert no_allowance.revert_reason is not None
    assert no_allowance.revert_reason.startswith("STF (safeTransferFrom failed")
    approve, slipped = run(client, wallet, [(world.usdc, "approve", [router.address, 2 * USDC_IN]),
                                            (router, "exactInputSingle", [params(IMPOSSIBLE_OUT)])])
    assert slipped.revert_reason == "Too little received (output below amountOutMinimum (slippage))"
    # The eth_call fallback replays at the parent block: it misses the approve if both share a block.
    replayed = fetch_revert(client, str(slipped.tx_hash), use_trace=False)
    assert replayed.approximate
    expected = "STF" if approve.block_number == slipped.block_number else "Too little received"
    assert replayed.message.startswith(expected)
    slipped_again, = run(client, wallet, [(router, "exactInputSingle", [params(IMPOSSIBLE_OUT)])])
    replayed = fetch_revert(client, str(slipped_again.tx_hash), use_trace=False)
    assert replayed.message == "Too little received (output below amountOutMinimum (slippage))"
