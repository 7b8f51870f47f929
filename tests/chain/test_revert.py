"""Revert decoding: every form from eth_abi-encoded payloads, and from failed receipts on a real anvil."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st

from vaultexec.chain.revert import (
    ErrorRegistry,
    decode_revert,
    fetch_revert,
    known_errors,
    parse_error_signature,
)
from vaultexec.chain.rpc import RPCClient

VAULT_LIKE_ERRORS = ErrorRegistry(parse_error_signature(s) for s in (
    "CallFailed(uint256 index,bytes reason)",
    "DeltaViolated(address token,int256 expected,int256 actual)",
    "NotAllowed(address target,bytes4 selector)",
))
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def error_string(text: str) -> bytes:
    return bytes.fromhex("08c379a0") + encode(["string"], [text])


def panic(code: int) -> bytes:
    return bytes.fromhex("4e487b71") + encode(["uint256"], [code])


def custom(signature: str, types: list[str], values: list[Any]) -> bytes:
    return keccak(text=signature)[:4] + encode(types, values)


def call_failed(index: int, reason: bytes) -> bytes:
    return custom("CallFailed(uint256,bytes)", ["uint256", "bytes"], [index, reason])


def test_error_string() -> None:
    decoded = decode_revert(error_string("UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"))
    assert decoded.kind == "error_string"
    assert decoded.message == "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"
    assert decoded.args == {"reason": "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"}


def test_uniswap_short_code_gets_its_meaning() -> None:
    decoded = decode_revert("0x" + error_string("STF").hex())
    assert decoded.message.startswith("STF (safeTransferFrom failed")
    assert decode_revert(error_string("Too little received")).message == \
        "Too little received (output below amountOutMinimum (slippage))"


@pytest.mark.parametrize(("code", "meaning"), [(0x11, "arithmetic overflow or underflow"),
                                               (0x12, "division or modulo by zero"),
                                               (0x32, "array index out of bounds"),
                                               (0x01, "assertion failed"),
                                               (0x99, "unknown panic code")])
def test_panic(code: int, meaning: str) -> None:
    decoded = decode_revert(panic(code))
    assert decoded.kind == "panic"
    assert decoded.args == {"code": code, "meaning": meaning}
    assert decoded.message == f"Panic(0x{code:02x}): {meaning}"


def test_custom_errors_with_named_arguments() -> None:
    data = custom("DeltaViolated(address,int256,int256)", ["address", "int256", "int256"],
                  [TOKEN, -1000, -1001])
    decoded = decode_revert(data, VAULT_LIKE_ERRORS)
    assert decoded.kind == "custom" and decoded.name == "DeltaViolated"
    assert decoded.args == {"token": TOKEN, "expected": -1000, "actual": -1001}
    assert decoded.message == f"DeltaViolated(token={TOKEN}, expected=-1000, actual=-1001)"
    not_allowed = decode_revert(custom("NotAllowed(address,bytes4)", ["address", "bytes4"],
                                       [TOKEN, bytes.fromhex("a9059cbb")]), VAULT_LIKE_ERRORS)
    assert not_allowed.args == {"target": TOKEN, "selector": "0xa9059cbb"}


def test_openzeppelin_error_known_without_registry() -> None:
    data = custom("ERC20InsufficientBalance(address,uint256,uint256)", ["address", "uint256", "uint256"],
                  [TOKEN, 5, 10])
    decoded = decode_revert(data)
    assert decoded.args == {"sender": TOKEN, "balance": 5, "needed": 10}
    assert decoded.raw == data


def test_shipped_artifact_abis_are_loaded() -> None:
    # TestToken.json (our artifact) declares OwnableUnauthorizedAccount.
    selector = keccak(text="OwnableUnauthorizedAccount(address)")[:4]
    definition = known_errors().get(selector)
    assert definition is not None and definition.arg_names == ("account",)


def test_nested_call_failed_unwraps_to_the_router_message() -> None:
    inner = error_string("UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT")
    decoded = decode_revert(call_failed(1, inner), VAULT_LIKE_ERRORS)
    assert decoded.name == "CallFailed" and decoded.args["index"] == 1
    assert decoded.inner is not None and decoded.inner.raw == inner
    assert decoded.innermost.message == "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"
    assert str(decoded) == "CallFailed(index=1): UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"


def test_doubly_nested_and_empty_inner() -> None:
    decoded = decode_revert(call_failed(0, call_failed(2, panic(0x11))), VAULT_LIKE_ERRORS)
    assert str(decoded) == ("CallFailed(index=0): CallFailed(index=2): "
                            "Panic(0x11): arithmetic overflow or underflow")
    empty_inner = decode_revert(call_failed(3, b""), VAULT_LIKE_ERRORS)
    assert empty_inner.inner is not None and empty_inner.inner.kind == "empty"


def test_empty_and_unknown() -> None:
    assert decode_revert(b"").kind == "empty"
    assert decode_revert(None).message == "reverted without a reason (empty revert data)"
    unknown = decode_revert(bytes.fromhex("deadbeef00"))
    assert unknown.kind == "unknown" and "0xdeadbeef00" in unknown.message
    truncated = decode_revert(error_string("abc")[:10])
    assert truncated.kind == "unknown" and truncated.raw == error_string("abc")[:10]


@given(st.text(max_size=200))
def test_any_error_string_round_trips(text: str) -> None:
    decoded = decode_revert(error_string(text))
    assert decoded.args["reason"] == text


@given(st.integers(0, 2**256 - 1), st.binary(max_size=300))
def test_call_failed_keeps_raw_inner_bytes(index: int, reason: bytes) -> None:
    decoded = decode_revert(call_failed(index, reason), VAULT_LIKE_ERRORS)
    assert decoded.args["index"] == index
    assert decoded.inner is not None and decoded.inner.raw == reason


# -- from failed receipts on anvil --------------------------------------------------------------------

#: Runtime code that reverts with its calldata as revert data (CALLDATACOPY, then REVERT).
ECHO_REVERTER = "365f5f37365ffd"
#: Runtime code that loops forever (JUMPDEST PUSH0 JUMP): any call runs out of gas.
GAS_BURNER = "5b5f56"


@pytest.mark.parametrize("use_trace", [True, False], ids=["trace", "eth_call"])
@pytest.mark.parametrize(("payload", "expected"), [
    (error_string("Too little received"), "Too little received (output below amountOutMinimum (slippage))"),
    (panic(0x12), "Panic(0x12): division or modulo by zero"),
    (call_failed(1, error_string("UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT")),
     "CallFailed(index=1): UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"),
    (b"", "reverted without a reason (empty revert data)"),
], ids=["error_string", "panic", "nested", "empty"])
def test_fetch_revert_from_failed_receipt(client: RPCClient, dev_chain: Any, use_trace: bool, payload: bytes,
                                          expected: str) -> None:
    reverter = dev_chain.deploy_runtime(ECHO_REVERTER)
    tx_hash = dev_chain.send(reverter, "0x" + payload.hex(), gas=100_000)
    assert dev_chain.wait_receipt(tx_hash)["status"] == "0x0"
    decoded = fetch_revert(client, tx_hash, VAULT_LIKE_ERRORS, use_trace=use_trace)
    assert decoded.text == expected
    assert decoded.raw == payload
    assert decoded.approximate is not use_trace


@pytest.mark.parametrize("use_trace", [True, False], ids=["trace", "eth_call"])
def test_fetch_revert_out_of_gas(client: RPCClient, dev_chain: Any, use_trace: bool) -> None:
    burner = dev_chain.deploy_runtime(GAS_BURNER)
    tx_hash = dev_chain.send(burner, gas=60_000)
    assert dev_chain.wait_receipt(tx_hash)["status"] == "0x0"
    decoded = fetch_revert(client, tx_hash, use_trace=use_trace)
    assert decoded.kind == "out_of_gas"
    assert decoded.args == {"gas_used": 60_000}
    assert "raise the gas limit" in decoded.message


def test_fetch_revert_batches_its_reads(client: RPCClient, dev_chain: Any) -> None:
    reverter = dev_chain.deploy_runtime(ECHO_REVERTER)
    tx_hash = dev_chain.send(reverter, "0x" + panic(1).hex(), gas=100_000)
    dev_chain.wait_receipt(tx_hash)
    before = client.stats.snapshot()
    fetch_revert(client, tx_hash)
    assert client.stats.since(before).http_round_trips == 1


def test_fetch_revert_refuses_successful_transaction(client: RPCClient, dev_chain: Any) -> None:
    tx_hash = dev_chain.send("0x000000000000000000000000000000000000dEaD", gas=30_000)
    dev_chain.wait_receipt(tx_hash)
    with pytest.raises(ValueError, match="succeeded"):
        fetch_revert(client, tx_hash)


# -- the vault's own errors, from the shipped Vault.json ----------------------------------------------

ROUTER = "0x2279B7A0a67DB372996a5FaB50D91eAA73d2eBe6"


@pytest.mark.parametrize(("payload", "name", "args"), [
    (custom("SpendExceeded(address,uint256,uint256)", ["address", "uint256", "uint256"], [TOKEN, 11, 10]),
     "SpendExceeded", {"asset": TOKEN, "spent": 11, "max": 10}),
    (custom("ReceiveTooLow(address,uint256,uint256)", ["address", "uint256", "uint256"], [TOKEN, 9, 10]),
     "ReceiveTooLow", {"asset": TOKEN, "received": 9, "min": 10}),
    (custom("SelectorNotAllowed(address,bytes4)", ["address", "bytes4"], [ROUTER, bytes.fromhex("38ed1739")]),
     "SelectorNotAllowed", {"target": ROUTER, "selector": "0x38ed1739"}),
    (custom("PoolNotAllowed(address,address,address,uint24)", ["address", "address", "address", "uint24"],
            [ROUTER, TOKEN, ROUTER, 500]),
     "PoolNotAllowed", {"router": ROUTER, "tokenA": TOKEN, "tokenB": ROUTER, "fee": 500}),
    (custom("VaultPaused()", [], []), "VaultPaused", {}),
], ids=["SpendExceeded", "ReceiveTooLow", "SelectorNotAllowed", "PoolNotAllowed", "VaultPaused"])
def test_vault_custom_errors_from_shipped_abi(payload: bytes, name: str, args: dict[str, Any]) -> None:
    decoded = decode_revert(payload)
    assert (decoded.kind, decoded.name, decoded.args) == ("custom", name, args)


def test_vault_call_failed_from_shipped_abi_unwraps_v3_reason() -> None:
    decoded = decode_revert(call_failed(0, error_string("Too little received")))
    assert decoded.name == "CallFailed" and decoded.args["index"] == 0
    assert str(decoded) == "CallFailed(index=0): Too little received (output below amountOutMinimum (slippage))"
