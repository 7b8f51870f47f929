"""A project that pip-installs vaultexec (a wheel, not the checkout) uses the plugin's fixtures and runs the
demo, with no VAULTEXEC_ variable set: `vaultexec toolchain` installs what npm must bring, both find it.

vaultexec itself comes from the wheel, installed into a fresh venv in a temporary folder outside the
checkout; its dependencies (web3, pytest, ...) come from this test's own environment through a .pth line,
so the test needs no package index and stays near a minute (the wheel is built with pip's cache; the
toolchain is installed once per user and lockfile, ~25 s the first time).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]

DOWNSTREAM_TESTS = '''
from decimal import Decimal
from pathlib import Path
import sys

import vaultexec
from vaultexec.execution.assembly import make_trade, next_trade_id
from vaultexec.execution.markets import MarketRequest


def test_vault_executor_buys_weth(vault_executor, executor_parts, world_markets):
    pair = world_markets.pair(MarketRequest("WETH", "USDC", "v3", fee=500))
    trade = make_trade(next_trade_id(executor_parts.store), pair, buy=True, amount=Decimal(1000),
                       slippage=Decimal("0.005"))
    [done] = vault_executor.execute_trades([trade])
    assert done.is_success(), done.get_revert_reason()


def test_the_installed_package_is_used(world, vault):
    assert Path(vaultexec.__file__).resolve().is_relative_to(Path(sys.prefix).resolve())
    assert world.usdc.functions.balanceOf(vault.address).call() > 0
'''


def run(args: list[str | Path], env: dict[str, str], cwd: Path, timeout: float = 600) -> str:
    done = subprocess.run([str(a) for a in args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{args}: {done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
def test_an_installed_wheel_serves_a_downstream_project(tmp_path: Path) -> None:
    assert not tmp_path.resolve().is_relative_to(CHECKOUT)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VAULTEXEC_", "PYTEST_")) and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", CHECKOUT], env, tmp_path)
    [wheel] = (tmp_path / "dist").glob("vaultexec-*.whl")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], env, tmp_path)
    python = venv / "bin" / "python"
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env, tmp_path)
                .strip())
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel], env, tmp_path)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    run([venv / "bin" / "vaultexec", "toolchain"], env, tmp_path, timeout=1800)
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_downstream.py").write_text(DOWNSTREAM_TESTS)
    output = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_downstream.py"], env, project)
    assert "2 passed" in output, output
    demo = run([venv / "bin" / "vaultexec", "demo"], env, project)
    assert "7 trades (1 failed, 6 success)" in demo, demo
