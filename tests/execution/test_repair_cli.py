"""`vaultexec repair --force` refuses, before touching the node or the store, without --trade-id and --note.

(A CLI test kept beside the repair tests: the CLI's own test directory belongs to another module.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

VAULTEXEC = str(Path(sys.executable).with_name("vaultexec"))


@pytest.mark.parametrize("args", [["--force", "--trade-id", "3"], ["--force", "--note", "checked"],
                                  ["--force", "--trade-id", "3", "--note", "   "]])
def test_force_needs_trade_ids_and_a_note(args: list[str], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULTEXEC_")}
    store = tmp_path / "untouched.db"
    done = subprocess.run([VAULTEXEC, "repair", *args, "--rpc-url", "http://127.0.0.1:9",
                           "--store", f"sqlite:///{store}"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "--trade-id" in done.stderr and "--note" in done.stderr and "Nothing was changed" in done.stderr
    assert not store.exists()


def test_help_explains_force() -> None:
    done = subprocess.run([VAULTEXEC, "repair", "--help"], capture_output=True, text=True, timeout=120)
    text = " ".join(done.stdout.split())
    assert done.returncode == 0 and "--force" in text and "landed but cannot be settled" in text
