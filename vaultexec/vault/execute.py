"""Encode the vault's `execute(calls, maxSpend, minReceive)` call from swap calls and asset deltas.

Encoded word by word (dex.abiwords, proven equal to eth-abi; the selector read once from the shipped ABI):
web3's contract machinery costs several ms per call, eth-abi ~40 µs, and the pipeline encodes one per trade.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_utils.crypto import keccak
from web3.contract import Contract

from vaultexec.dex.abiwords import execute_arguments
from vaultexec.errors import BadInputError
from vaultexec.model.addresses import checksum
from vaultexec.model.deltas import AssetDelta
from vaultexec.vault.contracts import load_artifact

EXECUTE_FUNCTION = "execute"


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
        bound = AssetBound(checksum(delta.asset.address), abs(delta.raw_amount))
        (max_spend if delta.raw_amount < 0 else min_receive).append(bound)
    return max_spend, min_receive


def canonical_type(param: Mapping[str, Any]) -> str:
    """ABI parameter -> canonical type string, tuples expanded: `(address,bytes)[]`."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple'):]}"
    return kind


@cache
def execute_signature() -> tuple[bytes, tuple[str, ...]]:
    """(selector, argument types) of the vault's `execute`, from the shipped ABI (read once)."""
    abi = load_artifact("Vault")["abi"]
    entry = next(e for e in abi if e.get("type") == "function" and e.get("name") == EXECUTE_FUNCTION)
    types = tuple(canonical_type(p) for p in entry["inputs"])
    return keccak(text=f"{EXECUTE_FUNCTION}({','.join(types)})")[:4], types


def encode_execute_call(calls: Sequence[VaultCall], max_spend: Sequence[AssetBound],
                        min_receive: Sequence[AssetBound]) -> bytes:
    """ABI-encode a call of the vault's `execute(...)` (selector included)."""
    selector, _ = execute_signature()
    return selector + execute_arguments([(call.target, call.data) for call in calls],
                                        [(bound.asset, bound.amount) for bound in max_spend],
                                        [(bound.asset, bound.amount) for bound in min_receive])


def encode_execute(vault: Contract | None, calls: Sequence[VaultCall], max_spend: Sequence[AssetBound],
                   min_receive: Sequence[AssetBound]) -> bytes:
    """ABI-encode a call of `vault.execute(...)` (selector included); `vault` is not needed any more.

    Same bytes as `vault.encode_abi("execute", ...)`; kept for callers that pass the contract.
    """
    return encode_execute_call(calls, max_spend, min_receive)
