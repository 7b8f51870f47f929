"""The `vaultexec` command group: global options, logging, and the one place failures become exit codes."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import click
from rich.console import Console

from vaultexec.chain.wallet import DEFAULT_KEY_ENV_VAR, DEFAULT_KEYSTORE_PASSWORD_ENV_VAR
from vaultexec.cli.failures import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    INTERRUPTED_MESSAGE,
    VERBOSE_OPTIONS,
    abort_outcome,
    one_line,
    print_plain,
    redact_secrets,
    redact_urls,
    report_failure,
    secrets_from_env,
    setup_logging,
    stderr_console,
)
from vaultexec.cli.globalopts import GlobalOption, GlobalOptionsGroup
from vaultexec.cli.session import (
    DEFAULT_STORE_URL,
    RPC_URL_ENV_VAR,
    SEND_URL_ENV_VAR,
    STORE_ENV_VAR,
    VAULT_ENV_VAR,
    Session,
    check_env_var_name,
    looks_like_secret,
)

logger = logging.getLogger(__name__)


#: click >= 8.2 raises this for a bare `vaultexec` (older click prints the help itself).
_NO_ARGS_IS_HELP: type[click.ClickException] | tuple[()] = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _Run:
    """What `main` must know about the invocation even when the group callback never ran."""

    session: Session | None = None
    verbose: bool = False
    secret_env_vars: tuple[str, ...] = (DEFAULT_KEY_ENV_VAR, DEFAULT_KEYSTORE_PASSWORD_ENV_VAR)


#: Width when stdout is not a terminal (a pipe, a file, a test): tables are made to fit 100 columns.
PIPE_WIDTH = 100


def stdout_console() -> Console:
    """Console for results; when piped it is 100 columns wide (the tables are made to fit that).

    Text is printed as given (no markup, no emoji codes): symbols and revert reasons come from the chain.
    """
    console = Console(highlight=False, markup=False, emoji=False)
    if not console.is_terminal:
        console = Console(highlight=False, markup=False, emoji=False, width=PIPE_WIDTH)
    return console


#: The global options, defined once; each is accepted before and after the subcommand name.
GLOBAL_OPTIONS = [
    GlobalOption(("--rpc-url",), "JSON-RPC endpoint(s) of the chain, comma-separated: several are read with "
                 f"failover and lag checks [env {RPC_URL_ENV_VAR}].", "URL[,URL...]", envvar=RPC_URL_ENV_VAR),
    GlobalOption(("--send-url", "send_urls"), "Private send-only endpoint(s), comma-separated: every raw "
                 f"transaction goes only there [env {SEND_URL_ENV_VAR}].", "URL[,URL...]", envvar=SEND_URL_ENV_VAR),
    GlobalOption(("--allow-public-send",), "When every --send-url endpoint fails, send through --rpc-url.",
                 is_flag=True),
    GlobalOption(("--private-key-env",), "Name of the environment variable holding the hot wallet's private key.",
                 "NAME", default=DEFAULT_KEY_ENV_VAR),
    GlobalOption(("--keystore",), "Encrypted keystore file to sign with instead of the key variable.", "FILE",
                 type=click.Path(dir_okay=False, path_type=Path)),
    GlobalOption(("--keystore-password-env",), "Name of the environment variable holding the keystore password.",
                 "NAME", default=DEFAULT_KEYSTORE_PASSWORD_ENV_VAR),
    GlobalOption(("--vault", "vault_address"), f"The vault's address [env {VAULT_ENV_VAR}].", "ADDRESS",
                 envvar=VAULT_ENV_VAR),
    GlobalOption(("--store", "store_url"), "Execution store: sqlite:///file.db or redis://host:port/db "
                 f"[env {STORE_ENV_VAR}].", "URL", envvar=STORE_ENV_VAR, default=DEFAULT_STORE_URL),
    GlobalOption(("--chain-id",), "Refuse to do anything unless the node is on this chain.", "ID", type=int),
    GlobalOption(("-v", "--verbose"), "Debug logs, and tracebacks on errors.", is_flag=True),
]


@click.group(cls=GlobalOptionsGroup, options=GLOBAL_OPTIONS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="vaultexec")
@click.pass_context
def cli(ctx: click.Context, rpc_url: str | None, private_key_env: str, keystore: Path | None,
        keystore_password_env: str, vault_address: str | None, store_url: str, chain_id: int | None,
        verbose: bool, send_urls: str | None = None, allow_public_send: bool = False) -> None:
    """Run trades through an on-chain vault: deploy and configure it, trade, follow up, report.

    Global options may also be given after COMMAND (`vaultexec status --vault 0x..`); there they win over
    the same option given before it, which wins over its environment variable, which wins over the default.

    The key is read from an environment variable (--private-key-env) or a keystore file, never from the
    command line, and is never printed. Exit codes per error class, JSON output, config files: `vaultexec
    docs cli`; all documentation: `vaultexec docs`.
    """
    # Runs once, just before the subcommand, with the merged global options (see cli.globalopts).
    _Run.verbose = verbose
    _Run.secret_env_vars = tuple(dict.fromkeys((*_Run.secret_env_vars, private_key_env, keystore_password_env)))
    setup_logging(verbose)
    # Refused on every command, also those that never read the key: a key pasted here is a mistake.
    check_env_var_name(private_key_env, "--private-key-env")
    check_env_var_name(keystore_password_env, "--keystore-password-env")
    session = Session(rpc_url=rpc_url, key_env=private_key_env, keystore=keystore,
                      keystore_password_env=keystore_password_env, vault_address=vault_address,
                      store_url=store_url, expected_chain_id=chain_id, verbose=verbose,
                      console=stdout_console(), send_urls=send_urls, allow_public_send=allow_public_send)
    _Run.session = session
    ctx.obj = session
    ctx.call_on_close(session.close)


_SECRET_NAME_OPTIONS = ("--private-key-env", "--keystore-password-env")


def secret_env_var_names(args: Sequence[str]) -> tuple[str, ...]:
    """Names of every variable that may hold a key or password, read from raw `args`, wherever they appear.

    Taken before parsing, so that even a usage error in a subcommand (raised before the group callback
    runs) is scrubbed of a key held in a variable named by --private-key-env after the command.
    """
    names = [DEFAULT_KEY_ENV_VAR, DEFAULT_KEYSTORE_PASSWORD_ENV_VAR]
    for index, arg in enumerate(args):
        option, equals, value = arg.partition("=")
        if option in _SECRET_NAME_OPTIONS:
            if equals:
                names.append(value)
            elif index + 1 < len(args):
                names.append(args[index + 1])
    return tuple(dict.fromkeys(names))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `vaultexec` script: run the command, map any failure to one line + exit code."""
    # Imported here so that the command modules can import `cli` from this module.
    from vaultexec.cli import commands  # noqa: F401  (registers the commands)

    args = list(argv) if argv is not None else sys.argv[1:]
    _Run.verbose = any(arg in VERBOSE_OPTIONS for arg in args)
    _Run.secret_env_vars = secret_env_var_names(args)
    err = stderr_console()
    try:
        code = cli.main(args=args, prog_name="vaultexec", standalone_mode=False)
    except click.exceptions.Abort as exc:  # a declined confirmation, Ctrl-C, or a stop signal
        message, code = abort_outcome(exc)
        print_plain(err, message)
    except _NO_ARGS_IS_HELP as exc:  # bare `vaultexec`: show the help as click would
        print_plain(err, exc.format_message())
        code = exc.exit_code
    except click.ClickException as exc:
        print_plain(err, redact_urls(redact_secrets(f"error (usage): {one_line(usage_message(exc))}",
                                                    output_secrets())))
        if exc.exit_code == 2:
            print_plain(err, "Try 'vaultexec --help' (or COMMAND --help).")
        code = exc.exit_code
    except KeyboardInterrupt:  # outside click's own handling (e.g. while closing the session)
        print_plain(err, INTERRUPTED_MESSAGE)
        code = EXIT_INTERRUPTED
    except Exception as exc:
        code = report_failure(exc, _Run.verbose, output_secrets(), err)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


_NEGATIVE_NUMBER = re.compile(r"-\d[\d_.]*")


def usage_message(exc: click.ClickException) -> str:
    """Click's message, or a clearer one where click misreads the input (a negative amount as an option)."""
    if isinstance(exc, click.NoSuchOption) and _NEGATIVE_NUMBER.fullmatch(exc.option_name):
        return (f"Amount {exc.option_name}: amounts are positive numbers; the SIDE (buy or sell) gives the "
                "direction, e.g. `vaultexec trade WETH/USDC sell 5`.")
    return exc.format_message()


def output_secrets() -> list[str]:
    """What must never be printed: values of the key/password variables, and a key given as their name."""
    return [*secrets_from_env(_Run.secret_env_vars), *filter(looks_like_secret, _Run.secret_env_vars)]
