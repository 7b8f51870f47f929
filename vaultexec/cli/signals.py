"""SIGTERM and SIGHUP handled like Ctrl-C in long-running commands, so their cleanup (stopping anvil) runs.

Python only turns SIGINT into KeyboardInterrupt; by default SIGTERM (a service manager, `kill`) and SIGHUP
(the terminal closed) end the process at once, leaving anvil children running.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: Signals that mean "stop" besides SIGINT.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"received {signal.Signals(signum).name}")


@contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread; handlers restored after."""
    previous = {signum: signal.signal(signum, _interrupt) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
