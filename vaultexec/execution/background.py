"""One step on a helper thread while the executor's thread does other work: the executor sends a chunk (the
node takes tens of ms to accept a hundred transactions) while it settles the chunk before it (Python work),
and fetches a mined chunk's receipts while it plans the next chunk.

The step waits on its node most of the time, so the two overlap; a CPU-bound helper would only slow the
executor's own requests (each reply waits for the interpreter lock). Leaving the block joins the step and
raises its error, unless the block itself raised (its error wins; the step's is logged).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType

logger = logging.getLogger(__name__)


class InBackground:
    """`with InBackground(step): ...` runs `step()` on a thread for the duration of the block; or `start()`
    now and `join()` later."""

    def __init__(self, step: Callable[[], None], name: str = "vaultexec-send") -> None:
        self._step = step
        self._error: BaseException | None = None
        # a daemon: an interrupted process exits at once, as after a crash (the write-ahead covers that)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            self._step()
        except BaseException as exc:  # handed to the executor's thread when it leaves the block
            self._error = exc

    def start(self) -> InBackground:
        self._thread.start()
        return self

    def join(self, error: BaseException | None = None) -> None:
        """Wait for the step; raise its error, or log it when `error` (the caller's own) is on its way up."""
        self._thread.join()
        if self._error is None:
            return
        if error is None:
            raise self._error
        logger.error("the background step failed too: %r", self._error)

    def __enter__(self) -> InBackground:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.join(error)
