"""What several providers cost: a batch of N ETH transfers signed, sent and tracked to confirmation, through
one plain RPCClient and through ProviderSets of 1 and 3 read providers (+ a private send endpoint). Prints the
JSON-RPC requests and HTTP round trips of each (all providers added up) and the wall time.

Run: .venv/bin/python benchmarks/providers_bench.py [N]   (default 50)

Its own anvil (automine); the providers are loopback proxies (vaultexec.testing.faultproxy) in front of it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from vaultexec.chain.broadcast import TrackerConfig, TransactionTracker
from vaultexec.chain.gas import fetch_fees
from vaultexec.chain.providers import ProviderSet
from vaultexec.chain.rpc import RPCClient
from vaultexec.chain.wallet import HotWallet
from vaultexec.model.transaction import BlockchainTransaction
from vaultexec.testing.anvil import launch_anvil
from vaultexec.testing.faultproxy import FaultProxy

DEAD = "0x000000000000000000000000000000000000dEaD"


def run(client: RPCClient, admin: RPCClient, seed: int, n: int) -> tuple[int, int, float]:
    wallet = HotWallet.from_key("0x" + f"{seed:064x}", 31337)
    admin.call("anvil_setBalance", [wallet.address, hex(10**21)])
    before = client.stats.snapshot()
    started = time.perf_counter()
    wallet.sync_nonce(client)
    fees = fetch_fees(client, 31337)
    txs = [wallet.sign_blockchain_transaction(BlockchainTransaction(contract_address=DEAD), "0x", 21_000, fees,
                                              value=i + 1) for i in range(n)]
    TransactionTracker(client, TrackerConfig(poll_interval=0.01, timeout=60)).send_and_track(txs)
    used = client.stats.since(before)
    return used.total_requests, used.http_round_trips, time.perf_counter() - started


def main(n: int) -> None:
    with launch_anvil() as node:
        admin = RPCClient(node.url)
        proxies = [FaultProxy(node.url).start() for _ in range(4)]
        setups: list[tuple[str, Callable[[], RPCClient]]] = [
            ("RPCClient, 1 URL", lambda: RPCClient(proxies[0].url)),
            ("ProviderSet, 1 reader", lambda: ProviderSet([proxies[0].url])),
            ("ProviderSet, 3 readers", lambda: ProviderSet([p.url for p in proxies[:3]])),
            ("ProviderSet, 3 readers + private send", lambda: ProviderSet([p.url for p in proxies[:3]],
                                                                          send_urls=[proxies[3].url])),
        ]
        print(f"{n} transfers, signed, sent in one batch and tracked to confirmation (anvil automine)")
        print(f"{'client':<40}{'requests':>10}{'round trips':>13}{'seconds':>10}")
        for seed, (name, make) in enumerate(setups, start=0xBE0):
            client = make()
            requests, trips, seconds = run(client, admin, seed, n)
            client.close()
            print(f"{name:<40}{requests:>10}{trips:>13}{seconds:>10.2f}")
        for proxy in proxies:
            proxy.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
