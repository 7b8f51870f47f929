"""The npm protocol artifacts: pinned versions, and what a project without them is told to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vaultexec.errors import ToolchainError
from vaultexec.testing.anvil import INSTALL_HINT
from vaultexec.testing.protocol import NODE_MODULES_ENV_VAR, NPM_PACKAGES, find_node_modules
from vaultexec.testing.toolchain import NPM_DIR, toolchain_dir

PACKAGE_JSON = Path(__file__).resolve().parents[2] / "package.json"


def test_pins_are_those_of_package_json() -> None:
    """The checkout's package.json, the shipped one (`vaultexec toolchain`) and its lockfile pin the same."""
    dependencies = json.loads(PACKAGE_JSON.read_text())["dependencies"]
    assert {package: dependencies.get(package) for package in NPM_PACKAGES} == NPM_PACKAGES
    shipped = json.loads((NPM_DIR / "package.json").read_text())["dependencies"]
    anvil = "@foundry-rs/anvil-linux-amd64"
    assert shipped == {**NPM_PACKAGES, anvil: dependencies[anvil]}
    locked = json.loads((NPM_DIR / "package-lock.json").read_text())["packages"]
    assert locked[""]["dependencies"] == shipped
    assert all(locked[f"node_modules/{package}"]["version"] == version for package, version in shipped.items())
    assert "vaultexec toolchain" in INSTALL_HINT


def test_missing_packages_error_says_what_to_add(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(NODE_MODULES_ENV_VAR, str(tmp_path))
    with pytest.raises(ToolchainError) as raised:
        find_node_modules()
    message = str(raised.value)
    assert "Run `vaultexec toolchain` once" in message and str(toolchain_dir()) in message
    assert NODE_MODULES_ENV_VAR in message and "vaultexec docs testing" in message
    assert "vaultexec checkout" not in message


def test_node_modules_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    real = find_node_modules()
    monkeypatch.setenv(NODE_MODULES_ENV_VAR, str(real))
    assert find_node_modules() == real
