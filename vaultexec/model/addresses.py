"""Checksummed addresses, cached: EIP-55 costs a keccak per call and the hot path repeats few addresses."""

from __future__ import annotations

from functools import lru_cache

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address


@lru_cache(maxsize=8192)
def checksum(address: str | bytes) -> ChecksumAddress:
    """EIP-55 spelling of a 0x hex address (any case) or 20 raw bytes; ValueError for a malformed one."""
    return to_checksum_address(address)
