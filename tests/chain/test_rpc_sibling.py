"""A sibling client: its own connection to the same node, the same counters (the executor sends a chunk on it
while it settles the previous one on the main client)."""

from __future__ import annotations

import threading

from vaultexec.chain.providers import ProviderSet
from vaultexec.chain.rpc import RPCClient
from vaultexec.testing.anvil import AnvilInstance


def test_a_sibling_has_its_own_connection_and_shares_the_counters(plain_anvil: AnvilInstance) -> None:
    client = RPCClient(plain_anvil.url)
    twin = client.sibling()
    blocks: list[str] = []

    def ask() -> None:
        blocks.append(twin.call("eth_blockNumber"))

    thread = threading.Thread(target=ask)
    thread.start()
    chain_id = client.call("eth_chainId")
    thread.join()
    assert int(chain_id, 16) == 31337 and len(blocks) == 1
    assert twin._conn is not None and client._conn is not None and twin._conn is not client._conn
    assert client.stats is twin.stats
    assert client.stats.requests_by_method == {"eth_chainId": 1, "eth_blockNumber": 1}
    assert client.stats.http_round_trips == 2
    client.close()
    twin.close()


def test_a_provider_set_is_its_own_sibling(plain_anvil: AnvilInstance) -> None:
    """Its sends must keep going to its send endpoints, never to a plain client of its first read URL."""
    providers = ProviderSet([plain_anvil.url], send_urls=[plain_anvil.url])
    assert providers.sibling() is providers
    providers.close()
