"""Forward-only state rule of the store, and the time key it indexes by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaultexec.errors import IllegalTransitionError, StoreError, StoreTransitionError
from vaultexec.store.codec import from_time_key, normalise_vault, to_time_key
from vaultexec.store.lifecycle import STATUS_RANK, check_reorg, check_update

FORWARD = [
    ("planned", "started"), ("started", "broadcasted"), ("broadcasted", "success"),
    ("broadcasted", "failed"), ("failed", "repaired"), ("planned", "broadcasted"),
    ("started", "repaired"), ("broadcasted", "repaired"),
    ("started", "started"), ("broadcasted", "broadcasted"), ("planned", "planned"),
]
REFUSED = [
    ("started", "planned"), ("broadcasted", "started"), ("success", "broadcasted"), ("failed", "started"),
    ("success", "failed"), ("failed", "success"), ("success", "success"), ("failed", "failed"),
    ("success", "repaired"), ("planned", "repaired"), ("repaired", "failed"), ("repaired", "repaired"),
    ("repair_entry", "success"), ("expired", "started"),
]


@pytest.mark.parametrize(("stored", "new"), FORWARD)
def test_forward_updates_pass(stored: str, new: str) -> None:
    check_update(7, stored, new)


@pytest.mark.parametrize(("stored", "new"), REFUSED)
def test_backward_updates_are_refused_naming_both_states(stored: str, new: str) -> None:
    with pytest.raises(StoreTransitionError, match=rf"Trade 7: cannot move from {stored} to {new}"):
        check_update(7, stored, new)


def test_transition_error_is_both_store_and_transition_error() -> None:
    with pytest.raises(StoreError):
        check_update(1, "success", "planned")
    with pytest.raises(IllegalTransitionError):
        check_update(1, "success", "planned")


def test_settled_to_broadcasted_points_at_reorg_method() -> None:
    with pytest.raises(StoreTransitionError, match="revert_to_broadcasted"):
        check_update(3, "success", "broadcasted")


def test_unknown_status_is_refused() -> None:
    with pytest.raises(StoreTransitionError, match="'exploded' is unknown"):
        check_update(3, "planned", "exploded")


@pytest.mark.parametrize("stored", ["success", "failed"])
def test_reorg_from_settled_to_broadcasted(stored: str) -> None:
    check_reorg(5, stored, "broadcasted")


@pytest.mark.parametrize(("stored", "new"), [("broadcasted", "broadcasted"), ("started", "broadcasted"),
                                             ("success", "started"), ("repaired", "broadcasted")])
def test_reorg_refused_otherwise(stored: str, new: str) -> None:
    with pytest.raises(StoreTransitionError):
        check_reorg(5, stored, new)


@given(st.sampled_from(sorted(STATUS_RANK)), st.sampled_from(sorted(STATUS_RANK)))
def test_no_accepted_update_lowers_rank(stored: str, new: str) -> None:
    try:
        check_update(1, stored, new)
    except StoreTransitionError:
        return
    assert STATUS_RANK[new] >= STATUS_RANK[stored]


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)))
def test_time_key_round_trips_to_the_microsecond(moment: datetime) -> None:
    assert from_time_key(to_time_key(moment)) == moment
    assert to_time_key(moment) < 2**53  # exact as a Redis sorted-set score (a double)


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)),
       st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=3650)))
def test_time_key_keeps_order(moment: datetime, step: timedelta) -> None:
    assert to_time_key(moment) < to_time_key(moment + step)


def test_aware_datetime_uses_its_utc_instant() -> None:
    naive = datetime(2024, 5, 1, 12, 0)
    assert to_time_key(naive.replace(tzinfo=UTC)) == to_time_key(naive)


def test_vault_address_is_normalised_and_checked() -> None:
    assert normalise_vault("0x" + "AB" * 20) == "0x" + "ab" * 20
    with pytest.raises(ValueError, match="not a 0x-prefixed 20-byte hex address"):
        normalise_vault("0x1234")
