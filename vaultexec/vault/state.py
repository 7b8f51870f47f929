"""Read-only views of a vault: its guard state per asset, and its custom errors decoded from revert data.

Used to explain a refusal before sending (`explain_execute` runs the contract's own `checkExecute` dry run)
and by tests that assert which custom error a call reverts with.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode
from eth_typing import HexStr
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError

from vaultexec.vault.contracts import load_artifact
from vaultexec.vault.deploy import UNLIMITED, VAULT_CONTRACT
from vaultexec.vault.execute import AssetBound, VaultCall
from vaultexec.vault.safe_module import MODULE_CONTRACT, custody_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AssetState:
    """The guard's view of one asset, raw units. `available` is `UNLIMITED` when `capacity` is 0."""

    asset: str
    allowed: bool
    capacity: int
    refill_period: int
    available: int
    balance: int
    #: the owner's explicit opt-in to spending it with nothing bounding it
    unbounded: bool = False
    #: how it is priced: "none", "feed" or "twap" (see `PriceSource` in IOracleGuard.sol)
    price_kind: str = "none"

    @property
    def limited(self) -> bool:
        return self.capacity != 0


@dataclass(frozen=True)
class LossBoundState:
    """The vault's oracle-priced loss bound; valuation units have 18 decimals (USD for USD feeds)."""

    active: bool
    cap_bps: int
    capacity: int
    refill_period: int
    available: int


@dataclass(frozen=True)
class VaultState:
    """A snapshot of the vault's roles, pause flag and per-asset guard state, all read at one block."""

    block_number: int
    owner: str
    asset_manager: str
    paused: bool
    assets: dict[str, AssetState]
    loss_bound: LossBoundState | None = None


@dataclass(frozen=True)
class VaultError:
    """A decoded custom error of the vault: its name, selector and arguments in ABI order."""

    name: str
    selector: bytes
    args: tuple[Any, ...]

    def __str__(self) -> str:
        return f"{self.name}({', '.join(repr(arg) for arg in self.args)})"


def read_vault_state(vault: Contract, assets: Sequence[str], block: int | None = None) -> VaultState:
    """Read owner, manager, pause flag and, per asset, whether it is allowed, its limit and its balance (at the
    custody: the vault, or a Safe module's Safe)."""
    web3 = vault.w3
    at = block if block is not None else web3.eth.block_number
    erc20 = web3.eth.contract(abi=load_artifact("TestToken")["abi"])
    custody = custody_of(web3, vault.address)  # a Safe module's balances are its Safe's
    states: dict[str, AssetState] = {}
    for asset in assets:
        checksum = Web3.to_checksum_address(asset)
        capacity, period = vault.functions.spendLimit(checksum).call(block_identifier=at)
        states[checksum] = AssetState(
            asset=checksum,
            allowed=vault.functions.isAssetAllowed(checksum).call(block_identifier=at),
            capacity=capacity,
            refill_period=period,
            available=vault.functions.availableSpend(checksum).call(block_identifier=at),
            balance=erc20.functions.balanceOf(custody).call({"to": checksum}, block_identifier=at),
            unbounded=vault.functions.isUnboundedSpendAllowed(checksum).call(block_identifier=at),
            price_kind=_PRICE_KINDS[vault.functions.priceSource(checksum).call(block_identifier=at)[0]],
        )
    active, cap_bps, capacity, period = vault.functions.lossBound().call(block_identifier=at)
    return VaultState(
        block_number=at,
        owner=vault.functions.owner().call(block_identifier=at),
        asset_manager=vault.functions.assetManager().call(block_identifier=at),
        paused=vault.functions.paused().call(block_identifier=at),
        assets=states,
        loss_bound=LossBoundState(
            active=active, cap_bps=cap_bps, capacity=capacity, refill_period=period,
            available=vault.functions.availableLossBudget().call(block_identifier=at)),
    )


#: `PriceKind` of IOracleGuard.sol by its index.
_PRICE_KINDS: tuple[str, ...] = ("none", "feed", "twap")


@cache
def _vault_errors() -> dict[bytes, tuple[str, list[str]]]:
    errors: dict[bytes, tuple[str, list[str]]] = {}
    # The Safe module shares the guard's errors and adds its own (NotSafe, ForbiddenTarget, ...).
    for entry in [*load_artifact(VAULT_CONTRACT)["abi"], *load_artifact(MODULE_CONTRACT)["abi"]]:
        if entry["type"] == "error":
            types = [param["type"] for param in entry["inputs"]]
            selector = Web3.keccak(text=f"{entry['name']}({','.join(types)})")[:4]
            errors[selector] = (entry["name"], types)
    return errors


def decode_vault_error(data: bytes | str) -> VaultError | None:
    """Decode revert data as one of the vault's custom errors (addresses checksummed); None if it is not one."""
    raw = Web3.to_bytes(hexstr=HexStr(data)) if isinstance(data, str) else data
    known = _vault_errors().get(raw[:4])
    if known is None:
        return None
    name, types = known
    values = decode(types, raw[4:])
    return VaultError(name, raw[:4], tuple(Web3.to_checksum_address(value) if kind == "address" else value
                                           for kind, value in zip(types, values, strict=True)))


def revert_data(exc: Exception) -> bytes:
    """The raw revert data carried by a web3 call exception (empty when the node gave none)."""
    data = exc.data if isinstance(exc, (ContractCustomError, ContractLogicError)) else None
    if isinstance(data, str) and data.startswith("0x"):
        return Web3.to_bytes(hexstr=HexStr(data))
    return b""


def _call_args(calls: Sequence[VaultCall], max_spend: Sequence[AssetBound],
               min_receive: Sequence[AssetBound]) -> list[Any]:
    checksum = Web3.to_checksum_address
    return [[(checksum(call.target), call.data) for call in calls],
            [(checksum(bound.asset), bound.amount) for bound in max_spend],
            [(checksum(bound.asset), bound.amount) for bound in min_receive]]


def explain_execute(vault: Contract, calls: Sequence[VaultCall], max_spend: Sequence[AssetBound],
                    min_receive: Sequence[AssetBound]) -> VaultError | None:
    """Run the vault's `checkExecute` dry run: None if the guard accepts the calls, else its decoded refusal.

    Checks arguments and each call against the whitelist only, not balances, slippage or spend limits
    (see `AssetState.available`); an `eth_call` of `execute` from the manager is the full simulation.
    """
    try:
        vault.functions.checkExecute(*_call_args(calls, max_spend, min_receive)).call()
    except (ContractCustomError, ContractLogicError) as exc:
        decoded = decode_vault_error(revert_data(exc))
        logger.info("vault %s refuses the calls: %s", vault.address, decoded)
        if decoded is None:
            raise
        return decoded
    return None


__all__ = ["UNLIMITED", "AssetState", "VaultError", "VaultState", "decode_vault_error", "explain_execute",
           "read_vault_state", "revert_data"]
