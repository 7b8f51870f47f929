"""A store knows the chain its trades are on: (chain id, genesis block hash), recorded on first use.

A local chain restarted (`vaultexec world` again, a new anvil) has the same chain id and, deployed the
same way, the same vault address: only the genesis hash tells the chains apart. Without this record a
new chain's trades would continue the old chain's ids and `status` would show the old trades as this
vault's. A store bound to another chain is refused before anything is read or written.
"""

from __future__ import annotations

from vaultexec.errors import ConfigurationError
from vaultexec.store.protocol import ExecutionStore

CHAIN_KEY = "chain"


def chain_identity(chain_id: int, genesis_hash: str) -> str:
    return f"{chain_id}:{genesis_hash.lower()}"


def bind_store_to_chain(store: ExecutionStore, chain_id: int, genesis_hash: str, where: str) -> None:
    """Record the chain on first use; ConfigurationError when the store holds another chain's trades.

    `where` names the store in the message (a URL without credentials).
    """
    identity = chain_identity(chain_id, genesis_hash)
    stored = store.set_metadata_if_absent(CHAIN_KEY, identity)
    if stored == identity:
        return
    old_chain, _, old_genesis = stored.partition(":")
    raise ConfigurationError(
        f"The store {where} holds the trades of vault {store.vault} on another chain (chain {old_chain}, genesis "
        f"block {old_genesis[:18]}...); the node is chain {chain_id} with genesis block {genesis_hash[:18]}... "
        "(a restarted local chain is a new chain). Use a new store for this chain (--store sqlite:///other.db "
        "or VAULTEXEC_STORE), or point --rpc-url at the chain of this store. Nothing was read or written.")
