"""Uniswap V3 calldata: packed paths, QuoterV2 quotes, SwapRouter / SwapRouter02 exact-input swaps.

SwapRouter (v3-periphery) structs carry a `deadline`; SwapRouter02's do not. `sqrtPriceLimitX96` is
always 0 (the vault refuses any other value). Both routers name their factory with `factory()`, the same
call as a V2 router's (`uniswap_v2.FACTORY`); the factory names its pools (`getPool`).
"""

from __future__ import annotations

from collections.abc import Sequence

from vaultexec.dex.abiread import decode_words as decode
from vaultexec.dex.abiwords import address, bytes_tail, dynamic, static, tuple_of, uint
from vaultexec.dex.erc20 import selector
from vaultexec.model.addresses import checksum as to_checksum_address

FEE_BYTES = 3
ADDRESS_BYTES = 20
MAX_FEE = 2**24 - 1

QUOTE_EXACT_INPUT_SINGLE = selector("quoteExactInputSingle((address,address,uint256,uint24,uint160))")
QUOTE_EXACT_INPUT = selector("quoteExactInput(bytes,uint256)")
SLOT0 = selector("slot0()")
GET_POOL = selector("getPool(address,address,uint24)")
_SINGLE_V1 = "(address,address,uint24,address,uint256,uint256,uint256,uint160)"
_SINGLE_V2 = "(address,address,uint24,address,uint256,uint256,uint160)"
_PATH_V1 = "(bytes,address,uint256,uint256,uint256)"
_PATH_V2 = "(bytes,address,uint256,uint256)"
EXACT_INPUT_SINGLE = selector(f"exactInputSingle({_SINGLE_V1})")
EXACT_INPUT = selector(f"exactInput({_PATH_V1})")
EXACT_INPUT_SINGLE_ROUTER02 = selector(f"exactInputSingle({_SINGLE_V2})")
EXACT_INPUT_ROUTER02 = selector(f"exactInput({_PATH_V2})")


def encode_path(tokens: Sequence[str], fees: Sequence[int]) -> bytes:
    """Packed path token0 | fee0 (3 bytes) | token1 | ...: 20 + 23 * hops bytes."""
    if len(tokens) != len(fees) + 1 or not fees:
        raise ValueError(f"a V3 path needs one fee per hop: {len(tokens)} tokens, {len(fees)} fees")
    packed = bytes.fromhex(to_checksum_address(tokens[0])[2:])
    for fee, token in zip(fees, tokens[1:], strict=True):
        if not 0 < fee <= MAX_FEE:
            raise ValueError(f"V3 fee tier {fee} outside 1..{MAX_FEE}")
        packed += fee.to_bytes(FEE_BYTES, "big") + bytes.fromhex(to_checksum_address(token)[2:])
    return packed


def decode_path(path: bytes) -> tuple[list[str], list[int]]:
    """Inverse of `encode_path`."""
    if len(path) < ADDRESS_BYTES or (len(path) - ADDRESS_BYTES) % (FEE_BYTES + ADDRESS_BYTES):
        raise ValueError(f"packed V3 path of {len(path)} bytes is not 20 + 23 * hops")
    tokens: list[str] = [to_checksum_address(path[:ADDRESS_BYTES])]
    fees: list[int] = []
    at = ADDRESS_BYTES
    while at < len(path):
        fees.append(int.from_bytes(path[at:at + FEE_BYTES], "big"))
        tokens.append(to_checksum_address(path[at + FEE_BYTES:at + FEE_BYTES + ADDRESS_BYTES]))
        at += FEE_BYTES + ADDRESS_BYTES
    return tokens, fees


def encode_quote(raw_amount_in: int, tokens: Sequence[str], fees: Sequence[int]) -> bytes:
    """QuoterV2 call: quoteExactInputSingle for one hop, quoteExactInput for several."""
    if len(fees) == 1:
        return (QUOTE_EXACT_INPUT_SINGLE + address(tokens[0]) + address(tokens[1]) + uint(raw_amount_in)
                + uint(fees[0]) + uint(0))
    return QUOTE_EXACT_INPUT + tuple_of(dynamic(bytes_tail(encode_path(tokens, fees))), static(uint(raw_amount_in)))


def decode_quote_amount_out(data: bytes) -> int:
    """amountOut of either QuoterV2 answer (it is the first word of both)."""
    (amount_out,) = decode(["uint256"], data[:32])
    return int(amount_out)


def encode_get_pool(token_a: str, token_b: str, fee: int) -> bytes:
    """Factory call: the pool of two tokens (either order) and a fee tier, the zero address when none."""
    return GET_POOL + address(token_a) + address(token_b) + uint(fee)


def encode_slot0() -> bytes:
    return SLOT0


def decode_sqrt_price_x96(data: bytes) -> int:
    """sqrtPriceX96 from slot0(): sqrt(token1/token0 in raw units) * 2**96."""
    (sqrt_price,) = decode(["uint160"], data[:32])
    return int(sqrt_price)


def encode_exact_input(raw_amount_in: int, raw_amount_out_min: int, tokens: Sequence[str], fees: Sequence[int],
                       recipient: str, deadline: int | None) -> bytes:
    """exactInputSingle (one hop) or exactInput; SwapRouter when `deadline` is given, SwapRouter02 if None."""
    to = address(recipient)
    amounts = uint(raw_amount_in) + uint(raw_amount_out_min)
    if len(fees) == 1:  # a static tuple: its fields in place
        head = address(tokens[0]) + address(tokens[1]) + uint(fees[0]) + to
        if deadline is None:
            return EXACT_INPUT_SINGLE_ROUTER02 + head + amounts + uint(0)
        return EXACT_INPUT_SINGLE + head + uint(deadline) + amounts + uint(0)
    path = dynamic(bytes_tail(encode_path(tokens, fees)))
    if deadline is None:
        return EXACT_INPUT_ROUTER02 + tuple_of(dynamic(tuple_of(path, static(to, amounts))))
    return EXACT_INPUT + tuple_of(dynamic(tuple_of(path, static(to, uint(deadline), amounts))))


def decode_exact_input(data: bytes) -> tuple[int, int, list[str], list[int], str, int | None]:
    """(amountIn, amountOutMinimum, tokens, fees, recipient, deadline or None) of any of the four swaps."""
    head, body = data[:4], data[4:]
    if head in (EXACT_INPUT_SINGLE, EXACT_INPUT_SINGLE_ROUTER02):
        v1 = head == EXACT_INPUT_SINGLE
        (params,) = decode([_SINGLE_V1 if v1 else _SINGLE_V2], body)
        token_in, token_out, fee, to = params[:4]
        deadline = int(params[4]) if v1 else None
        a_in, a_min = params[5:7] if v1 else params[4:6]
        return (int(a_in), int(a_min), [to_checksum_address(token_in), to_checksum_address(token_out)],
                [int(fee)], to_checksum_address(to), deadline)
    if head in (EXACT_INPUT, EXACT_INPUT_ROUTER02):
        v1 = head == EXACT_INPUT
        (params,) = decode([_PATH_V1 if v1 else _PATH_V2], body)
        tokens, fees = decode_path(params[0])
        deadline = int(params[2]) if v1 else None
        a_in, a_min = params[3:5] if v1 else params[2:4]
        return int(a_in), int(a_min), tokens, fees, to_checksum_address(params[1]), deadline
    raise ValueError(f"not a V3 exact-input swap (selector 0x{head.hex()})")
