"""Encode the vault's `execute(calls, maxSpend, minReceive)` call from swap calls and asset deltas."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import BadInputError
from vaultexec.model.deltas import AssetDelta


@dataclass(frozen=True)
class VaultCall:
    """One call the vault makes: a whitelisted target and its calldata."""

    target: str
    data: bytes
    description: str = ""


@dataclass(frozen=True)
class AssetBound:
    """A raw-unit bound on one asset: maximum spend or minimum receive."""

    asset: str
    amount: int


def bounds_from_deltas(deltas: Sequence[AssetDelta]) -> tuple[list[AssetBound], list[AssetBound]]:
    """Split model deltas into the vault's (maxSpend, minReceive) lists; the amounts are used as they are."""
    max_spend: list[AssetBound] = []
    min_receive: list[AssetBound] = []
    for delta in deltas:
        if delta.raw_amount == 0:
            raise BadInputError(f"Asset delta of {delta.asset.token_symbol} is zero: nothing to bound")
        bound = AssetBound(Web3.to_checksum_address(delta.asset.address), abs(delta.raw_amount))
        (max_spend if delta.raw_amount < 0 else min_receive).append(bound)
    return max_spend, min_receive


def encode_execute(vault: Contract, calls: Sequence[VaultCall], max_spend: Sequence[AssetBound],
                   min_receive: Sequence[AssetBound]) -> bytes:
    """ABI-encode a call of `vault.execute(...)` (selector included)."""
    data = vault.encode_abi("execute", args=[
        [(Web3.to_checksum_address(call.target), call.data) for call in calls],
        [(Web3.to_checksum_address(bound.asset), bound.amount) for bound in max_spend],
        [(Web3.to_checksum_address(bound.asset), bound.amount) for bound in min_receive],
    ])
    return Web3.to_bytes(hexstr=data)
