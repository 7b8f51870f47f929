"""RunState: in-memory status of one executor launch, exported to the web API (trade-executor's seed 000).

Not persistent; JSON-serialisable so a webhook can show why the executor crashed (the traceback is
serialised with tblib). Extra counters track our own execution: trades broadcast, succeeded, failed,
repaired, and the last error per trade.
"""

from __future__ import annotations

import copy
import datetime
import sys
import traceback
import types
from dataclasses import dataclass, field
from typing import Any

from tblib import Traceback

from vaultexec.errors import BadInputError
from vaultexec.model.serialisation import JsonModel

#: Serialised exception: type, message, formatted traceback and tblib's traceback dict.
ExceptionData = dict[str, Any]


def utc_now() -> datetime.datetime:
    """Current time as a naive UTC datetime (the model's convention)."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def _naive(value: object, what: str) -> datetime.datetime:
    if not isinstance(value, datetime.datetime) or value.tzinfo is not None:
        raise BadInputError(f"{what}: expected a naive UTC datetime, got {value!r:.80}")
    return value


def _check_trade_error(trade_id: object, error: object) -> None:
    if isinstance(trade_id, bool) or not isinstance(trade_id, int) or not isinstance(error, str):
        raise BadInputError(f"trade errors are (int trade id, str message), got ({trade_id!r:.40}, {error!r:.80})")


@dataclass
class VersionInfo(JsonModel):
    """Version of the running executor image."""

    tag: str | None = None
    commit_message: str | None = None
    commit_hash: str | None = None


@dataclass
class RunState(JsonModel):
    """Status of one executor launch, shared by its main loop and its web API. Times are naive UTC."""

    executor_id: str | None = None
    last_refreshed_at: datetime.datetime = field(default_factory=utc_now)
    started_at: datetime.datetime = field(default_factory=utc_now)
    executor_running: bool = True
    #: The last completed strategy cycle number.
    completed_cycle: int | None = None
    cycles: int = 0
    position_trigger_checks: int = 0
    position_revaluations: int = 0
    #: Positions needing manual intervention; 0 = all good.
    frozen_positions: int = 0
    crashed_at: datetime.datetime | None = None
    exception: ExceptionData | None = None
    #: Strategy source code; not exported (see `make_exportable_copy`).
    source_code: str | None = None
    #: Strategy visualisation images (opaque); not exported.
    visualisation: dict[str, Any] | None = field(default_factory=dict)
    summary_statistics: dict[str, Any] = field(default_factory=dict)
    market_data_feed_lag: datetime.timedelta | None = None
    version: VersionInfo = field(default_factory=VersionInfo)
    trades_broadcast: int = 0
    trades_succeeded: int = 0
    trades_failed: int = 0
    trades_repaired: int = 0
    #: Trade id -> last error message seen for it.
    last_errors: dict[int, str] = field(default_factory=dict)

    def validate(self) -> None:
        """Counters are never negative."""
        counters = ("cycles", "position_trigger_checks", "position_revaluations", "frozen_positions",
                    "trades_broadcast", "trades_succeeded", "trades_failed", "trades_repaired")
        for name in counters:
            if getattr(self, name) < 0:
                raise BadInputError(f"RunState.{name} {getattr(self, name)} must not be negative")

    def bump_refreshed(self, now: datetime.datetime | None = None) -> None:
        """Record that the state was just refreshed."""
        self.last_refreshed_at = utc_now() if now is None else _naive(now, "bump_refreshed now")

    def bumb_refreshed(self) -> None:
        """The seed's spelling of `bump_refreshed`, kept for callers written against it."""
        self.bump_refreshed()

    def update_complete_cycle(self, cycle: int) -> None:
        """Record cycle number `cycle` as completed."""
        if isinstance(cycle, bool) or not isinstance(cycle, int):
            raise BadInputError(f"update_complete_cycle: cycle must be an int, got {cycle!r:.80}")
        self.completed_cycle = cycle
        self.bump_refreshed()

    @staticmethod
    def serialise_exception(error: BaseException | None = None) -> ExceptionData:
        """JSON-safe form of `error` (default: the exception being handled) with its tblib traceback."""
        if error is None:
            error = sys.exc_info()[1]
        if error is None:
            raise BadInputError("serialise_exception needs an exception; none is being handled")
        tb = error.__traceback__
        return {
            "exception_type": type(error).__qualname__,
            "exception_message": str(error),
            "traceback_text": "".join(traceback.format_exception(error)),
            "tb": Traceback(tb).to_dict() if tb is not None else None,
        }

    def set_fail(self, error: BaseException | None = None, now: datetime.datetime | None = None) -> None:
        """Put the executor in the crashed state, keeping the (current) exception for the web API.

        The crash time is also the last refresh (as trade-executor does).
        """
        exception = self.serialise_exception(error)
        crashed_at = utc_now() if now is None else _naive(now, "set_fail now")
        self.exception = exception
        self.crashed_at = crashed_at
        self.last_refreshed_at = crashed_at
        self.executor_running = False

    def get_exception_traceback(self) -> types.TracebackType | None:
        """The crash's traceback rebuilt by tblib (e.g. to re-raise with it after loading from JSON)."""
        if not self.exception or not self.exception.get("tb"):
            return None
        result: types.TracebackType = Traceback.from_dict(self.exception["tb"]).as_traceback()
        return result

    def make_exportable_copy(self) -> RunState:
        """Deep copy without source code and visualisation images, for the public API."""
        exported = copy.deepcopy(self)
        exported.source_code = None
        exported.visualisation = None
        return exported

    def record_trade_broadcast(self) -> None:
        self.trades_broadcast += 1

    def record_trade_success(self, trade_id: int) -> None:
        """Count a success; the trade's last error is cleared."""
        self.trades_succeeded += 1
        self.last_errors.pop(trade_id, None)

    def record_trade_failure(self, trade_id: int, error: str) -> None:
        _check_trade_error(trade_id, error)
        self.trades_failed += 1
        self.last_errors[trade_id] = error

    def record_trade_error(self, trade_id: int, error: str) -> None:
        """Remember an error for a trade without counting it failed (e.g. a retried broadcast)."""
        _check_trade_error(trade_id, error)
        self.last_errors[trade_id] = error

    def record_trade_repair(self, trade_id: int) -> None:
        self.trades_repaired += 1

    def record_trade_reorged(self, trade_id: int, was_success: bool) -> None:
        """Undo the count of a settled trade a reorg took back to pending (it is counted again when it
        settles anew); never below zero."""
        if was_success:
            self.trades_succeeded = max(0, self.trades_succeeded - 1)
        else:
            self.trades_failed = max(0, self.trades_failed - 1)
            self.last_errors.pop(trade_id, None)
