"""The `vaultexec` command line (docs/cli.md). `main` is the console-script entry point.

This module stays light: `vaultexec --version` answers without loading web3, rich or click, and Ctrl-C while
the command's modules load ends with one line (exit 130), not a traceback. `cli` (the click group) is
loaded on first access.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["cli", "main"]

#: Same as EXIT_INTERRUPTED of cli.failures (not imported here: that module loads rich).
_EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: `--version` at once; otherwise load the commands and run (cli.app.main)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args == ["--version"]:
            from vaultexec import __version__  # a constant: importlib.metadata alone costs ~60 ms

            sys.stdout.write(f"vaultexec, version {__version__}\n")
            sys.exit(0)
        from vaultexec.cli import commands  # noqa: F401  (registers the commands)
        from vaultexec.cli.app import main as run
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted while starting; nothing was done.\n")
        sys.exit(_EXIT_INTERRUPTED)
    run(args)


def __getattr__(name: str) -> Any:
    if name == "cli":
        from vaultexec.cli.app import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
