"""The `vaultexec` command line (docs/cli.md). `main` is the console-script entry point."""

from vaultexec.cli.app import cli, main

__all__ = ["cli", "main"]
