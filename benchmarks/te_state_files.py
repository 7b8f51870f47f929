"""Real-data figures: how many trades of trade-executor state files load and write back to identical JSON text.

Usage: python benchmarks/te_state_files.py DIR   (DIR holds trade-executor State JSON files, e.g. the ones in
its repository's tests/ folders). Prints one row per file and the totals.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

from vaultexec.dex.deployments import executor_router_map
from vaultexec.model.compat import trade_to_executor_json
from vaultexec.model.statefile import load_state_file


def main(folder: str) -> None:
    routers = executor_router_map()
    totals: collections.Counter[str] = collections.Counter()
    print(f"{'file':60} {'spot loaded':>11} {'identical':>9} {'refused':>7}")
    for path in sorted(Path(folder).glob("*.json")):
        loaded = load_state_file(path.read_bytes(), routers)
        same = sum(trade_to_executor_json(t) == loaded.texts[t.trade_id] for t in loaded.trades)
        totals["trades"] += len(loaded.trades) + len(loaded.refused)
        totals["spot loaded"] += len(loaded.trades)
        totals["identical text"] += same
        for refused in loaded.refused:
            totals[f"refused {refused.kind}"] += 1
        print(f"{path.name[:60]:60} {len(loaded.trades):11} {same:9} {len(loaded.refused):7}")
    print(", ".join(f"{k}: {v}" for k, v in totals.items()))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: te_state_files.py DIR (a folder of trade-executor state files); nothing measured")
    else:
        main(sys.argv[1])
