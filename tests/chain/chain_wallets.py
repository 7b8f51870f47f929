"""Wallet helpers shared by the chain tests (and their conftest)."""

from __future__ import annotations

from vaultexec.chain.rpc import RPCClient

#: A key of its own for tests that set the wallet's balance (not a dev account).
POOR_KEY = "0x" + "5a" * 32


def set_balance(client: RPCClient, address: str, wei: int) -> None:
    client.call("anvil_setBalance", [address, hex(wei)])
