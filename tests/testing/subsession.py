"""Run a pytest session in a subprocess, on a throwaway project: the plugin as a downstream project gets it,
with the environment variables the fixtures read at start."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from vaultexec.testing.process import is_process_alive

#: Variables of the plugin that the parent session may have set; a sub-session starts without them.
PLUGIN_ENV_VARS = ("VAULTEXEC_FORK_RPC_URL", "VAULTEXEC_FORK_BLOCK", "VAULTEXEC_WORLD_MODE")


def write_project(folder: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text))
    return folder


def pytest_command(folder: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args, str(folder)]


def subsession_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in PLUGIN_ENV_VARS}
    return env | dict(extra or {})


def run_pytest(folder: Path, extra_env: Mapping[str, str] | None = None, *args: str,
               timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(pytest_command(folder, *args), cwd=folder, env=subsession_env(extra_env),
                          capture_output=True, text=True, timeout=timeout)


def output_of(done: subprocess.CompletedProcess[str]) -> str:
    return f"rc={done.returncode}\n--- stdout\n{done.stdout[-6000:]}\n--- stderr\n{done.stderr[-3000:]}"


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def gone(pid: int, timeout: float = 5.0) -> bool:
    """True once `pid` is dead (polls: the kernel's death signal and the exit take a moment)."""
    return wait_until(lambda: not is_process_alive(pid), timeout)
