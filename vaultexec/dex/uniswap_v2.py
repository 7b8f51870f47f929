"""Uniswap V2 calldata: quote with getAmountsOut, swap with swapExactTokensForTokens, find pairs.

Router02 (and forks) take a deadline; SwapRouter02's V2 entry point has none. A router names its
factory (`factory()`, SwapRouter02: `factoryV2()`) and the factory its pairs (`getPair`).
"""

from __future__ import annotations

from collections.abc import Sequence

from vaultexec.dex.abiread import decode_words as decode
from vaultexec.dex.abiwords import address, address_array_tail, dynamic, static, tuple_of, uint
from vaultexec.dex.erc20 import selector
from vaultexec.model.addresses import checksum as to_checksum_address

GET_AMOUNTS_OUT = selector("getAmountsOut(uint256,address[])")
GET_RESERVES = selector("getReserves()")
SWAP_EXACT_TOKENS = selector("swapExactTokensForTokens(uint256,uint256,address[],address,uint256)")
SWAP_EXACT_TOKENS_ROUTER02 = selector("swapExactTokensForTokens(uint256,uint256,address[],address)")
#: `factory()`: the factory a router swaps through; the same call on V3 routers (SwapRouter, and SwapRouter02
#: for its V3 side).
FACTORY = selector("factory()")
#: SwapRouter02's V2 factory.
FACTORY_V2 = selector("factoryV2()")
GET_PAIR = selector("getPair(address,address)")
#: Uniswap V2's LP fee in hundredths of a basis point (0.3 %).
DEFAULT_V2_FEE = 3000


def _path(tokens: Sequence[str]) -> list[str]:
    return [to_checksum_address(token) for token in tokens]


def encode_get_amounts_out(raw_amount_in: int, tokens: Sequence[str]) -> bytes:
    return GET_AMOUNTS_OUT + tuple_of(static(uint(raw_amount_in)), dynamic(address_array_tail(tokens)))


def decode_amounts_out(data: bytes) -> list[int]:
    """getAmountsOut's answer: the amount at every step of the path, input first, output last."""
    (amounts,) = decode(["uint256[]"], data)
    return [int(a) for a in amounts]


def encode_get_pair(token_a: str, token_b: str) -> bytes:
    """Factory call: the pair of two tokens (either order), the zero address when there is none."""
    return GET_PAIR + address(token_a) + address(token_b)


def encode_get_reserves() -> bytes:
    return GET_RESERVES


def decode_reserves(data: bytes) -> tuple[int, int]:
    """(reserve0, reserve1) of a pair, raw units of token0 / token1 (token0 < token1 by address)."""
    reserve0, reserve1, _ = decode(["uint112", "uint112", "uint32"], data)
    return int(reserve0), int(reserve1)


def encode_swap_exact_tokens_for_tokens(raw_amount_in: int, raw_amount_out_min: int, tokens: Sequence[str],
                                        recipient: str, deadline: int | None) -> bytes:
    """Router02 swap (with `deadline`, unix seconds) or SwapRouter02's V2 swap (`deadline` None)."""
    parts = [static(uint(raw_amount_in), uint(raw_amount_out_min)), dynamic(address_array_tail(tokens)),
             static(address(recipient))]
    if deadline is None:
        return SWAP_EXACT_TOKENS_ROUTER02 + tuple_of(*parts)
    return SWAP_EXACT_TOKENS + tuple_of(*parts, static(uint(deadline)))


def decode_swap_exact_tokens_for_tokens(data: bytes) -> tuple[int, int, list[str], str, int | None]:
    """(amountIn, amountOutMin, path, to, deadline or None) of either V2 swap encoding."""
    head, body = data[:4], data[4:]
    if head == SWAP_EXACT_TOKENS:
        a_in, a_min, path, to, deadline = decode(["uint256", "uint256", "address[]", "address", "uint256"], body)
        return int(a_in), int(a_min), _path(path), to_checksum_address(to), int(deadline)
    if head == SWAP_EXACT_TOKENS_ROUTER02:
        a_in, a_min, path, to = decode(["uint256", "uint256", "address[]", "address"], body)
        return int(a_in), int(a_min), _path(path), to_checksum_address(to), None
    raise ValueError(f"not a swapExactTokensForTokens call (selector 0x{head.hex()})")
