"""Why did a transaction fail: obtain the revert data of a failed receipt and decode it to a message.

Decodes `Error(string)` (with human meanings of Uniswap's short codes), `Panic(uint256)`, custom errors
of every ABI we know (ours from `vaultexec/vault/artifacts/*.json`, OpenZeppelin 5, Uniswap) with named
arguments, and nested reverts (a `bytes` argument that is itself revert data, e.g. the vault's
`CallFailed(index, reason)`). The raw data is always kept beside the text.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from vaultexec.chain.rpc import RPCClient
from vaultexec.errors import RPCReplyError

logger = logging.getLogger(__name__)

VAULT_ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "vault" / "artifacts"
ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
MAX_NESTING = 8

PANIC_MEANINGS: dict[int, str] = {
    0x00: "generic compiler-inserted panic",
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "invalid storage byte array encoding",
    0x31: "pop() on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory (too large allocation)",
    0x51: "call to a zero-initialized internal function",
}

#: Uniswap's terse require() strings (V3 core and periphery libraries) and what they mean.
UNISWAP_SHORT_REASONS: dict[str, str] = {
    "LOK": "pool is locked (reentrancy)",
    "TLU": "lower tick must be below upper tick",
    "TLM": "lower tick below the minimum tick",
    "TUM": "upper tick above the maximum tick",
    "AI": "pool already initialized",
    "M0": "pool did not receive token0 for mint",
    "M1": "pool did not receive token1 for mint",
    "AS": "swap amount is zero",
    "SPL": "sqrt price limit out of range for this swap direction",
    "IIA": "pool did not receive the input amount",
    "L": "pool has no liquidity",
    "LO": "liquidity above the tick's maximum",
    "LS": "liquidity subtraction underflow",
    "LA": "liquidity addition overflow",
    "T": "tick out of range",
    "R": "sqrt price out of range",
    "F0": "flash loan token0 not repaid with fee",
    "F1": "flash loan token1 not repaid with fee",
    "OLD": "oracle observation older than requested",
    "I": "oracle not initialized",
    "STF": "safeTransferFrom failed (no allowance or balance for the input token)",
    "ST": "safeTransfer failed",
    "SA": "safeApprove failed",
    "STE": "ETH transfer failed",
    "Too little received": "output below amountOutMinimum (slippage)",
    "Too much requested": "input above amountInMaximum (slippage)",
    "Transaction too old": "deadline passed",
}

#: Custom errors of libraries we call, declared by signature (OpenZeppelin 5, Uniswap routers, Permit2).
KNOWN_ERROR_SIGNATURES: tuple[str, ...] = (
    "ERC20InsufficientBalance(address sender,uint256 balance,uint256 needed)",
    "ERC20InvalidSender(address sender)",
    "ERC20InvalidReceiver(address receiver)",
    "ERC20InsufficientAllowance(address spender,uint256 allowance,uint256 needed)",
    "ERC20InvalidApprover(address approver)",
    "ERC20InvalidSpender(address spender)",
    "OwnableUnauthorizedAccount(address account)",
    "OwnableInvalidOwner(address owner)",
    "AccessControlUnauthorizedAccount(address account,bytes32 neededRole)",
    "AccessControlBadConfirmation()",
    "SafeERC20FailedOperation(address token)",
    "SafeERC20FailedDecreaseAllowance(address spender,uint256 currentAllowance,uint256 requestedDecrease)",
    "AddressEmptyCode(address target)",
    "FailedCall()",
    "FailedDeployment()",
    "InsufficientBalance(uint256 balance,uint256 needed)",
    "MissingPrecompile(address)",
    "ReentrancyGuardReentrantCall()",
    "EnforcedPause()",
    "ExpectedPause()",
    "MathOverflowedMulDiv()",
    "SafeCastOverflowedUintDowncast(uint8 bits,uint256 value)",
    "SafeCastOverflowedUintToInt(uint256 value)",
    "SafeCastOverflowedIntToUint(int256 value)",
    "V2TooLittleReceived()",
    "V2TooMuchRequested()",
    "V2InvalidPath()",
    "V3TooLittleReceived()",
    "V3TooMuchRequested()",
    "V3InvalidSwap()",
    "V3InvalidAmountOut()",
    "V3InvalidCaller()",
    "TransactionDeadlinePassed()",
    "InsufficientETH()",
    "InsufficientToken()",
    "AllowanceExpired(uint256 deadline)",
    "InsufficientAllowance(uint256 amount)",
    "InvalidNonce()",
    "SignatureExpired(uint256 signatureDeadline)",
)


@dataclass(frozen=True)
class DecodedRevert:
    """A decoded revert. `kind`: error_string, panic, custom, empty, out_of_gas, unknown.

    `message` is this level's text; `str()` gives the whole chain down to the innermost reason.
    `approximate` is set when the data came from a replay at the parent block, not from a trace.
    """

    kind: str
    message: str
    args: dict[str, Any] = field(default_factory=dict)
    raw: bytes = b""
    approximate: bool = False
    inner: DecodedRevert | None = None
    name: str | None = None

    @property
    def innermost(self) -> DecodedRevert:
        return self.inner.innermost if self.inner is not None else self

    @property
    def text(self) -> str:
        """This level's message followed by every nested one."""
        return self.message if self.inner is None else f"{self.message}: {self.inner.text}"

    def __str__(self) -> str:
        return f"{self.text} (approximate: replayed at the parent block)" if self.approximate else self.text


