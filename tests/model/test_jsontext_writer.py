"""`write_json_tree` (the json module's C encoder underneath) writes exactly what the reference writer does."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultexec.errors import SerialisationError
from vaultexec.model.jsontext import JsonNumber, write_json_tree, write_json_tree_py
from vaultexec.model.scalars import decimal_text

LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**300), 2**300), st.text(max_size=20),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: JsonNumber(str(d))),
    st.floats(allow_nan=False, allow_infinity=False))
TREES = st.recursive(LEAVES, lambda children: st.one_of(
    st.lists(children, max_size=5), st.dictionaries(st.text(max_size=10), children, max_size=5)), max_leaves=40)


@settings(max_examples=300, deadline=None)
@given(tree=TREES)
def test_same_text_as_the_reference_writer(tree: object) -> None:
    assert write_json_tree(tree) == write_json_tree_py(tree)
    assert write_json_tree(tree, decimal_text) == write_json_tree_py(tree, decimal_text)


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), [Decimal("-Infinity")]])
def test_non_finite_decimals_are_refused(bad: object) -> None:
    with pytest.raises(SerialisationError):
        write_json_tree(bad)
    with pytest.raises(SerialisationError):
        write_json_tree_py(bad)
