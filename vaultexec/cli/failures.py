"""Turn every failure into one line on stderr and an exit code that tells the error class apart.

Exit codes (documented in docs/cli.md; most specific class first, the first match wins):
0 ok, 1 internal error or aborted, 2 bad usage / bad input, 3 configuration (wrong chain id, no vault,
vault not configured), 4 RPC unreachable or refusing, 5 wallet (key / keystore), 6 no route or the guard
refuses, 7 insufficient balance, 8 pre-flight simulation reverted (nothing sent), 9 sending failed
(rejected, timed out, nonce consumed, not settled), 10 store, 11 toolchain (anvil, ...), 12 a trade failed
on chain, 13 repair refused for some trade, 130 interrupted.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable

from rich.console import Console

from vaultexec import errors

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_ABORTED = 1
EXIT_USAGE = 2
EXIT_TRADE_FAILED = 12
EXIT_INTERRUPTED = 130

#: (error class, exit code, short label): checked in order, so subclasses come before their parents.
EXIT_CODES: tuple[tuple[type[errors.VaultExecError], int, str], ...] = (
    (errors.BadInputError, 2, "bad input"),
    (errors.ConfigurationError, 3, "configuration"),
    (errors.RPCError, 4, "RPC"),
    (errors.WalletError, 5, "wallet"),
    (errors.RouteNotFoundError, 6, "no route"),
    (errors.GuardRefusedError, 6, "guard refused"),
    (errors.InsufficientBalanceError, 7, "insufficient balance"),
    (errors.SimulationRevertedError, 8, "pre-flight reverted"),
    (errors.RepairRefusedError, 13, "repair refused"),
    (errors.SettlementError, 9, "settlement"),
    (errors.BroadcastError, 9, "broadcast"),
    (errors.TransactionTimeoutError, 9, "timeout"),
    (errors.NonceConsumedError, 9, "nonce consumed"),
    (errors.StoreError, 10, "store"),
    (errors.ToolchainError, 11, "toolchain"),
    (errors.SerialisationError, 10, "store data"),
    (errors.IllegalTransitionError, 10, "trade state"),
)

def exit_code_for(error: BaseException) -> int:
    """The documented exit code of `error` (1 for anything that is not ours: a bug)."""
    for cls, code, _ in EXIT_CODES:
        if isinstance(error, cls):
            return code
    return EXIT_INTERNAL


def label_for(error: BaseException) -> str:
    for cls, _, label in EXIT_CODES:
        if isinstance(error, cls):
            return label
    return "internal error"


def one_line(text: str) -> str:
    """Collapse whitespace so a message is exactly one line."""
    return " ".join(text.split())


def redact_secrets(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of a secret (with or without 0x, any case) by `***`."""
    for secret in secrets:
        bare = secret.strip().lower().removeprefix("0x")
        if len(bare) < 16:
            continue
        text = re.sub(rf"(0x)?{re.escape(bare)}", "***", text, flags=re.IGNORECASE)
    return text


def secrets_from_env(names: Iterable[str]) -> list[str]:
    """Values of the key/password environment variables in use, to scrub them from any output."""
    return [value for name in names if (value := os.environ.get(name))]


def report_failure(error: BaseException, verbose: bool, secrets: Iterable[str], console: Console) -> int:
    """Print `error` as one line (plus the traceback when verbose) and return its exit code."""
    secrets = list(secrets)
    code = exit_code_for(error)
    message = one_line(str(error)) or type(error).__name__
    if code == EXIT_INTERNAL:
        message = f"{type(error).__name__}: {message} (a bug in vaultexec? rerun with --verbose for details)"
    line = f"error ({label_for(error)}): {message}"
    if verbose:
        import traceback

        details = "".join(traceback.format_exception(error))
        console.print(redact_secrets(details, secrets), markup=False, highlight=False, soft_wrap=True)
    console.print(redact_secrets(line, secrets), markup=False, highlight=False, soft_wrap=True)
    return code


def stderr_console() -> Console:
    return Console(file=sys.stderr, soft_wrap=True)
