"""Send an owner/admin transaction as an unlocked node account or a local signing account."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from vaultexec.errors import BroadcastError

#: Who sends: an address unlocked on the node (dev chains) or a LocalAccount that signs here.
Sender = str | LocalAccount


def sender_address(sender: Sender) -> str:
    return sender.address if isinstance(sender, LocalAccount) else Web3.to_checksum_address(sender)


def send_and_wait(web3: Web3, sender: Sender, fn: Any, gas: int | None = None, timeout: float = 120) -> TxReceipt:
    """Send a contract function call or constructor from `sender`; raise `BroadcastError` if it reverts."""
    params: dict[str, Any] = {"from": sender_address(sender)}
    if gas is not None:
        params["gas"] = gas
    if isinstance(sender, LocalAccount):
        tx = fn.build_transaction(params)
        tx["nonce"] = web3.eth.get_transaction_count(sender.address, "pending")
        signed = sender.sign_transaction(tx)
        tx_hash = web3.eth.send_raw_transaction(signed.raw_transaction)
    else:
        tx_hash = fn.transact(params)
    receipt = web3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
    if receipt["status"] != 1:
        raise BroadcastError(f"Transaction {tx_hash.hex()} from {params['from']} reverted on chain")
    return receipt
