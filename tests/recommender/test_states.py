"""The rule state table: complete where it must be, and the invalid-window policy."""

from __future__ import annotations

import pytest

from recommender import TRANSITIONS, Event, RuleState, next_state

WINDOW_EVENTS = (Event.INVALID, Event.ENTER, Event.BAND, Event.EXIT)


@pytest.mark.parametrize("state", list(RuleState))
def test_every_state_handles_every_window_verdict(state: RuleState) -> None:
    """Each state has a row for invalid, enter, band and exit windows."""
    for event in WINDOW_EVENTS:
        assert (state, event) in TRANSITIONS


@pytest.mark.parametrize("state", list(RuleState))
def test_invalid_windows_never_move_a_rule(state: RuleState) -> None:
    """Policy: a window whose quality is not ok leaves every state as it is."""
    assert next_state(state, Event.INVALID) is state


def test_only_exit_or_stale_abandon_a_hold() -> None:
    """A hold ends only by an exit window, an explicit stale event, or firing."""
    leaving = {e for (s, e), new in TRANSITIONS.items() if s is RuleState.HOLDING and new is not s}
    assert leaving == {Event.EXIT, Event.STALE, Event.HELD}


def test_missing_pair_raises() -> None:
    """A transition absent from the table is a bug and raises."""
    with pytest.raises(ValueError, match="no transition from cooldown on held"):
        next_state(RuleState.COOLDOWN, Event.HELD)