@dataclass(frozen=True)
class ErrorDefinition:
    """One custom error: name, argument names and ABI types."""

    name: str
    arg_names: tuple[str, ...]
    arg_types: tuple[str, ...]

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.arg_types)})"

    @property
    def selector(self) -> bytes:
        return keccak(text=self.signature)[:4]


class ErrorRegistry:
    """Custom errors by 4-byte selector."""

    def __init__(self, definitions: Iterable[ErrorDefinition] = ()) -> None:
        self.by_selector: dict[bytes, ErrorDefinition] = {}
        for definition in definitions:
            self.add(definition)

    def add(self, definition: ErrorDefinition) -> None:
        self.by_selector.setdefault(definition.selector, definition)

    def add_abi(self, abi: Iterable[Mapping[str, Any]]) -> None:
        """Register every `"type": "error"` entry of a contract ABI."""
        for entry in abi:
            if entry.get("type") == "error":
                inputs = entry.get("inputs", [])
                self.add(ErrorDefinition(entry["name"], tuple(i.get("name") or f"arg{n}" for n, i in
                                                              enumerate(inputs)),
                                         tuple(_abi_type(i) for i in inputs)))

    def get(self, selector: bytes) -> ErrorDefinition | None:
        return self.by_selector.get(selector)


def _abi_type(param: Mapping[str, Any]) -> str:
    """Canonical type of an ABI parameter, expanding tuples (structs)."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return f"({','.join(_abi_type(c) for c in param['components'])}){kind[len('tuple'):]}"
    return kind


def parse_error_signature(signature: str) -> ErrorDefinition:
    """`"Name(type a,type b)"` -> ErrorDefinition (flat types only; unnamed args become arg0...)."""
    match = re.fullmatch(r"(\w+)\((.*)\)", signature.strip())
    if match is None:
        raise ValueError(f"not an error signature: {signature!r}")
    names, types = [], []
    for n, part in enumerate(p.strip() for p in match.group(2).split(",") if p.strip()):
        pieces = part.split()
        types.append(pieces[0])
        names.append(pieces[1] if len(pieces) > 1 else f"arg{n}")
    return ErrorDefinition(match.group(1), tuple(names), tuple(types))


@cache
def known_errors() -> ErrorRegistry:
    """Every error we know: the ABIs shipped in vault/artifacts (ours) first, then the declared ones."""
    registry = ErrorRegistry()
    for path in sorted(VAULT_ARTIFACTS_DIR.glob("*.json")):
        try:
            registry.add_abi(json.loads(path.read_text()).get("abi", []))
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("cannot read error ABI from %s: %s", path, exc)
    for signature in KNOWN_ERROR_SIGNATURES:
        registry.add(parse_error_signature(signature))
    return registry


def decode_revert(data: bytes | str | None, registry: ErrorRegistry | None = None,
                  approximate: bool = False) -> DecodedRevert:
    """Decode revert data (bytes or 0x-hex) into a `DecodedRevert`, unwrapping nested reverts."""
    raw = _to_bytes(data)
    return _decode(raw, registry or known_errors(), approximate, depth=0)


def _decode(raw: bytes, registry: ErrorRegistry, approximate: bool, depth: int) -> DecodedRevert:
    if not raw:
        return DecodedRevert("empty", "reverted without a reason (empty revert data)", raw=raw,
                             approximate=approximate)
    selector, body = raw[:4], raw[4:]
    try:
        if selector == ERROR_STRING_SELECTOR:
            (reason,) = abi_decode(["string"], body)
            return DecodedRevert("error_string", explain_reason_string(reason), {"reason": reason}, raw,
                                 approximate, name="Error")
        if selector == PANIC_SELECTOR:
            (code,) = abi_decode(["uint256"], body)
            meaning = PANIC_MEANINGS.get(code, "unknown panic code")
            return DecodedRevert("panic", f"Panic(0x{code:02x}): {meaning}",
                                 {"code": code, "meaning": meaning}, raw, approximate, name="Panic")
        definition = registry.get(selector)
        if definition is not None:
            return _decode_custom(definition, raw, registry, approximate, depth)
    except (DecodingError, ValueError, OverflowError) as exc:
        logger.debug("revert data 0x%s did not decode as its selector says: %s", raw.hex(), exc)
    return DecodedRevert("unknown", f"unknown revert data 0x{raw.hex()} (selector 0x{selector.hex()})",
                         raw=raw, approximate=approximate)


def _decode_custom(definition: ErrorDefinition, raw: bytes, registry: ErrorRegistry, approximate: bool,
                   depth: int) -> DecodedRevert:
    values = abi_decode(list(definition.arg_types), raw[4:])
    args = {name: _readable(kind, value)
            for name, kind, value in zip(definition.arg_names, definition.arg_types, values, strict=True)}
    inner = None
    if depth < MAX_NESTING:
        for kind, value in zip(definition.arg_types, values, strict=True):
            if kind == "bytes":
                inner = _decode(value, registry, approximate, depth + 1)
                break
    shown = ", ".join(f"{k}={v}" for k, v in args.items()
                      if not (inner is not None and isinstance(v, str) and v == "0x" + inner.raw.hex()))
    return DecodedRevert("custom", f"{definition.name}({shown})", args, raw, approximate, inner,
                         name=definition.name)


def explain_reason_string(reason: str) -> str:
    """The revert string, with the meaning appended for Uniswap's terse codes ('STF' -> ...)."""
    meaning = UNISWAP_SHORT_REASONS.get(reason)
    return f"{reason} ({meaning})" if meaning else reason


