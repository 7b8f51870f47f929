"""A store records its chain (chain id, genesis hash) on first use and refuses another chain's node."""

from __future__ import annotations

import pytest

from vaultexec.errors import ConfigurationError
from vaultexec.store.chainbinding import CHAIN_KEY, bind_store_to_chain
from vaultexec.store.protocol import ExecutionStore

GENESIS_A = "0x" + "aa" * 32
GENESIS_B = "0x" + "bb" * 32


def test_store_is_bound_on_first_use_and_refuses_another_chain(store: ExecutionStore,
                                                               twin_store: ExecutionStore) -> None:
    assert store.get_metadata(CHAIN_KEY) is None
    bind_store_to_chain(store, 31337, GENESIS_A, "the store")
    bind_store_to_chain(twin_store, 31337, GENESIS_A.upper().replace("0X", "0x"), "the store")  # same chain
    assert twin_store.get_metadata(CHAIN_KEY) == f"31337:{GENESIS_A}"
    with pytest.raises(ConfigurationError, match=r"another chain \(chain 31337, genesis block 0xaaaa.*a new store"):
        bind_store_to_chain(twin_store, 31337, GENESIS_B, "the store")
    with pytest.raises(ConfigurationError, match="the node is chain 8453"):
        bind_store_to_chain(store, 8453, GENESIS_A, "the store")


def test_binding_is_per_vault(store: ExecutionStore, other_store: ExecutionStore) -> None:
    bind_store_to_chain(store, 31337, GENESIS_A, "the store")
    bind_store_to_chain(other_store, 31337, GENESIS_B, "the store")  # another vault: its own record
    assert other_store.get_metadata(CHAIN_KEY) == f"31337:{GENESIS_B}"
