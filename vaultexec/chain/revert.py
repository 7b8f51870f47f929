"""Why did a transaction fail: obtain the revert data of a failed receipt and decode it to a message.

Decodes `Error(string)` (with human meanings of Uniswap's short codes), `Panic(uint256)`, custom errors
of every ABI we know (ours from `vaultexec/vault/artifacts/*.json`, OpenZeppelin 5, Uniswap) with named
arguments, and nested reverts (a `bytes` argument that is itself revert data, e.g. the vault's
`CallFailed(index, reason)`). The raw data is always kept beside the text.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from vaultexec.chain.reasons import KNOWN_ERROR_SIGNATURES, PANIC_MEANINGS, UNISWAP_SHORT_REASONS
from vaultexec.chain.rpc import RPCClient
from vaultexec.errors import RPCReplyError
from vaultexec.model.safetext import escape_text
from vaultexec.model.transaction import BlockchainTransaction

logger = logging.getLogger(__name__)

VAULT_ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "vault" / "artifacts"
ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
MAX_NESTING = 8

@dataclass(frozen=True)
class DecodedRevert:
    """A decoded revert. `kind`: error_string, panic, custom, empty, out_of_gas, evm_error (a failure without
    revert data the trace names: INVALID opcode, failing precompile), unknown. Text from the chain is escaped.

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
    """Decode revert data (bytes or 0x-hex) into a `DecodedRevert`, unwrapping nested reverts; text that is
    not hex decodes as unknown data (never raises)."""
    try:
        raw = _to_bytes(data)
    except ValueError:
        return DecodedRevert("unknown", f"revert data is not hex: {escape_text(repr(str(data)[:80]))}",
                             approximate=approximate)
    return _decode(raw, registry or known_errors(), approximate, depth=0)


def _decode(raw: bytes, registry: ErrorRegistry, approximate: bool, depth: int) -> DecodedRevert:
    if not raw:
        return DecodedRevert("empty", "reverted without a reason (empty revert data)", raw=raw,
                             approximate=approximate)
    selector, body = raw[:4], raw[4:]
    try:
        if selector == ERROR_STRING_SELECTOR:
            (encoded,) = abi_decode(["bytes"], body)  # bytes: invalid UTF-8 still decodes (with U+FFFD)
            reason = encoded.decode("utf-8", errors="replace")
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
    """The revert string, escaped (`model.safetext`), with the meaning appended for Uniswap's terse codes
    ('STF' -> ...); an empty string says so."""
    if reason == "":
        return 'Error(""): reverted with an empty reason string'
    meaning = UNISWAP_SHORT_REASONS.get(reason)
    shown = escape_text(reason)
    return f"{shown} ({meaning})" if meaning else shown


def _readable(kind: str, value: Any) -> Any:
    if kind == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str):
        return escape_text(value)
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


def record_revert(client: RPCClient, tx: BlockchainTransaction, registry: ErrorRegistry | None = None) -> bool:
    """Put why mined, failed `tx` reverted on it (reason, raw data, approximate); False when it cannot be
    decoded (logged: the node has no such transaction or receipt, or answered with an error)."""
    try:
        decoded = fetch_revert(client, str(tx.tx_hash), registry)
    except (RPCReplyError, ValueError) as exc:
        logger.warning("cannot decode why %s failed: %s", tx.tx_hash, exc)
        return False
    tx.revert_reason = str(decoded)
    tx.revert_data = "0x" + decoded.raw.hex()
    tx.revert_reason_approximate = decoded.approximate
    return True


def _from_trace(trace: Mapping[str, Any], registry: ErrorRegistry | None) -> DecodedRevert:
    error = str(trace.get("error") or "")
    output = trace.get("output") or "0x"
    if _is_out_of_gas(error):
        return _out_of_gas(int(trace.get("gasUsed", "0x0"), 16), False)
    decoded = decode_revert(output, registry)
    if decoded.innermost.kind != "empty":
        return decoded
    starved = _nested_out_of_gas(trace)
    if starved is not None:
        return _with_innermost(decoded, _nested_starvation(starved))
    failed = _evm_failure(trace)
    return decoded if failed is None else _with_innermost(decoded, failed)


