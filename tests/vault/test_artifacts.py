"""The artifacts shipped in vaultexec/vault/artifacts/ are exactly a fresh compile of contracts/src."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed: cannot recompile the contracts")
def test_shipped_artifacts_match_the_sources() -> None:
    result = subprocess.run(["bash", str(ROOT / "contracts" / "build.sh"), "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "match" in result.stdout
