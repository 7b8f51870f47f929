"""Adapters that plug vaultexec into other executors' interfaces (see docs/routing.md)."""
