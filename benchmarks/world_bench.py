"""Measure the test harness: world build vs. load from the saved state, and what the fixtures cost per test.

The per-test figures come from real pytest runs (a subprocess per fixture): N trivial tests that request
the fixture, timed from setup start to teardown end by a conftest hook; the median excludes the first
test (which pays the session fixtures).

Run: .venv/bin/python benchmarks/world_bench.py [--tests N]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vaultexec.testing.world import attach_world, make_web3
from vaultexec.testing.worldcache import launch_world

ROUNDS = 3
FIXTURES = ("none", "isolated_chain", "web3", "world", "vault")
CONFTEST = '''
import statistics, time
import pytest

_durations = []

@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    started = time.perf_counter()
    result = yield
    _durations.append(time.perf_counter() - started)
    return result

def pytest_sessionfinish(session):
    print(f"\\nPER_TEST_MS {statistics.median(_durations[1:]) * 1000:.3f}")
'''


def _launch_ms(cache_dir: Path | None) -> float:
    started = time.perf_counter()
    with launch_world(cache_dir=cache_dir, use_cache=cache_dir is not None):
        return (time.perf_counter() - started) * 1000


def _attach_ms() -> float:
    with launch_world() as (node, addresses):
        web3 = make_web3(node.url)
        samples = []
        for _ in range(50):
            started = time.perf_counter()
            attach_world(web3, addresses)
            samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def _per_test_ms(fixture: str, tests: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        (project / "conftest.py").write_text(CONFTEST)
        argument = "" if fixture == "none" else fixture
        (project / "test_cost.py").write_text(
            f"import pytest\n\n@pytest.mark.parametrize('i', range({tests}))\ndef test_cost({argument}"
            f"{', ' if argument else ''}i):\n    pass\n")
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", str(project)],
                              cwd=project, capture_output=True, text=True, env=os.environ.copy(), timeout=600)
        found = re.search(r"PER_TEST_MS ([\d.]+)", done.stdout)
        if done.returncode != 0 or not found:
            raise SystemExit(f"pytest run for {fixture} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return float(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tests", type=int, default=200, help="tests per pytest run")
    tests = parser.parse_args().tests
    with tempfile.TemporaryDirectory() as cache:
        built = [_launch_ms(None) for _ in range(ROUNDS)]
        _launch_ms(Path(cache))  # saves the state
        loaded = [_launch_ms(Path(cache)) for _ in range(ROUNDS)]
    attach = _attach_ms()
    per_test = {fixture: _per_test_ms(fixture, tests) for fixture in FIXTURES}
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| base anvil + world built (median of {ROUNDS}) | {statistics.median(built):.0f} ms |")
    print(f"| base anvil + world loaded from the saved state (median of {ROUNDS}) "
          f"| {statistics.median(loaded):.0f} ms |")
    print(f"| `attach_world` (now once per session; was once per test) | {attach:.1f} ms |")
    for fixture in FIXTURES:
        print(f"| per test, requesting `{fixture}` (median of {tests - 1}) | {per_test[fixture]:.2f} ms |")
    print(f"| isolation cost per test (`web3` minus none) | {per_test['web3'] - per_test['none']:.2f} ms |")


if __name__ == "__main__":
    main()
