"""Helpers of the CLI tests: run the real `vaultexec` in a subprocess, check its failures."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

VAULTEXEC = str(Path(sys.executable).with_name("vaultexec"))
CLI_TIMEOUT = 180


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


#: Kept from the test process: the test session's own lease directory (`testing.plugin`), so parallel test
#: sessions (pytest-xdist workers, each with its own anvil at the same chain id and vault address) never
#: hold each other's leases.
HARNESS_VARIABLES = frozenset({"VAULTEXEC_LOCK_DIR"})


def clean_env(env: dict[str, str]) -> dict[str, str]:
    """This process's environment without any VAULTEXEC_ variable (but the harness's), plus exactly `env`."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("VAULTEXEC_") or k in HARNESS_VARIABLES}
    return {**kept, **env}


def run_cli(args: Sequence[str], env: dict[str, str], input_text: str | None = None,
            cwd: Path | None = None) -> CliResult:
    """Run `vaultexec ARGS` with exactly `env` added to a clean environment; never raises on exit code."""
    done = subprocess.run([VAULTEXEC, *args], env=clean_env(env), input=input_text, capture_output=True,
                          text=True, timeout=CLI_TIMEOUT, cwd=cwd)
    return CliResult(done.returncode, done.stdout, done.stderr)


def start_cli(args: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen[str]:
    """Start `vaultexec ARGS` in the background (stdout and stderr piped), to signal it or race it."""
    return subprocess.Popen([VAULTEXEC, *args], env=clean_env(env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)


def finish(process: subprocess.Popen[str], timeout: float = CLI_TIMEOUT) -> CliResult:
    """Wait for a started `vaultexec` and collect its result."""
    stdout, stderr = process.communicate(timeout=timeout)
    return CliResult(process.returncode, stdout, stderr)


def assert_one_line_error(result: CliResult, code: int, *needles: str) -> None:
    """Exit code `code`, one `error` line on stderr naming every needle, no traceback anywhere."""
    assert result.code == code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


def nonce(web3: Web3, address: str) -> int:
    return int(web3.eth.get_transaction_count(Web3.to_checksum_address(address), "pending"))
