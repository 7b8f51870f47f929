"""Revert decoding gaps (issue 13, item 5): INVALID opcode and failing precompiles named from the trace, an
empty Error(""), Error(string) with invalid UTF-8, malformed hex, and chain text escaped before display."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode

from vaultexec.chain.revert import decode_revert, fetch_revert
from vaultexec.chain.rpc import RPCClient
from vaultexec.model.safetext import escape_text

#: Runtime code that executes INVALID (0xfe) at once.
INVALID_OPCODE = "fe"
#: Runtime code that calls the ecPairing precompile (0x08) with 1 byte of input (not a multiple of 192: the
#: precompile fails) and reverts with empty data when the call failed:
#: PUSH0 PUSH0 PUSH1 1 PUSH0 PUSH1 8 GAS STATICCALL ; ISZERO ... -> if failed: PUSH0 PUSH0 REVERT
PRECOMPILE_CALLER = "5f5f60015f60085afa15600e57005b5f5ffd"


def error_string_bytes(payload: bytes) -> bytes:
    return bytes.fromhex("08c379a0") + encode(["bytes"], [payload])


def test_empty_error_string_says_so() -> None:
    decoded = decode_revert(error_string_bytes(b""))
    assert decoded.kind == "error_string" and decoded.args["reason"] == ""
    assert decoded.text == 'Error(""): reverted with an empty reason string'


def test_error_string_with_invalid_utf8_decodes_with_replacement_characters() -> None:
    decoded = decode_revert(error_string_bytes(b"Too little \xff\xfe received"))
    assert decoded.kind == "error_string"
    assert decoded.args["reason"] == "Too little \ufffd\ufffd received"
    assert "Too little" in decoded.text


@pytest.mark.parametrize("text", ["0xzz", "nothex", "0x123", "0x\u0661\u0662"])
def test_malformed_hex_text_is_unknown_data_not_a_crash(text: str) -> None:
    decoded = decode_revert(text)
    assert decoded.kind == "unknown" and "not hex" in decoded.message


@pytest.mark.parametrize(("raw", "shown"), [
    ("ok\nFAKE LOG LINE", "ok\\nFAKE LOG LINE"),
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("abc\u202edcba", "abc\\u202edcba"),
    ("tab\there\r", "tab\\there\\r"),
    ("plain ÄÖ 漢字 text", "plain ÄÖ 漢字 text"),
])
def test_chain_text_is_escaped(raw: str, shown: str) -> None:
    assert escape_text(raw) == shown
    assert decode_revert(error_string_bytes(raw.encode())).text == shown


def test_custom_error_string_argument_is_escaped() -> None:
    from eth_utils.crypto import keccak

    from vaultexec.chain.revert import ErrorRegistry, parse_error_signature
    registry = ErrorRegistry([parse_error_signature("Oops(string why)")])
    data = keccak(text="Oops(string)")[:4] + encode(["string"], ["a\nb\x1b[2J"])
    assert decode_revert(data, registry).text == "Oops(why=a\\nb\\x1b[2J)"


@pytest.mark.parametrize("use_trace", [True, False], ids=["trace", "eth_call"])
def test_invalid_opcode_is_named(client: RPCClient, dev_chain: Any, use_trace: bool) -> None:
    """From the trace; without one, from the node's answer to the replay (approximate)."""
    target = dev_chain.deploy_runtime(INVALID_OPCODE)
    tx_hash = dev_chain.send(target, gas=100_000)
    assert dev_chain.wait_receipt(tx_hash)["status"] == "0x0"
    decoded = fetch_revert(client, tx_hash, use_trace=use_trace)
    assert decoded.kind == "evm_error" and "invalid" in decoded.text.lower(), decoded.text
    assert decoded.approximate is not use_trace


def test_failing_precompile_is_named_from_the_trace(client: RPCClient, dev_chain: Any) -> None:
    target = dev_chain.deploy_runtime(PRECOMPILE_CALLER)
    tx_hash = dev_chain.send(target, gas=200_000)
    assert dev_chain.wait_receipt(tx_hash)["status"] == "0x0"
    decoded = fetch_revert(client, tx_hash)
    assert "0x0000000000000000000000000000000000000008" in decoded.text.lower(), decoded.text
    assert decoded.innermost.kind == "evm_error", decoded
