"""Startup of the `vaultexec` script: `--version` loads none of the heavy modules; Ctrl-C while they load
ends with one line and exit 130, never a traceback. (The time itself is measured in benchmarks/cli_startup.py.)"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.cli.cli_helpers import VAULTEXEC, clean_env

HEAVY = ("web3", "rich", "click", "eth_account", "redis")


def test_version_answers_without_loading_heavy_modules() -> None:
    code = ("import sys\nfrom vaultexec.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit as e:\n"
            f"    loaded = [m for m in {HEAVY!r} if m in sys.modules]\n"
            "    print('exit', e.code, 'loaded', loaded)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env=clean_env({}))
    assert "vaultexec, version" in done.stdout, done.stdout + done.stderr
    assert "exit 0 loaded []" in done.stdout


@pytest.mark.parametrize("delay", [0.4, 1.0])
def test_ctrl_c_during_startup_prints_one_line(delay: float) -> None:
    process = subprocess.Popen([VAULTEXEC, "status", "--vault", "0x" + "11" * 20], env=clean_env({}),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)  # inside our imports (after Python's own start-up, which no program can catch): they take ~2 s
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert "Traceback" not in stdout + stderr, stderr
    assert "KeyboardInterrupt" not in stderr, stderr
    assert process.returncode == 130, (process.returncode, stderr)
    assert len(stderr.strip().splitlines()) == 1, stderr


def test_the_fast_version_is_the_installed_one() -> None:
    from importlib.metadata import version

    import vaultexec

    assert vaultexec.__version__ == version("vaultexec")
