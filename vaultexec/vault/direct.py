"""Encode the vault's `executeDirect(routes, maxSpend, minReceive)`: swaps straight through the pools.

The direct path needs no router and no approval: each route names its tokens and pools (V2 pairs and V3
pools the owner allowed with `setDirectPoolAllowed`), the exact input, the route's minimum output and a
deadline; the vault computes every hop itself. Encoded with eth_abi, like `execute` (see `execute.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import cache

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from vaultexec.errors import BadInputError
from vaultexec.model.addresses import checksum
from vaultexec.vault.contracts import load_artifact
from vaultexec.vault.execute import AssetBound, canonical_type

EXECUTE_DIRECT_FUNCTION = "executeDirect"
#: The vault's `MAX_HOPS`: most pools in one route.
MAX_HOPS = 4


class DirectProtocol(IntEnum):
    """The vault's `DirectProtocol` enum: which pool ABI a hop speaks."""

    NONE = 0
    UNISWAP_V2 = 1
    UNISWAP_V3 = 2


@dataclass(frozen=True)
class DirectRoute:
    """One exact-input route: `tokens[k]` -> `tokens[k + 1]` in `pools[k]` (raw units, unix deadline)."""

    tokens: tuple[str, ...]
    pools: tuple[str, ...]
    amount_in: int
    amount_out_min: int
    deadline: int

    def __post_init__(self) -> None:
        hops = len(self.pools)
        if not 1 <= hops <= MAX_HOPS or len(self.tokens) != hops + 1:
            raise BadInputError(
                f"A direct route needs 1..{MAX_HOPS} pools and one token more than pools; got "
                f"{len(self.tokens)} tokens and {hops} pools")
        if self.amount_in <= 0 or self.amount_out_min <= 0:
            raise BadInputError(
                f"A direct route needs a positive input and minimum output; got amount_in={self.amount_in}, "
                f"amount_out_min={self.amount_out_min}")


@cache
def execute_direct_signature() -> tuple[bytes, tuple[str, ...]]:
    """(selector, argument types) of the vault's `executeDirect`, from the shipped ABI (read once)."""
    abi = load_artifact("Vault")["abi"]
    entry = next(e for e in abi if e.get("type") == "function" and e.get("name") == EXECUTE_DIRECT_FUNCTION)
    types = tuple(canonical_type(p) for p in entry["inputs"])
    return keccak(text=f"{EXECUTE_DIRECT_FUNCTION}({','.join(types)})")[:4], types


def encode_execute_direct_call(routes: Sequence[DirectRoute], max_spend: Sequence[AssetBound],
                               min_receive: Sequence[AssetBound]) -> bytes:
    """ABI-encode a call of the vault's `executeDirect(...)` (selector included)."""
    selector, types = execute_direct_signature()
    return selector + encode(list(types), [
        [([checksum(t) for t in r.tokens], [checksum(p) for p in r.pools], r.amount_in, r.amount_out_min,
          r.deadline) for r in routes],
        [(checksum(bound.asset), bound.amount) for bound in max_spend],
        [(checksum(bound.asset), bound.amount) for bound in min_receive],
    ])


def vault_function_name(calldata: bytes) -> str:
    """The vault function `calldata` calls: `executeDirect` or `execute` (the record's label)."""
    return EXECUTE_DIRECT_FUNCTION if calldata[:4] == execute_direct_signature()[0] else "execute"
