"""`encode_execute` (eth_abi directly) gives byte for byte what web3's `contract.encode_abi` gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3

from vaultexec.vault.contracts import load_artifact
from vaultexec.vault.execute import AssetBound, VaultCall, encode_execute, encode_execute_call

VAULT_ADDRESS = "0x" + "11" * 20
CONTRACT = Web3().eth.contract(address=Web3.to_checksum_address(VAULT_ADDRESS), abi=load_artifact("Vault")["abi"])

addresses = st.binary(min_size=20, max_size=20).map(lambda raw: "0x" + raw.hex())
calls = st.lists(st.builds(VaultCall, addresses, st.binary(max_size=300)), max_size=4)
bounds = st.lists(st.builds(AssetBound, addresses, st.integers(0, 2**256 - 1)), max_size=3)


def _web3_encoding(vault_calls: list[VaultCall], spend: list[AssetBound], receive: list[AssetBound]) -> bytes:
    data = CONTRACT.encode_abi("execute", args=[
        [(Web3.to_checksum_address(c.target), c.data) for c in vault_calls],
        [(Web3.to_checksum_address(b.asset), b.amount) for b in spend],
        [(Web3.to_checksum_address(b.asset), b.amount) for b in receive]])
    return Web3.to_bytes(hexstr=data)


@settings(max_examples=150, deadline=None)
@given(calls, bounds, bounds)
def test_encoding_is_byte_identical_to_web3(vault_calls: list[VaultCall], spend: list[AssetBound],
                                            receive: list[AssetBound]) -> None:
    expected = _web3_encoding(vault_calls, spend, receive)
    assert encode_execute_call(vault_calls, spend, receive) == expected
    assert encode_execute(CONTRACT, vault_calls, spend, receive) == expected


def test_typical_swap_call_and_selector() -> None:
    approve = VaultCall("0x" + "aa" * 20, bytes.fromhex("095ea7b3") + bytes(64))
    swap = VaultCall("0x" + "bb" * 20, bytes.fromhex("38ed1739") + bytes(160))
    spend, receive = [AssetBound("0x" + "cc" * 20, 10**18)], [AssetBound("0x" + "dd" * 20, 3 * 10**9)]
    encoded = encode_execute_call([approve, swap], spend, receive)
    signature = CONTRACT.get_function_by_name("execute").signature
    assert signature == "execute((address,bytes)[],(address,uint256)[],(address,uint256)[])"
    assert encoded[:4] == Web3.keccak(text=signature)[:4]
    assert encoded == _web3_encoding([approve, swap], spend, receive)
