"""ERC-20 calldata: approve, balanceOf, decimals (encode and decode, no web3 contract objects)."""

from __future__ import annotations

from eth_utils.crypto import keccak

from vaultexec.dex.abiread import decode_words as decode
from vaultexec.dex.abiwords import address, uint


def selector(signature: str) -> bytes:
    """4-byte function selector of a canonical signature, e.g. "approve(address,uint256)"."""
    return keccak(text=signature)[:4]


APPROVE = selector("approve(address,uint256)")
BALANCE_OF = selector("balanceOf(address)")
DECIMALS = selector("decimals()")


def encode_approve(spender: str, raw_amount: int) -> bytes:
    """approve(spender, raw_amount): an exact amount, never an infinite approval."""
    return APPROVE + address(spender) + uint(raw_amount)


def encode_balance_of(owner: str) -> bytes:
    return BALANCE_OF + address(owner)


def encode_decimals() -> bytes:
    return DECIMALS


def decode_uint(data: bytes) -> int:
    """A single uint256 return value."""
    (value,) = decode(["uint256"], data)
    return int(value)