def _readable(kind: str, value: Any) -> Any:
    if kind == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def _to_bytes(data: bytes | str | None) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    return bytes.fromhex(data.removeprefix("0x"))


# -- obtaining the revert data of a mined, failed transaction ------------------------------------------


def fetch_revert(client: RPCClient, tx_hash: str, registry: ErrorRegistry | None = None,
                 use_trace: bool = True) -> DecodedRevert:
    """Decode why mined transaction `tx_hash` failed.

    First `debug_traceTransaction` (callTracer), which replays it exactly in its block; where the node
    lacks it, `eth_call` with the same from/to/data/value/gas at the parent block, which misses the
    effects of earlier transactions in the same block, so the answer is marked approximate. The trace,
    the transaction and the receipt come in one batched request. `use_trace=False` skips the trace.
    """
    calls: list[tuple[str, list[Any]]] = [("eth_getTransactionByHash", [tx_hash]),
                                          ("eth_getTransactionReceipt", [tx_hash])]
    if use_trace:
        calls.append(("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}]))
    tx, receipt, *traced = client.batch(calls)
    tx_data, receipt_data = tx.value(), receipt.value()
    if tx_data is None or receipt_data is None:
        raise ValueError(f"transaction {tx_hash} is not mined; nothing to decode")
    if int(receipt_data["status"], 16) == 1:
        raise ValueError(f"transaction {tx_hash} succeeded; nothing to decode")
    if traced and traced[0].error is None and isinstance(traced[0].result, dict):
        return _from_trace(traced[0].result, registry)
    logger.info("no trace of %s (%s); replaying it with eth_call at the parent block",
                tx_hash, traced[0].error if traced else "not asked")
    return _from_replay(client, tx_data, receipt_data, registry)


def _from_trace(trace: Mapping[str, Any], registry: ErrorRegistry | None) -> DecodedRevert:
    error = str(trace.get("error") or "")
    output = trace.get("output") or "0x"
    if _is_out_of_gas(error):
        return _out_of_gas(int(trace.get("gasUsed", "0x0"), 16), False)
    return decode_revert(output, registry)


def _from_replay(client: RPCClient, tx: Mapping[str, Any], receipt: Mapping[str, Any],
                 registry: ErrorRegistry | None) -> DecodedRevert:
    call = {"from": tx["from"], "to": tx.get("to"), "data": tx.get("input") or tx.get("data") or "0x",
            "value": tx.get("value", "0x0"), "gas": tx["gas"]}
    parent = hex(int(receipt["blockNumber"], 16) - 1)
    gas_used, gas_limit = int(receipt["gasUsed"], 16), int(tx["gas"], 16)
    try:
        client.call("eth_call", [call, parent])
    except RPCReplyError as exc:
        if _is_out_of_gas(exc.rpc_message):
            return _out_of_gas(gas_used, True)
        return decode_revert(exc.data if isinstance(exc.data, str) else None, registry, approximate=True)
    # The replay succeeded: the failure depended on state changed earlier in the same block, or on gas.
    if gas_used >= gas_limit:
        return _out_of_gas(gas_used, True)
    return DecodedRevert("unknown", "failed on chain, but the replay at the parent block succeeds: the "
                         "failure depended on an earlier transaction in the same block", approximate=True)


def _is_out_of_gas(text: str) -> bool:
    return "out of gas" in text.lower() or "outofgas" in text.lower()


def _out_of_gas(gas_used: int, approximate: bool) -> DecodedRevert:
    return DecodedRevert("out_of_gas", f"ran out of gas after using {gas_used} gas; raise the gas limit",
                         {"gas_used": gas_used}, b"", approximate)
