"""Subprocess of the crash tests: execute a fixed batch and SIGKILL itself at a stage, or resume.

    python crash_worker.py execute <config.json> <stage>   # stage: signed | broadcast | tracked | none
    python crash_worker.py resume <config.json>

config.json: {"url", "vault", "store_url", "addresses": WorldAddresses as a dict}. Prints a JSON summary
({trade id: status}) on stdout when it is not killed.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from exec_pipeline import make_executor, make_trade, pair, register_world, world_pairs

from vaultexec.model.trade import TradeExecution
from vaultexec.store.factory import open_store
from vaultexec.testing.world import WorldAddresses


def batch(addresses: WorldAddresses) -> list[TradeExecution]:
    """The crash tests' batch: V2 and V3, buys and sells."""
    return [make_trade(1, pair(addresses, "WETH", "USDC"), "1000"),
            make_trade(2, pair(addresses, "WETH", "USDC", 500), "1200", buy=False),
            make_trade(3, pair(addresses, "WBTC", "WETH", 3000), "1.5"),
            make_trade(4, pair(addresses, "WETH", "USDC", 3000), "800")]


def main(argv: Sequence[str]) -> int:
    mode, config_path = argv[0], argv[1]
    config = json.loads(Path(config_path).read_text())
    addresses = WorldAddresses(**config["addresses"])
    register_world(addresses)
    store = open_store(config["store_url"], config["vault"])
    crash_at = argv[2] if len(argv) > 2 else "none"

    def on_stage(stage: str, trades: Sequence[TradeExecution]) -> None:
        if stage == crash_at:
            os.kill(os.getpid(), signal.SIGKILL)

    executor = make_executor(config["url"], config["vault"], addresses.chain_id, world_pairs(addresses), store,
                             on_stage=on_stage)
    if mode == "execute":
        executor.resume()
        trades = executor.execute_trades(batch(addresses))
    else:
        trades = executor.resume()
    print(json.dumps({str(t.trade_id): t.get_status().value for t in trades}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
