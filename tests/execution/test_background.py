"""`execution.background.InBackground`: the step runs beside the block, its error comes out at the end."""

from __future__ import annotations

import logging
import threading

import pytest

from vaultexec.execution.background import InBackground


def test_the_step_runs_beside_the_block() -> None:
    started, released = threading.Event(), threading.Event()
    order: list[str] = []

    def step() -> None:
        started.set()
        assert released.wait(5)  # only the block can release it: the two run at once
        order.append("step")

    with InBackground(step):
        assert started.wait(5)
        order.append("block")
        released.set()
    assert order == ["block", "step"]  # leaving the block waited for the step


def test_the_steps_error_is_raised_when_the_block_ends() -> None:
    def step() -> None:
        raise ValueError("send failed")

    with pytest.raises(ValueError, match="send failed"), InBackground(step):
        pass


def test_the_blocks_error_wins_and_the_steps_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def step() -> None:
        raise ValueError("send failed")

    with caplog.at_level(logging.ERROR), pytest.raises(KeyError), InBackground(step):
        raise KeyError("settle failed")
    assert "send failed" in caplog.text
