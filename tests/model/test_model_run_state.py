"""RunState: counters, crash capture with tblib through JSON, exportable copy."""

from __future__ import annotations

import datetime
import traceback

import pytest

from vaultexec.errors import BadInputError
from vaultexec.model import RunState, VersionInfo, dump_json, load_json

T0 = datetime.datetime(2024, 5, 6, 7, 8, 9)


def fail_deep() -> None:
    raise RuntimeError("RPC went away at block 123")


def test_defaults_and_cycles() -> None:
    state = RunState(executor_id="vault-1", version=VersionInfo(tag="v1.2.3"))
    assert state.executor_running and state.cycles == 0 and state.crashed_at is None
    assert state.started_at.tzinfo is None
    state.update_complete_cycle(7)
    assert state.completed_cycle == 7
    state.bump_refreshed(T0)
    assert state.last_refreshed_at == T0
    state.bumb_refreshed()
    assert state.last_refreshed_at > T0


def test_trade_counters_and_last_errors() -> None:
    state = RunState()
    state.record_trade_broadcast()
    state.record_trade_broadcast()
    state.record_trade_failure(5, "Too little received")
    state.record_trade_error(6, "nonce too low, retrying")
    state.record_trade_success(6)
    state.record_trade_repair(5)
    assert (state.trades_broadcast, state.trades_succeeded, state.trades_failed, state.trades_repaired) == (2, 1, 1, 1)
    assert state.last_errors == {5: "Too little received"}


def test_a_reorged_trade_is_no_longer_counted() -> None:
    state = RunState()
    state.record_trade_success(1)
    state.record_trade_failure(2, "Too little received")
    state.record_trade_reorged(1, was_success=True)
    state.record_trade_reorged(2, was_success=False)
    state.record_trade_reorged(3, was_success=True)  # never below zero
    assert (state.trades_succeeded, state.trades_failed) == (0, 0)
    assert state.last_errors == {}


def test_set_fail_traceback_survives_json() -> None:
    state = RunState(executor_id="vault-1")
    try:
        fail_deep()
    except RuntimeError:
        state.set_fail(now=T0)
    assert not state.executor_running and state.crashed_at == T0
    loaded = load_json(RunState, dump_json(state))
    assert loaded == state
    assert loaded.exception is not None
    assert loaded.exception["exception_type"] == "RuntimeError"
    assert loaded.exception["exception_message"] == "RPC went away at block 123"
    assert "fail_deep" in loaded.exception["traceback_text"]
    tb = loaded.get_exception_traceback()
    assert tb is not None
    names = [frame.name for frame in traceback.extract_tb(tb)]
    assert names[-1] == "fail_deep"


def test_set_fail_needs_an_exception() -> None:
    with pytest.raises(BadInputError):
        RunState().set_fail()


def test_exportable_copy_drops_source_and_images() -> None:
    state = RunState(
        source_code="def decide(): ...", visualisation={"image": "0xpng"}, summary_statistics={"return": "0.1"}
    )
    exported = state.make_exportable_copy()
    assert exported.source_code is None and exported.visualisation is None
    assert exported.summary_statistics == {"return": "0.1"}
    assert state.source_code == "def decide(): ..."
    exported.summary_statistics["return"] = "x"
    assert state.summary_statistics["return"] == "0.1"


def test_round_trip_with_lag_and_errors() -> None:
    state = RunState(
        started_at=T0,
        last_refreshed_at=T0,
        market_data_feed_lag=datetime.timedelta(seconds=90.25),
        last_errors={3: "boom"},
    )
    text = dump_json(state)
    assert '"market_data_feed_lag": 90.25' in text and '"last_errors": {"3": "boom"}' in text
    assert RunState.from_json(text) == state
