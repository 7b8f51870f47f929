"""The fast encoders (dex.abiwords and the calldata built on them) give eth-abi's bytes exactly (issue #14)."""

from __future__ import annotations

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultexec.dex import erc20, uniswap_v2, uniswap_v3
from vaultexec.execution.loss_bound import quote_loss_arguments
from vaultexec.vault.execute import AssetBound, VaultCall, encode_execute_call, execute_signature

ADDRESSES = st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address("0x" + b.hex()))
UINT256 = st.one_of(st.integers(0, 2**32), st.integers(0, 2**256 - 1))
FEES = st.sampled_from([100, 500, 3000, 10000])
PATHS = st.integers(1, 3).flatmap(lambda hops: st.tuples(st.lists(ADDRESSES, min_size=hops + 1, max_size=hops + 1),
                                                         st.lists(FEES, min_size=hops, max_size=hops)))


@settings(max_examples=150, deadline=None)
@given(calls=st.lists(st.tuples(ADDRESSES, st.binary(max_size=400)), max_size=4),
       spend=st.lists(st.tuples(ADDRESSES, UINT256), max_size=3),
       receive=st.lists(st.tuples(ADDRESSES, UINT256), max_size=3))
def test_vault_execute_call(calls: list[tuple[str, bytes]], spend: list[tuple[str, int]],
                            receive: list[tuple[str, int]]) -> None:
    selector, types = execute_signature()
    expected = selector + encode(list(types), [calls, spend, receive])
    fast = encode_execute_call([VaultCall(t, d) for t, d in calls], [AssetBound(a, x) for a, x in spend],
                               [AssetBound(a, x) for a, x in receive])
    assert fast == expected


@settings(max_examples=100, deadline=None)
@given(a=ADDRESSES, b=ADDRESSES, c=ADDRESSES, amount=UINT256, fee=FEES, path=PATHS,
       deadline=st.one_of(st.none(), st.integers(0, 2**40)))
def test_swap_and_read_calldata(a: str, b: str, c: str, amount: int, fee: int,
                                path: tuple[list[str], list[int]], deadline: int | None) -> None:
    tokens, fees = path
    assert erc20.encode_approve(a, amount) == erc20.APPROVE + encode(["address", "uint256"], [a, amount])
    assert erc20.encode_balance_of(a) == erc20.BALANCE_OF + encode(["address"], [a])
    assert uniswap_v2.encode_get_pair(a, b) == uniswap_v2.GET_PAIR + encode(["address", "address"], [a, b])
    assert uniswap_v2.encode_get_amounts_out(amount, tokens) == uniswap_v2.GET_AMOUNTS_OUT + encode(
        ["uint256", "address[]"], [amount, tokens])
    assert uniswap_v3.encode_get_pool(a, b, fee) == uniswap_v3.GET_POOL + encode(
        ["address", "address", "uint24"], [a, b, fee])
    v2_args: list[object] = [amount, amount // 3, tokens, c]
    if deadline is None:
        expected_v2 = uniswap_v2.SWAP_EXACT_TOKENS_ROUTER02 + encode(
            ["uint256", "uint256", "address[]", "address"], v2_args)
    else:
        expected_v2 = uniswap_v2.SWAP_EXACT_TOKENS + encode(
            ["uint256", "uint256", "address[]", "address", "uint256"], [*v2_args, deadline])
    assert uniswap_v2.encode_swap_exact_tokens_for_tokens(amount, amount // 3, tokens, c, deadline) == expected_v2
    # V3: exactInputSingle / exactInput of both routers and both quotes, against eth-abi's encodings
    packed = uniswap_v3.encode_path(tokens, fees)
    out_min = amount // 3
    if len(fees) == 1:
        quote = uniswap_v3.QUOTE_EXACT_INPUT_SINGLE + encode(["(address,address,uint256,uint24,uint160)"],
                                                             [(tokens[0], tokens[1], amount, fees[0], 0)])
        head = (tokens[0], tokens[1], fees[0], c)
        swap = (uniswap_v3.EXACT_INPUT_SINGLE_ROUTER02 + encode([uniswap_v3._SINGLE_V2], [(*head, amount, out_min, 0)])
                if deadline is None else uniswap_v3.EXACT_INPUT_SINGLE + encode(
                    [uniswap_v3._SINGLE_V1], [(*head, deadline, amount, out_min, 0)]))
    else:
        quote = uniswap_v3.QUOTE_EXACT_INPUT + encode(["bytes", "uint256"], [packed, amount])
        swap = (uniswap_v3.EXACT_INPUT_ROUTER02 + encode([uniswap_v3._PATH_V2], [(packed, c, amount, out_min)])
                if deadline is None else uniswap_v3.EXACT_INPUT + encode(
                    [uniswap_v3._PATH_V1], [(packed, c, deadline, amount, out_min)]))
    assert uniswap_v3.encode_quote(amount, tokens, fees) == quote
    assert uniswap_v3.encode_exact_input(amount, out_min, tokens, fees, c, deadline) == swap


@settings(max_examples=100, deadline=None)
@given(spend=st.lists(st.tuples(ADDRESSES, UINT256), max_size=3), receive=st.lists(st.tuples(ADDRESSES, UINT256),
                                                                                     max_size=3))
def test_quote_loss_arguments(spend: list[tuple[str, int]], receive: list[tuple[str, int]]) -> None:
    columns = [[a for a, _ in spend], [x for _, x in spend], [a for a, _ in receive], [x for _, x in receive]]
    assert quote_loss_arguments(*columns) == encode(["address[]", "uint256[]", "address[]", "uint256[]"], columns)
