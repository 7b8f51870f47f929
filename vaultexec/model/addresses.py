"""Checksummed addresses, cached: EIP-55 costs a keccak per call and the hot path repeats few addresses."""

from __future__ import annotations

import re
from functools import lru_cache

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from vaultexec.errors import BadInputError

_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def is_hex_address(text: str) -> bool:
    """"0x" + 40 hex digits (any case; the checksum is not checked)."""
    return _HEX_ADDRESS.fullmatch(text) is not None


@lru_cache(maxsize=8192)
def checksum(address: str | bytes) -> ChecksumAddress:
    """EIP-55 spelling of a "0x" + 40 hex digits address or of 20 raw bytes.

    All-lowercase and all-uppercase hex carry no checksum and are accepted; a mixed-case address must be
    correctly checksummed (a wrong one is most likely a typo). BadInputError (a ValueError) otherwise.
    """
    if isinstance(address, bytes):
        if len(address) != 20:
            raise BadInputError(f"{address!r:.80} is not an Ethereum address (20 bytes)")
        return to_checksum_address(address)
    if not isinstance(address, str) or not is_hex_address(address):
        raise BadInputError(f"{address!r:.80} is not an Ethereum address (0x + 40 hex digits)")
    result = to_checksum_address(address)
    digits = address[2:]
    if digits != digits.lower() and digits != digits.upper() and result != address:
        raise BadInputError(
            f"{address} fails its EIP-55 checksum (mixed-case letters do not match): a typo? "
            f"Check the address, or pass it all lowercase"
        )
    return result
