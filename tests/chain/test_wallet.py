"""Hot wallet: key loading without leaks, local nonces, signing that anvil accepts."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest
from eth_account import Account
from eth_keys.backends import get_backend

from vaultexec.chain.gas import bump_fees, fetch_fees
from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.errors import WalletError
from vaultexec.model.transaction import BlockchainTransaction, TxState

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
KEY_DIGITS = KEY.removeprefix("0x")
DEAD = "0x000000000000000000000000000000000000dEaD"


def test_from_env_and_repr_hide_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", KEY)
    wallet = HotWallet.from_env(31337, env_var="MY_KEY")
    assert wallet.address == ADDRESS
    assert KEY_DIGITS not in repr(wallet) and KEY_DIGITS not in str(wallet)
    assert KEY_DIGITS not in repr(vars(wallet).get("address"))


def test_bad_key_error_does_not_quote_it(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = KEY_DIGITS[:-2] + "zz"
    monkeypatch.setenv("VAULTEXEC_PRIVATE_KEY", bad)
    with pytest.raises(WalletError) as info:
        HotWallet.from_env(31337)
    assert "VAULTEXEC_PRIVATE_KEY" in str(info.value)
    assert bad not in str(info.value)
    assert info.value.__suppress_context__  # the library's own error (which may quote input) is not shown


def test_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAULTEXEC_PRIVATE_KEY", raising=False)
    with pytest.raises(WalletError, match="set the environment variable VAULTEXEC_PRIVATE_KEY"):
        HotWallet.from_env(31337)


def test_keystore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(Account.encrypt(bytes.fromhex(KEY_DIGITS), "correct horse", iterations=2)))
    monkeypatch.setenv("VAULTEXEC_KEYSTORE_PASSWORD", "correct horse")
    assert HotWallet.from_keystore(path, 1).address == ADDRESS
    monkeypatch.setenv("VAULTEXEC_KEYSTORE_PASSWORD", "wrong")
    with pytest.raises(WalletError, match="wrong password") as info:
        HotWallet.from_keystore(path, 1)
    assert "wrong" not in str(info.value).replace("wrong password", "")


def test_key_never_logged(caplog: pytest.LogCaptureFixture, client: RPCClient) -> None:
    caplog.set_level(logging.DEBUG)
    wallet = HotWallet.from_key(KEY, 31337)
    wallet.sync_nonce(client)
    wallet.sign_call(DEAD, "0x", 21_000, fetch_fees(client, 31337))
    assert KEY_DIGITS not in caplog.text


def test_signing_uses_coincurve() -> None:
    assert type(get_backend()).__name__ == "CoinCurveECCBackend"


def test_nonces_are_local_after_one_sync_and_never_reused(client: RPCClient) -> None:
    wallet = HotWallet.from_key(KEY, 31337)
    with pytest.raises(WalletError, match="not synced"):
        wallet.allocate_nonce()
    before = client.stats.snapshot()
    start = wallet.sync_nonce(client)
    seen: list[int] = []
    lock = threading.Lock()

    def grab() -> None:
        for _ in range(200):
            nonce = wallet.allocate_nonce()
            with lock:
                seen.append(nonce)

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(start, start + 800))
    assert client.stats.since(before).total_requests == 1
    assert wallet.sync_nonce(client) == start + 800  # a re-sync behind our local counter never goes back
    assert wallet.allocate_nonce() == start + 800


def test_signed_transaction_is_accepted_by_the_node(client: RPCClient, dev_chain: object) -> None:
    wallet = HotWallet.from_key(KEY, 31337)
    wallet.sync_nonce(client)
    btx = BlockchainTransaction(contract_address=DEAD)
    fees = fetch_fees(client, 31337)
    wallet.sign_blockchain_transaction(btx, "0x1234", 30_000, fees, value=5)
    assert btx.tx_state is TxState.signed and btx.from_address == ADDRESS and btx.gas_limit == 30_000
    assert btx.max_fee_per_gas == fees.max_fee_per_gas
    assert client.call("eth_sendRawTransaction", [btx.signed_bytes]) == btx.tx_hash
    node_tx = client.call("eth_getTransactionByHash", [btx.tx_hash])
    assert int(node_tx["nonce"], 16) == btx.nonce and node_tx["input"] == "0x1234"
    assert int(node_tx["value"], 16) == 5


def test_resign_keeps_nonce_and_both_hashes(client: RPCClient) -> None:
    wallet = HotWallet.from_key(KEY, 31337)
    wallet.sync_nonce(client)
    btx = BlockchainTransaction(contract_address=DEAD)
    fees = fetch_fees(client, 31337)
    wallet.sign_blockchain_transaction(btx, "0x", 21_000, fees)
    first_hash, nonce = btx.tx_hash, btx.nonce
    wallet.resign_with_fees(btx, bump_fees(fees))
    assert btx.nonce == nonce and btx.tx_hash != first_hash
    assert btx.get_all_tx_hashes() == [first_hash, btx.tx_hash]
    assert btx.max_fee_per_gas is not None and fees.max_fee_per_gas is not None
    assert btx.max_fee_per_gas > fees.max_fee_per_gas
    assert nonce is not None and wallet.next_nonce == nonce + 1  # a replacement allocates no nonce
