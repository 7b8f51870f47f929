"""The one exception hierarchy of vaultexec, split by what the caller can do about it.

This module imports nothing of ours, so every layer (model included) may raise from it.
A message says what happened, with the numbers, and what to do next.
"""

from __future__ import annotations

from decimal import Decimal


class VaultExecError(Exception):
    """Root of every error vaultexec raises on purpose."""


class BadInputError(VaultExecError, ValueError):
    """The caller gave a value we refuse (amount, tolerance, address, decimals...). Fix the input."""


class IllegalTransitionError(VaultExecError):
    """A trade was asked to move to a lifecycle state it cannot reach from its current one."""


class SerialisationError(VaultExecError, ValueError):
    """Stored or received data does not load into the model (unknown/missing field, wrong type)."""


class ExecutorRecordError(BadInputError, SerialisationError):
    """A trade-executor record (`model.compat`) we refuse: both a bad input and data that does not load."""


class ToolchainError(VaultExecError):
    """A required external tool (anvil, forge, solc, redis-server) is missing or failed to start."""


class RouteNotFoundError(VaultExecError):
    """No configured route can carry this trade (unknown pair, no pool, no liquidity)."""


class GuardRefusedError(VaultExecError):
    """The vault's guard would refuse this trade (asset, router or pool not allowed, limit reached)."""


class OracleLossRefusedError(GuardRefusedError):
    """At its minimum receive the trade could lose more, at the vault's oracle prices, than the vault's loss
    bound allows (per-execute cap or rolling budget): the vault would refuse it, so nothing was signed.

    Values are in the vault's valuation unit (USD for USD feeds) as Decimals.
    """

    def __init__(self, message: str, trade_id: int, loss: Decimal, max_loss: Decimal) -> None:
        super().__init__(message)
        self.trade_id = trade_id
        self.loss = loss
        self.max_loss = max_loss


class InsufficientBalanceError(VaultExecError):
    """The vault holds less than the trade needs to spend."""


class SimulationRevertedError(VaultExecError):
    """Pre-flight eth_call reverted; nothing was sent. `reason` holds the decoded revert."""

    def __init__(self, message: str, reason: str | None = None, raw: bytes | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.raw = raw


class RPCError(VaultExecError):
    """The node answered with an error or could not be reached."""


class TransientRPCError(RPCError):
    """A fault worth retrying (connection refused/reset, timeout, HTTP 5xx/429)."""


class PermanentRPCError(RPCError):
    """A fault that retrying will not cure (bad request, method missing, invalid params)."""


class BroadcastError(VaultExecError):
    """A signed transaction could not be broadcast (rejected by the node)."""


class TransactionTimeoutError(VaultExecError):
    """A transaction was not confirmed within the configured timeout."""


class NodeBehindError(RPCError):
    """The node's nonce for the hot wallet is below nonces the store holds as used: it lags or was rewound.

    Nothing was signed (signing would reuse a nonce); run resume(), which re-sends the stored transactions.
    """


class FeeCapExceededError(VaultExecError):
    """The fee the chain needs now is above the configured cap: refused before signing, nothing was sent."""

    def __init__(self, message: str, needed: int = 0, cap: int = 0) -> None:
        super().__init__(message)
        self.needed = needed
        self.cap = cap


class NonceConsumedError(VaultExecError):
    """The nonce of our transaction was used by another transaction; ours can never land."""


class WalletError(VaultExecError):
    """The hot wallet could not be loaded or used (missing key, bad keystore password...)."""


class StoreError(VaultExecError):
    """The execution store refused or failed an operation."""


class DuplicateRecordError(StoreError):
    """A record with this id already exists; the store is append-only."""


class RecordNotFoundError(StoreError):
    """No record with this id is stored."""


class CorruptRecordError(StoreError):
    """A stored record cannot be loaded; the message names it."""


class StoreUnavailableError(StoreError):
    """The store backend cannot be reached (e.g. Redis down); the write did not happen."""


class TransactionClaimedError(StoreError):
    """A trade's transaction hash, or its (chain, wallet, nonce), already belongs to another stored trade.

    Two executors signed the same transaction (or the same nonce) for different trades; nothing was written.
    """


class LeaseHeldError(StoreError):
    """Another executor holds the lease on this vault or hot wallet; nothing was signed.

    `holder` describes it (host, pid, since); wait for it to finish, or stop it.
    """

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


class LeaseLostError(StoreError):
    """This executor's lease passed to another executor (it expired while we were paused); the write was refused."""


class ConfigurationError(VaultExecError):
    """Connection, chain id or deployment configuration is wrong (wrong chain, unknown address...)."""


class RPCReplyError(RPCError):
    """The node answered a JSON-RPC request with an error object; `code`, `rpc_message`, `data` keep it."""

    def __init__(self, message: str, method: str, code: int, rpc_message: str, data: object = None) -> None:
        super().__init__(message)
        self.method = method
        self.code = code
        self.rpc_message = rpc_message
        self.data = data


class NodeRejectedError(RPCReplyError, PermanentRPCError):
    """The node refused the request itself (invalid params, unknown method, reverted call...)."""


class NodeBusyError(RPCReplyError, TransientRPCError):
    """The node answered "later" (rate limited, overloaded); retried with backoff."""


class TransientHTTPError(TransientRPCError):
    """HTTP 429 or 5xx from the node or a proxy; `retry_after` (seconds) when the server said so."""

    def __init__(self, message: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class StoreTransitionError(StoreError, IllegalTransitionError):
    """The store refused a state update that would move a trade backwards (or out of a final state)."""


class SettlementError(VaultExecError):
    """A landed transaction's logs do not tell what the trade did (no `Executed` event, unknown asset).

    The trade stays pending; look at the transaction, then close it by hand with
    `repair(trade_ids, note, force=True)` (`vaultexec repair --trade-id N --force --note '...'`).
    """


class RepairRefusedError(VaultExecError):
    """`repair()` will not touch a trade whose transaction could still land or already settled."""


class PreflightRefusedError(SimulationRevertedError):
    """Pre-flight simulation of a batch refused one or more trades; `trade_ids` lists them. Nothing was sent."""

    def __init__(self, message: str, trade_ids: list[int], reason: str | None = None,
                 raw: bytes | None = None) -> None:
        super().__init__(message, reason, raw)
        self.trade_ids = trade_ids


class PriceMovedError(VaultExecError):
    """The fresh quote is worse than the executor's decision price by more than `planned_max_slippage`.

    The market moved (or the pool is being manipulated) since the trade was decided; nothing was sent.
    """


class ReceiptLogsMissingError(SettlementError):
    """A receipt was seen but the chain has no logs of its transaction any more: its block was reorged out.

    The trade is tracked again (its transaction may land in another block); nothing to do by hand.
    """
