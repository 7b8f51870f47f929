"""Files the CLI and the demo write into the working folder are ignored by git in the checkout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
OUTPUTS = ("world.json", "trades.csv", "trade-export-0x12345678-2026-12-07.csv", "build/lib/x.py",
           "vaultexec-demo.db", "vaultexec.db")


@pytest.mark.skipif(shutil.which("git") is None or not (CHECKOUT / ".git").exists(), reason="needs a git checkout")
def test_cli_outputs_are_git_ignored() -> None:
    done = subprocess.run(["git", "check-ignore", "--no-index", *OUTPUTS], cwd=CHECKOUT, capture_output=True,
                          text=True, timeout=30)
    assert sorted(done.stdout.split()) == sorted(OUTPUTS), done.stdout + done.stderr
