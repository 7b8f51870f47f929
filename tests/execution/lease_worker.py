"""Subprocess of the two-executor tests: execute the crash tests' batch under other trade ids.

    python lease_worker.py <config.json> <first trade id> [hold]

With `hold`, the worker prints "held" once its batch is signed and stored (leases held, nothing sent) and
waits for a line on stdin before it broadcasts. Prints a JSON summary as its last stdout line:
{"statuses": {trade id: status}} or {"refused": message, "holder": ...} (exit 3) for a LeaseHeldError.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crash_worker import batch
from exec_pipeline import make_executor, register_world, world_pairs

from vaultexec.errors import LeaseHeldError
from vaultexec.model.trade import TradeExecution
from vaultexec.store.factory import open_store
from vaultexec.store.redis import RedisStore
from vaultexec.testing.world import WorldAddresses


def main(argv: Sequence[str]) -> int:
    config = json.loads(Path(argv[0]).read_text())
    first_id, hold = int(argv[1]), len(argv) > 2 and argv[2] == "hold"
    addresses = WorldAddresses(**config["addresses"])
    register_world(addresses)
    prefix = config.get("prefix")
    store = (RedisStore.from_url(config["store_url"], config["vault"], prefix) if prefix
             else open_store(config["store_url"], config["vault"]))

    def on_stage(stage: str, trades: Sequence[TradeExecution]) -> None:
        if hold and stage == "signed":
            print("held", flush=True)
            sys.stdin.readline()

    executor = make_executor(config["url"], config["vault"], addresses.chain_id, world_pairs(addresses), store,
                             on_stage=on_stage)
    trades = batch(addresses)
    for offset, trade in enumerate(trades):
        trade.trade_id = first_id + offset
    try:
        done = executor.execute_trades(trades)
    except LeaseHeldError as exc:
        print(json.dumps({"refused": str(exc), "holder": exc.holder}))
        return 3
    print(json.dumps({"statuses": {str(t.trade_id): t.get_status().value for t in done}}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
