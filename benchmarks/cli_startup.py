"""Measure how long the `vaultexec` script takes to answer without doing any work (target: --version <= 0.3 s).

Run: .venv/bin/python benchmarks/cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

VAULTEXEC = str(Path(sys.executable).with_name("vaultexec"))
COMMANDS = (["--version"], ["--help"], ["status", "--help"])


def wall_seconds(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([VAULTEXEC, *args], capture_output=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    print(f"{'command':<28}{'median s':>10}{'min s':>10}{'max s':>10}")
    for args in COMMANDS:
        times = [wall_seconds(args) for _ in range(runs)]
        print(f"{'vaultexec ' + ' '.join(args):<28}{statistics.median(times):>10.3f}{min(times):>10.3f}"
              f"{max(times):>10.3f}")


if __name__ == "__main__":
    main()
