"""Turn every failure into one line on stderr and an exit code that tells the error class apart.

Exit codes (documented in docs/cli.md; most specific class first, the first match wins):
0 ok, 1 internal error or aborted, 2 bad usage / bad input, 3 configuration (wrong chain id, no vault,
vault not configured), 4 RPC unreachable or refusing, 5 wallet (key / keystore), 6 no route or the guard
refuses, 7 insufficient balance, 8 pre-flight simulation reverted (nothing sent), 9 sending failed
(rejected, timed out, nonce consumed, not settled), 10 store, 11 toolchain (anvil, ...), 12 a trade failed
on chain, 13 repair refused for some trade, 14 the price moved past the executor's limit or the plan the
user confirmed (nothing sent), 130 interrupted (Ctrl-C; SIGTERM/SIGHUP in `demo`, and in `world` while it
starts: a world that is ready stops with 0).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable, Iterable
from typing import NoReturn

import click
from rich.console import Console
from rich.logging import RichHandler

from vaultexec import errors
from vaultexec.chain.wallet import DEFAULT_KEY_ENV_VAR, DEFAULT_KEYSTORE_PASSWORD_ENV_VAR

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_ABORTED = 1
EXIT_TRADE_FAILED = 12
EXIT_REPAIR_REFUSED = 13
EXIT_INTERRUPTED = 130
#: Options that turn on debug logs and tracebacks, in the CLI and in the scripts.
VERBOSE_OPTIONS = ("-v", "--verbose")

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
    (errors.RepairRefusedError, EXIT_REPAIR_REFUSED, "repair refused"),
    (errors.PriceMovedError, 14, "price moved"),
    (errors.FeeCapExceededError, 15, "fee cap"),
    (errors.SettlementError, 9, "settlement"),
    (errors.BroadcastError, 9, "broadcast"),
    (errors.TransactionTimeoutError, 9, "timeout"),
    (errors.NonceConsumedError, 9, "nonce consumed"),
    (errors.StoreError, 10, "store"),
    (errors.ToolchainError, 11, "toolchain"),
    (errors.SerialisationError, 10, "store data"),
    (errors.IllegalTransitionError, 10, "trade state"),
)

#: What an interrupt may have left behind, and what to do about it.
INTERRUPTED_MESSAGE = ("Interrupted. If a trade was being sent it may be in flight: run `vaultexec status`, "
                       "then `vaultexec resume`.")
NOTHING_SENT_MESSAGE = "Aborted: nothing was sent."

#: `user:password@` in any URL, and query parameters that usually carry a secret.
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:@/\s]*:)[^@\s]+@")
_URL_SECRET_PARAMETER = re.compile(r"(?P<head>[?&](?:password|passwd|pass|pwd|secret|token|api_?key|key)=)"
                                   r"[^&#\s'\"]+", re.IGNORECASE)


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


def redact_urls(text: str) -> str:
    """Replace the password of every URL in `text` (userinfo or a password-like query parameter) by `***`."""
    text = _URL_PASSWORD.sub(r"\g<head>***@", text)
    return _URL_SECRET_PARAMETER.sub(r"\g<head>***", text)


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
        print_plain(console, redact_urls(redact_secrets(details, secrets)))
    print_plain(console, redact_urls(redact_secrets(line, secrets)))
    return code


def print_plain(console: Console, text: str) -> None:
    """Print `text` exactly: no markup, no emoji codes, no highlighting, never cut."""
    console.print(text, markup=False, emoji=False, highlight=False, soft_wrap=True)


def setup_logging(verbose: bool) -> None:
    """Warnings only by default; with --verbose, debug logs of vaultexec and info of the rest, on stderr."""
    handler = RichHandler(console=stderr_console(), show_path=False, rich_tracebacks=False)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler],
                        format="%(name)s: %(message)s", force=True)
    logging.getLogger("vaultexec").setLevel(logging.DEBUG if verbose else logging.WARNING)
    # Retries are routine; when they run out the error says so in one line.
    logging.getLogger("vaultexec.chain.rpc").setLevel(logging.DEBUG if verbose else logging.ERROR)


def stderr_console() -> Console:
    """Console for progress and errors: prints text as given (no markup, no emoji codes, no highlighting),
    so a value typed by the user or read from chain (`USDC:abc:60`, `[/x]`) shows exactly as it is."""
    return Console(file=sys.stderr, soft_wrap=True, markup=False, emoji=False, highlight=False)


class CommandStopped(click.exceptions.Abort):
    """A command stopped on purpose before finishing: `message` is its one line, `exit_code` its code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def was_interrupted(error: BaseException) -> bool:
    """True when `error` is, or was raised while handling, a KeyboardInterrupt (Ctrl-C, or a signal made one)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def abort_outcome(abort: click.exceptions.Abort) -> tuple[str, int]:
    """The line and exit code of an Abort: a command's own stop, an interrupt, or an end of input."""
    if isinstance(abort, CommandStopped):
        return abort.message, abort.exit_code
    if was_interrupted(abort):
        return INTERRUPTED_MESSAGE, EXIT_INTERRUPTED
    return "Aborted.", EXIT_ABORTED


def run_script(main: Callable[[], int | None]) -> NoReturn:
    """Entry point of a script in scripts/: any failure becomes one line on stderr and its exit code.

    Logging is set up as in the CLI: warnings only (RPC retries stay quiet), debug logs and the traceback
    of an error with -v / --verbose (`cli.argtypes.script_parser` accepts it). Ctrl-C exits 130. Keys and
    passwords of the default variables, and URL passwords, are never printed.
    """
    verbose = any(arg in VERBOSE_OPTIONS for arg in sys.argv[1:])
    setup_logging(verbose)
    console = stderr_console()
    try:
        code = main() or EXIT_OK
    except KeyboardInterrupt:
        print_plain(console, INTERRUPTED_MESSAGE)
        code = EXIT_INTERRUPTED
    except Exception as exc:  # a vaultexec error is its class's code; anything else a bug (exit 1)
        secrets = secrets_from_env((DEFAULT_KEY_ENV_VAR, DEFAULT_KEYSTORE_PASSWORD_ENV_VAR))
        code = report_failure(exc, verbose, secrets, console)
    sys.exit(code)
