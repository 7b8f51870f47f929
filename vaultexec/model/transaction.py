"""One blockchain transaction of a trade, from unsigned call to confirmed receipt."""

from __future__ import annotations

import datetime
import enum
import re
from dataclasses import dataclass, field
from typing import Any

from vaultexec.errors import BadInputError
from vaultexec.model.deltas import AssetDelta
from vaultexec.model.extra import ExecutorExtra
from vaultexec.model.safetext import escape_text
from vaultexec.model.serialisation import OMIT_EMPTY, JsonModel

#: Prefixes nodes put before the contract's own revert message.
_REVERT_PREFIXES = (
    "execution reverted: ",
    "VM Exception while processing transaction: reverted with reason string ",
    "VM Exception while processing transaction: revert ",
)

#: Fields holding a uint256 quantity (wei, gas, nonce, block): 0 <= value < 2**256.
_UINT_FIELDS = (
    "nonce",
    "gas_limit",
    "max_fee_per_gas",
    "max_priority_fee_per_gas",
    "gas_price",
    "block_number",
    "realised_gas_units_consumed",
    "realised_gas_price",
    "confirmations",
)
_UINT256_LIMIT = 2**256
#: Addresses are kept as given (records are not re-checksummed); the format is checked.
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
#: Raw bytes as 0x hex (the length is not checked: records from elsewhere may hold truncated samples).
_HEX_DATA = re.compile(r"0x[0-9a-fA-F]*")


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
    """The contract's own message without the node's "execution reverted: " style prefixes, escaped (chain
    text: a newline or ANSI escape in it is shown as `\\n`, `\\x1b`; see `model.safetext`)."""
    if reason is None:
        return None
    for prefix in _REVERT_PREFIXES:
        if reason.startswith(prefix):
            return escape_text(reason[len(prefix) :].strip("'\""))
    return escape_text(reason)


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

    def validate(self) -> None:
        """Quantities are uint256; addresses (20 bytes), hashes (32 bytes) and raw data are 0x hex."""
        name = f"transaction {self.tx_hash or '(unsigned)'}"
        if self.chain_id is not None and self.chain_id <= 0:
            raise BadInputError(f"{name}: chain_id {self.chain_id} must be positive")
        for field_name in _UINT_FIELDS:
            value = getattr(self, field_name)
            if value is not None and not 0 <= value < _UINT256_LIMIT:
                raise BadInputError(f"{name}: {field_name} {value} is not a uint256 (0 <= value < 2**256)")
        for field_name, pattern, what in (
            ("from_address", _ADDRESS, "0x + 40 hex digits"),
            ("contract_address", _ADDRESS, "0x + 40 hex digits"),
            ("tx_hash", _HASH, "0x + 64 hex digits"),
            ("block_hash", _HASH, "0x + 64 hex digits"),
            ("signed_bytes", _HEX_DATA, "0x + hex digits"),
            ("revert_data", _HEX_DATA, "0x + hex digits"),
        ):
            text = getattr(self, field_name)
            if text is not None and not pattern.fullmatch(text):
                raise BadInputError(f"{name}: {field_name} {text!r:.80} is not {what}")
        for i, tx_hash in enumerate(self.replaced_tx_hashes):
            if not _HASH.fullmatch(tx_hash):
                raise BadInputError(f"{name}: replaced_tx_hashes[{i}] {tx_hash!r:.80} is not 0x + 64 hex digits")

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
        if not isinstance(tx_hash, str) or not _HASH.fullmatch(tx_hash):
            raise BadInputError(f"set_signed: tx_hash {tx_hash!r:.80} is not 0x + 64 hex digits")
        if not isinstance(signed_bytes, str) or not _HEX_DATA.fullmatch(signed_bytes):
            raise BadInputError(f"set_signed: signed_bytes {signed_bytes!r:.80} is not 0x hex")
        if isinstance(nonce, bool) or not isinstance(nonce, int) or not 0 <= nonce < _UINT256_LIMIT:
            raise BadInputError(f"set_signed: nonce {nonce!r:.80} is not a non-negative int")
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
