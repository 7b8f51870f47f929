"""Our calldata encoders against the npm artifacts' own ABIs (web3 encodes the reference), and paths."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from web3 import Web3

from vaultexec.dex import erc20, uniswap_v2, uniswap_v3
from vaultexec.dex.deployments import (
    Deployment,
    find_deployment_of_router,
    get_deployment,
    register_deployment,
)
from vaultexec.errors import ConfigurationError
from vaultexec.testing.protocol import load_protocol_artifact

W3 = Web3()
A, B, C = (Web3.to_checksum_address(f"0x{n:040x}") for n in (0xAA, 0xBB, 0xCC))
TO = Web3.to_checksum_address("0x" + "12" * 20)


def _reference(name: str, fn: str, args: list[object]) -> bytes:
    contract = W3.eth.contract(abi=load_protocol_artifact(name).abi)
    return Web3.to_bytes(hexstr=contract.encode_abi(fn, args=args))


def test_v2_swaps_match_router_abis() -> None:
    assert uniswap_v2.encode_swap_exact_tokens_for_tokens(10, 9, [A, B, C], TO, 77) == _reference(
        "UniswapV2Router02", "swapExactTokensForTokens", [10, 9, [A, B, C], TO, 77])
    assert uniswap_v2.encode_swap_exact_tokens_for_tokens(10, 9, [A, B], TO, None) == _reference(
        "SwapRouter02", "swapExactTokensForTokens", [10, 9, [A, B], TO])
    assert uniswap_v2.encode_get_amounts_out(5, [A, B]) == _reference("UniswapV2Router02", "getAmountsOut",
                                                                      [5, [A, B]])


def test_v3_swaps_match_router_abis() -> None:
    path = uniswap_v3.encode_path([A, B, C], [500, 3000])
    assert uniswap_v3.encode_exact_input(10, 9, [A, B], [500], TO, 77) == _reference(
        "SwapRouter", "exactInputSingle", [(A, B, 500, TO, 77, 10, 9, 0)])
    assert uniswap_v3.encode_exact_input(10, 9, [A, B], [500], TO, None) == _reference(
        "SwapRouter02", "exactInputSingle", [(A, B, 500, TO, 10, 9, 0)])
    assert uniswap_v3.encode_exact_input(10, 9, [A, B, C], [500, 3000], TO, 77) == _reference(
        "SwapRouter", "exactInput", [(path, TO, 77, 10, 9)])
    assert uniswap_v3.encode_exact_input(10, 9, [A, B, C], [500, 3000], TO, None) == _reference(
        "SwapRouter02", "exactInput", [(path, TO, 10, 9)])
    assert uniswap_v3.encode_quote(10, [A, B], [500]) == _reference(
        "QuoterV2", "quoteExactInputSingle", [(A, B, 10, 500, 0)])
    assert uniswap_v3.encode_quote(10, [A, B, C], [500, 3000]) == _reference(
        "QuoterV2", "quoteExactInput", [path, 10])


def test_approve_is_exact() -> None:
    data = erc20.encode_approve(TO, 123)
    assert data[:4].hex() == "095ea7b3" and int.from_bytes(data[-32:], "big") == 123


@given(st.lists(st.integers(min_value=1, max_value=2**160 - 1), min_size=2, max_size=4, unique=True),
       st.data())
def test_path_round_trip(addresses: list[int], data: st.DataObject) -> None:
    tokens = [Web3.to_checksum_address(f"0x{a:040x}") for a in addresses]
    fees = data.draw(st.lists(st.integers(1, 2**24 - 1), min_size=len(tokens) - 1, max_size=len(tokens) - 1))
    packed = uniswap_v3.encode_path(tokens, fees)
    assert len(packed) == 20 + 23 * len(fees)
    assert uniswap_v3.decode_path(packed) == (tokens, fees)


@given(st.integers(0, 2**256 - 1), st.integers(0, 2**256 - 1), st.booleans())
def test_swap_round_trip(amount_in: int, amount_min: int, with_deadline: bool) -> None:
    deadline = 99 if with_deadline else None
    v2 = uniswap_v2.encode_swap_exact_tokens_for_tokens(amount_in, amount_min, [A, B], TO, deadline)
    assert uniswap_v2.decode_swap_exact_tokens_for_tokens(v2) == (amount_in, amount_min, [A, B], TO, deadline)
    v3 = uniswap_v3.encode_exact_input(amount_in, amount_min, [A, B, C], [100, 500], TO, deadline)
    assert uniswap_v3.decode_exact_input(v3) == (amount_in, amount_min, [A, B, C], [100, 500], TO, deadline)


def test_bad_paths_refused() -> None:
    with pytest.raises(ValueError, match="one fee per hop"):
        uniswap_v3.encode_path([A, B], [500, 500])
    with pytest.raises(ValueError, match="fee tier"):
        uniswap_v3.encode_path([A, B], [0])


def test_known_deployments() -> None:
    assert get_deployment(1).swap_router == "0xE592427A0AEce92De3Edee1F18E0157C05861564"
    assert get_deployment(8453).swap_router is None  # Base has SwapRouter02 only
    assert get_deployment(8453).quoter_v2 == "0x3d4e44Eb1374240CE5F1B871ab261CD16335B76a"
    assert get_deployment(42161).v2_router == "0x4752ba5DBc23f44D87826276BF6Fd6b1C372aD24"
    assert get_deployment(137).v2_factory == "0x9e5A52f57b3038F1B8EeE45F28b3C1967e22799C"
    assert get_deployment(1, "sushiswap").v2_router == "0xd9e1cE17f2641f24aE83637ab66a2cca9C378B9F"
    assert find_deployment_of_router(1, "0x68b3465833fb72a70ecdf485e0e4c7bd8665fc45").name == "uniswap"


def test_register_deployment() -> None:
    mine = Deployment(777_001, "mydex", v2_router=TO)
    register_deployment(mine)
    assert find_deployment_of_router(777_001, TO) is mine
    with pytest.raises(ConfigurationError, match="already registered"):
        register_deployment(Deployment(777_001, "mydex", v2_router=A))
    with pytest.raises(ConfigurationError, match="register_deployment"):
        get_deployment(777_002)