def _evm_failure(call: Mapping[str, Any]) -> DecodedRevert | None:
    """A call of the trace (this one first, then nested, depth first) that failed without reverting: an
    INVALID or undefined opcode, a failing precompile, a stack error... named by the node's error text."""
    error = str(call.get("error") or "")
    if error and "revert" not in error.lower():
        target = str(call.get("to") or "?")
        return DecodedRevert("evm_error", f"{escape_text(error)} in the call to {escape_text(target)}",
                             {"error": error, "target": target}, b"")
    for sub in call.get("calls") or []:
        found = _evm_failure(sub)
        if found is not None:
            return found
    return None


def _nested_out_of_gas(call: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The outermost nested call of a callTracer trace that ran out of gas, if any (depth first)."""
    for sub in call.get("calls") or []:
        if _is_out_of_gas(str(sub.get("error") or "")):
            return cast(Mapping[str, Any], sub)
        found = _nested_out_of_gas(sub)
        if found is not None:
            return found
    return None


def _nested_starvation(call: Mapping[str, Any]) -> DecodedRevert:
    target = str(call.get("to") or "?")
    gas = int(str(call.get("gas") or "0x0"), 16)
    return DecodedRevert("out_of_gas", f"the call to {target} ran out of gas (it was given {gas} gas); raise the "
                         "gas limit", {"target": target, "gas": gas}, b"")


def _with_innermost(decoded: DecodedRevert, innermost: DecodedRevert) -> DecodedRevert:
    """`decoded` with its innermost (empty) level replaced by `innermost`."""
    if decoded.inner is None:
        return dataclasses.replace(innermost, approximate=decoded.approximate)
    return dataclasses.replace(decoded, inner=_with_innermost(decoded.inner, innermost))


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
        if _is_evm_error(exc.rpc_message):
            to = str(tx.get("to") or "?")
            return DecodedRevert("evm_error", f"{escape_text(exc.rpc_message)} in the call to {escape_text(to)}",
                                 {"error": exc.rpc_message, "target": to}, b"", approximate=True)
        if not _is_revert_reply(exc):
            return DecodedRevert("unknown", f"could not replay: {escape_text(exc.rpc_message)}")
        decoded = decode_revert(exc.data if isinstance(exc.data, str) else None, registry, approximate=True)
        if decoded.innermost.kind == "empty" and gas_used * 64 >= gas_limit * 63:
            # A nested call that runs out of gas leaves its caller 1/64 of the gas: all but that was used.
            return _with_innermost(decoded, _out_of_gas(gas_used, True, nested=True))
        return decoded
    # The replay succeeded: the failure depended on state changed earlier in the same block, or on gas.
    if gas_used >= gas_limit:
        return _out_of_gas(gas_used, True)
    return DecodedRevert("unknown", "failed on chain, but the replay at the parent block succeeds: the "
                         "failure depended on an earlier transaction in the same block", approximate=True)


def _is_revert_reply(error: RPCReplyError) -> bool:
    """A node's answer that the call reverted (revert data to decode), not that the replay itself failed
    (missing trie node on pruned state, method unavailable...)."""
    data = error.data
    return (error.code == 3 or "revert" in error.rpc_message.lower()
            or (isinstance(data, str) and data.startswith("0x") and len(data) > 2))


def _is_evm_error(text: str) -> bool:
    """A node's answer that the call failed in the EVM without reverting (invalid opcode, precompile error)."""
    lower = text.lower()
    return "revert" not in lower and ("opcode" in lower or "precompile" in lower or lower.startswith("evm error"))


def _is_out_of_gas(text: str) -> bool:
    return "out of gas" in text.lower() or "outofgas" in text.lower()


def _out_of_gas(gas_used: int, approximate: bool, nested: bool = False) -> DecodedRevert:
    what = "a nested call probably ran out of gas" if nested else "ran out of gas"
    return DecodedRevert("out_of_gas", f"{what} after using {gas_used} gas; raise the gas limit",
                         {"gas_used": gas_used}, b"", approximate)
