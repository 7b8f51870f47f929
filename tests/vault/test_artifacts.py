"""The artifacts shipped in vaultexec/vault/artifacts/ are exactly a fresh compile of contracts/src."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from vaultexec.vault.contracts import load_artifact

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed: cannot recompile the contracts")
def test_shipped_artifacts_match_the_sources() -> None:
    result = subprocess.run(["bash", str(ROOT / "contracts" / "build.sh"), "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "match" in result.stdout


#: EIP-170: the most runtime bytecode a contract may have on mainnet and the usual L2s.
MAX_RUNTIME_SIZE = 24_576


@pytest.mark.parametrize("name", ["Vault", "SafeTradeModule"])
def test_shipped_contracts_fit_the_code_size_limit(name: str) -> None:
    """A guard change must not make a custody undeployable on a real chain (the module is close: ~23.8 KB)."""
    artifact = load_artifact(name)
    size = len(bytes.fromhex(artifact["deployedBytecode"].removeprefix("0x")))
    assert 0 < size <= MAX_RUNTIME_SIZE, f"{name} runtime bytecode is {size} bytes, above EIP-170's {MAX_RUNTIME_SIZE}"
