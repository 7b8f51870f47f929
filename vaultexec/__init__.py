"""vaultexec: run a trading executor's trades through an on-chain vault."""

from vaultexec.errors import VaultExecError

__version__ = "0.1.0"

__all__ = ["VaultExecError", "__version__"]
