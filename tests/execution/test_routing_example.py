"""The documented example script runs end to end (own anvil, world, vault, one signed trade sent)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "routing_example.py"


def test_routing_example_runs() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "planned at block" in result.stdout and "status 1" in result.stdout
