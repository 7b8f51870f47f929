"""The `vaultexec` subcommands; importing this package registers them on the group."""

from vaultexec.cli.commands import democmd, infocmds, reports, tradecmds, vaultcmds

__all__ = ["democmd", "infocmds", "reports", "tradecmds", "vaultcmds"]
