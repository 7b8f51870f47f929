"""The fast decoder (dex.abiread) gives eth-abi's values, and eth-abi's errors for data it would refuse (#14)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultexec.dex.abiread import decode_words

ADDRESSES = st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address("0x" + b.hex()))
STATIC = {
    "uint256": st.integers(0, 2**256 - 1), "uint160": st.integers(0, 2**160 - 1),
    "uint112": st.integers(0, 2**112 - 1), "uint24": st.integers(0, 2**24 - 1), "uint8": st.integers(0, 255),
    "int256": st.integers(-(2**255), 2**255 - 1), "int24": st.integers(-(2**23), 2**23 - 1),
    "bool": st.booleans(), "address": ADDRESSES,
}
KINDS = {**STATIC, "uint256[]": st.lists(STATIC["uint256"], max_size=4).map(tuple),
         "address[]": st.lists(ADDRESSES, max_size=4).map(tuple)}
LAYOUTS = st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=5)


def _outcome(kinds: list[str], data: bytes, decoder: Any) -> tuple[str, Any]:
    try:
        return "ok", tuple(decoder(kinds, data))
    except DecodingError as exc:
        return "error", type(exc)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), kinds=LAYOUTS)
def test_well_formed_data_decodes_as_eth_abi_does(data: st.DataObject, kinds: list[str]) -> None:
    values = [data.draw(KINDS[kind]) for kind in kinds]
    raw = encode(kinds, values)
    assert decode_words(kinds, raw) == tuple(decode(kinds, raw))


@settings(max_examples=300, deadline=None)
@given(kinds=LAYOUTS, words=st.lists(st.sampled_from([0, 1, 2, 32, 64, 96, 255, 256, 2**160, 2**255, 2**256 - 1]),
                                     max_size=8), cut=st.integers(0, 40))
def test_any_words_give_eth_abis_value_or_its_error(kinds: list[str], words: list[int], cut: int) -> None:
    """Odd offsets, counts beyond the data, padding set, short data: the same value or the same error type."""
    raw = b"".join(w.to_bytes(32, "big") for w in words)
    raw = raw[:max(0, len(raw) - cut)] if cut % 3 == 0 else raw
    assert _outcome(kinds, raw, decode_words) == _outcome(kinds, raw, decode)


def test_other_types_go_to_eth_abi() -> None:
    raw = encode(["bytes", "string"], [b"\x01\x02", "ok"])
    assert decode_words(["bytes", "string"], raw) == (b"\x01\x02", "ok")
    with pytest.raises(DecodingError):
        decode_words(["uint8"], (256).to_bytes(32, "big"))
