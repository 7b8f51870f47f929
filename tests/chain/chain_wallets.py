"""Wallet helpers shared by the chain tests (and their conftest)."""

from __future__ import annotations

from vaultexec.chain.gas import fetch_fees
from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.model.transaction import BlockchainTransaction

#: A key of its own for tests that set the wallet's balance (not a dev account).
POOR_KEY = "0x" + "5a" * 32
DEAD = "0x000000000000000000000000000000000000dEaD"


def set_balance(client: RPCClient, address: str, wei: int) -> None:
    client.call("anvil_setBalance", [address, hex(wei)])


def funded_wallet(rpc: RPCClient, seed: int) -> HotWallet:
    """A wallet of its own (key = `seed`) with 100 ETH on the local chain (31337)."""
    wallet = HotWallet.from_key("0x" + f"{seed:064x}", 31337)
    set_balance(rpc, wallet.address, 10**20)
    return wallet


def sign(rpc: RPCClient, wallet: HotWallet, count: int) -> list[BlockchainTransaction]:
    """`count` signed transfers to DEAD (values 1..count wei) at the node's current fees."""
    fees = fetch_fees(rpc, 31337)
    return [wallet.sign_blockchain_transaction(BlockchainTransaction(contract_address=DEAD), "0x", 21_000, fees,
                                               value=i + 1) for i in range(count)]
