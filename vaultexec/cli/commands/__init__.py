"""The `vaultexec` subcommands; importing this package registers them on the group."""

from vaultexec.cli.commands import democmd, reports, tradecmds, vaultcmds

__all__ = ["democmd", "reports", "tradecmds", "vaultcmds"]
