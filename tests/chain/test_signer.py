"""The lean EIP-1559 signer produces eth-account's bytes and hash exactly (issue #14), on random transactions."""

from __future__ import annotations

from eth_account import Account
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultexec.chain.gas import FeeQuote
from vaultexec.chain.signer import Eip1559Signer, rlp_int
from vaultexec.chain.wallet import HotWallet

#: secp256k1's group order: private keys are 1 .. N - 1.
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
KEYS = st.integers(1, N - 1).map(lambda k: "0x" + k.to_bytes(32, "big").hex())
UINT = st.one_of(st.integers(0, 2**8), st.integers(0, 2**64), st.integers(0, 2**256 - 1))
ADDRESSES = st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address("0x" + b.hex()))


@settings(max_examples=200, deadline=None)
@given(key=KEYS, chain_id=st.integers(1, 2**32), nonce=st.integers(0, 2**64 - 2), priority=UINT, max_fee=UINT,
       gas=st.integers(0, 2**63), to=ADDRESSES, value=UINT, data=st.binary(max_size=2000))
def test_same_bytes_as_eth_account(key: str, chain_id: int, nonce: int, priority: int, max_fee: int, gas: int,
                                   to: str, value: int, data: bytes) -> None:
    account = Account.from_key(key)
    expected = account.sign_transaction({
        "type": 2, "chainId": chain_id, "nonce": nonce, "maxPriorityFeePerGas": priority, "maxFeePerGas": max_fee,
        "gas": gas, "to": to, "value": value, "data": data})
    raw, tx_hash = Eip1559Signer(bytes(account.key)).sign(chain_id, nonce, priority, max_fee, gas, to, value, data)
    assert raw == bytes(expected.raw_transaction)
    assert tx_hash == bytes(expected.hash)


@settings(max_examples=50, deadline=None)
@given(key=KEYS, nonce=st.integers(0, 2**20), data=st.binary(max_size=600), value=st.integers(0, 10**24))
def test_wallet_signs_as_eth_account(key: str, nonce: int, data: bytes, value: int) -> None:
    """The wallet's own path (FeeQuote fields, hex data) gives eth-account's bytes."""
    wallet = HotWallet(Account.from_key(key), 31337)
    fees = FeeQuote(max_fee_per_gas=3 * 10**9, max_priority_fee_per_gas=10**9, gas_price=None, base_fee=10**9)
    tx = {"to": "0x000000000000000000000000000000000000dEaD", "data": "0x" + data.hex(), "value": value,
          "gas": 250_000, "nonce": nonce, **fees.tx_fields()}
    signed = wallet.sign(tx)
    expected = wallet.account.sign_transaction({**tx, "chainId": 31337})
    assert signed.raw == "0x" + bytes(expected.raw_transaction).hex()
    assert signed.tx_hash == "0x" + bytes(expected.hash).hex()


def test_rlp_of_integers() -> None:
    assert rlp_int(0) == b"\x80" and rlp_int(0x7F) == b"\x7f" and rlp_int(0x80) == b"\x81\x80"
    assert rlp_int(2**256 - 1) == b"\xa0" + b"\xff" * 32
