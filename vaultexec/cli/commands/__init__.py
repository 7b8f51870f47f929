"""The `vaultexec` subcommands; importing this package registers them on the group."""

from vaultexec.cli.commands import democmd, infocmds, reports, safecmds, tradecmds, vaultcmds

__all__ = ["democmd", "infocmds", "reports", "safecmds", "tradecmds", "vaultcmds"]
