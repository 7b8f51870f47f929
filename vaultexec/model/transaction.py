"""One blockchain transaction of a trade, from unsigned call to confirmed receipt."""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field
from typing import Any

from vaultexec.model.deltas import AssetDelta
from vaultexec.model.extra import ExecutorExtra
from vaultexec.model.serialisation import OMIT_EMPTY, JsonModel

#: Prefixes nodes put before the contract's own revert message.
_REVERT_PREFIXES = (
    "execution reverted: ",
    "VM Exception while processing transaction: reverted with reason string ",
    "VM Exception while processing transaction: revert ",
)


class TxState(enum.StrEnum):
    """Where a transaction is in its life, as the broadcast tracker sees it.

    unsigned -> signed -> broadcasted -> included -> confirmed, or failed (included, reverted),
    dropped (left the mempool, nonce still free) or replaced (same nonce, another tx landed or superseded).
    """

    unsigned = "unsigned"
    signed = "signed"
    broadcasted = "broadcasted"
    included = "included"
    confirmed = "confirmed"
    failed = "failed"
    dropped = "dropped"
    replaced = "replaced"


def clean_revert_reason(reason: str | None) -> str | None:
    """The contract's own message without the node's "execution reverted: " style prefixes."""
    if reason is None:
        return None
    for prefix in _REVERT_PREFIXES:
        if reason.startswith(prefix):
            return reason[len(prefix) :].strip("'\"")
    return reason


@dataclass
class BlockchainTransaction(JsonModel):
    """A transaction we build, sign, broadcast and track (trade-executor's field names where they exist).

    Gas and fee fields are raw wei / gas units. Timestamps are naive UTC.
    """

    chain_id: int | None = None
    #: Hot wallet that signs (the vault's asset manager).
    from_address: str | None = None
    #: Contract called: the vault for trades.
    contract_address: str | None = None
    #: Solidity function name called on `contract_address`, e.g. "execute".
    function_selector: str | None = None
    #: The call's full arguments as sent (JSON form).
    transaction_args: list[Any] | None = None
    #: Arguments of the inner call the vault performs (e.g. the router swap).
    args: list[Any] | None = None
    wrapped_args: list[Any] | None = None
    wrapped_function_selector: str | None = None
    #: Raw signed transaction, 0x hex.
    signed_bytes: str | None = None
    tx_hash: str | None = None
    nonce: int | None = None
    #: The transaction dict as given to the signer (to, data, value, gas, fees), JSON form.
    details: dict[str, Any] | None = None
    #: Balance changes the vault enforces on chain for this transaction (spend first).
    asset_deltas: list[AssetDelta] = field(default_factory=list)
    gas_limit: int | None = None
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    #: Legacy (pre EIP-1559) gas price, wei.
    gas_price: int | None = None
    broadcasted_at: datetime.datetime | None = None
    #: When we first saw a receipt.
    included_at: datetime.datetime | None = None
    block_number: int | None = None
    block_hash: str | None = None
    #: Receipt status: True success, False reverted, None no receipt yet.
    status: bool | None = None
    realised_gas_units_consumed: int | None = None
    #: Effective gas price paid, wei.
    realised_gas_price: int | None = None
    revert_reason: str | None = None
    #: Raw revert data (0x hex) when the reason could not be decoded or for custom errors.
    revert_data: str | None = None
    #: True when the reason was re-derived (e.g. by replaying the call) rather than read exactly.
    revert_reason_approximate: bool = False
    stack_trace: str | None = None
    #: Blocks on top of the inclusion block at the last check (0 = just included).
    confirmations: int = 0
    tx_state: TxState = TxState.unsigned
    #: Hashes previously broadcast with this nonce (fee bumps), oldest first.
    replaced_tx_hashes: list[str] = field(default_factory=list)
    notes: str | None = None
    #: trade-executor fields we do not model (set by `model.compat`); outside eq.
    executor_extra: ExecutorExtra | None = field(default=None, compare=False, repr=False, metadata=OMIT_EMPTY)

    def is_success(self) -> bool:
        return self.status is True

    def is_reverted(self) -> bool:
        return self.status is False

    def is_included(self) -> bool:
        return self.block_number is not None

    def get_all_tx_hashes(self) -> list[str]:
        """Every hash broadcast for this nonce, oldest first, current last (any may be mined)."""
        hashes = list(self.replaced_tx_hashes)
        if self.tx_hash is not None:
            hashes.append(self.tx_hash)
        return hashes

    def set_signed(self, tx_hash: str, signed_bytes: str, nonce: int) -> None:
        """Record a signature; a different hash already set is kept in `replaced_tx_hashes`."""
        if self.tx_hash is not None and self.tx_hash != tx_hash:
            self.replaced_tx_hashes.append(self.tx_hash)
        self.tx_hash = tx_hash
        self.signed_bytes = signed_bytes
        self.nonce = nonce
        self.tx_state = TxState.signed

    def get_planned_gas_price(self) -> int:
        """The most wei per gas this transaction may pay (max fee, or legacy gas price), 0 if unset."""
        return self.max_fee_per_gas or self.gas_price or 0

    def get_gas_fee_paid(self) -> int | None:
        """Wei actually paid for gas, once the receipt is known."""
        if self.realised_gas_units_consumed is None or self.realised_gas_price is None:
            return None
        return self.realised_gas_units_consumed * self.realised_gas_price

    def get_revert_reason(self) -> str | None:
        """Cleaned revert reason, or None."""
        return clean_revert_reason(self.revert_reason)

    def __str__(self) -> str:
        return (
            f"<tx {self.function_selector} nonce {self.nonce} {self.tx_hash} {self.tx_state.value}"
            f" status {self.status}>"
        )
