"""Execution store: write-ahead records and execution reports of trades, SQLite or Redis (docs/store.md)."""

from __future__ import annotations

from vaultexec.store.factory import open_store
from vaultexec.store.protocol import ExecutionStore, Transition

__all__ = ["ExecutionStore", "Transition", "open_store"]
