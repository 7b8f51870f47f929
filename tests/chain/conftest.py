"""Fixtures of the chain tests: a plain anvil (no world) and an RPC client on it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from vaultexec.chain.rpc import RetryPolicy, RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.testing.anvil import DEV_PRIVATE_KEYS, AnvilInstance, launch_anvil

from chain_wallets import POOR_KEY, set_balance  # isort: skip

#: Fast retries so fault tests stay quick.
FAST_RETRY = RetryPolicy(attempts=5, initial_backoff=0.01, max_backoff=0.05, deadline=10.0)


@pytest.fixture()
def fast_retry() -> RetryPolicy:
    return FAST_RETRY


@pytest.fixture(scope="module")
def plain_anvil() -> Iterator[AnvilInstance]:
    """A bare anvil (dev accounts only) shared by a test module."""
    with launch_anvil() as node:
        yield node


@pytest.fixture()
def client(plain_anvil: AnvilInstance) -> Iterator[RPCClient]:
    rpc = RPCClient(plain_anvil.url, timeout=10, retry=FAST_RETRY)
    snapshot = rpc.call("evm_snapshot")
    base_fee = rpc.call("eth_getBlockByNumber", ["latest", False])["baseFeePerGas"]
    yield rpc
    rpc.call("evm_revert", [snapshot])
    rpc.call("evm_setAutomine", [True])
    # evm_revert does not restore anvil's next base fee: a test that raised it must not leak it.
    rpc.call("anvil_setNextBlockBaseFeePerGas", [base_fee])
    rpc.close()


DEV_ACCOUNT = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil dev account 0, unlocked on the node


class DevChain:
    """Small helpers on a dev chain: deploy hand-assembled runtime code, send as dev account 0, wait."""

    def __init__(self, client: RPCClient) -> None:
        self.client = client

    def wait_receipt(self, tx_hash: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            receipt = self.client.call("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                return dict(receipt)
            time.sleep(0.01)
        raise AssertionError(f"no receipt for {tx_hash} within {timeout}s")

    def send(self, to: str | None, data: str = "0x", gas: int = 200_000) -> str:
        tx: dict[str, Any] = {"from": DEV_ACCOUNT, "data": data, "gas": hex(gas)}
        if to is not None:
            tx["to"] = to
        return str(self.client.call("eth_sendTransaction", [tx]))

    def deploy_runtime(self, runtime_hex: str) -> str:
        """Deploy `runtime_hex` with a minimal constructor that copies it to the new contract's code."""
        runtime = bytes.fromhex(runtime_hex)
        size = len(runtime)
        init = bytes([0x60, size, 0x60, 0x0A, 0x5F, 0x39, 0x60, size, 0x5F, 0xF3]) + runtime
        receipt = self.wait_receipt(self.send(None, "0x" + init.hex()))
        return str(receipt["contractAddress"])


@pytest.fixture()
def dev_chain(client: RPCClient) -> DevChain:
    return DevChain(client)


@pytest.fixture()
def wallet(client: RPCClient) -> HotWallet:
    """Dev account 1 as a hot wallet, nonces synced."""
    hot = HotWallet.from_key(DEV_PRIVATE_KEYS[1], 31337)
    hot.sync_nonce(client)
    return hot


@pytest.fixture()
def poor(client: RPCClient) -> HotWallet:
    """A wallet of its own holding 1 ETH (tests set its balance as they need)."""
    hot = HotWallet.from_key(POOR_KEY, 31337)
    set_balance(client, hot.address, 10**18)
    hot.sync_nonce(client)
    return hot


@pytest.fixture()
def manual_mining(client: RPCClient) -> Iterator[None]:
    """Automine off for the test (restored after it)."""
    client.call("evm_setAutomine", [False])
    yield
    client.call("evm_setAutomine", [True])
