"""The per-device, per-rule state machine as one table (idle -> holding -> fired -> cooldown).

The evaluator classifies each window into one `Event` for each rule, then
looks the next state up here; nothing else changes a rule's state.

Policy for windows whose quality is not ok: they are `Event.INVALID`, which
never fires and never moves a rule (a hold neither counts nor resets). A hold
is abandoned only explicitly: when no valid window arrived for
``max_invalid_s`` the rule gets `Event.STALE`, recorded as a transition.
"""

from __future__ import annotations

import enum


class RuleState(enum.StrEnum):
    """Where one rule stands for one device."""

    IDLE = "idle"
    HOLDING = "holding"
    FIRED = "fired"
    COOLDOWN = "cooldown"


class Event(enum.StrEnum):
    """What one window means for one rule in its current state."""

    INVALID = "invalid"  # quality not ok: timers pause, nothing fires
    STALE = "stale"  # no valid window for max_invalid_s: an open hold is dropped
    ENTER = "enter"  # every enter condition holds, hold not yet long enough
    HELD = "held"  # enter holds long enough (or repeat_after_s passed) and may fire
    SUPPRESSED = "suppressed"  # would fire, but quiet hours / hourly cap / device gap
    BAND = "band"  # between enter and exit thresholds (hysteresis), or vetoed: no change
    EXIT = "exit"  # an exit condition holds: the episode is over
    COOLED = "cooled"  # the cooldown since the last trigger has elapsed


_S, _E = RuleState, Event

TRANSITIONS: dict[tuple[RuleState, Event], RuleState] = {
    (_S.IDLE, _E.INVALID): _S.IDLE,
    (_S.IDLE, _E.ENTER): _S.HOLDING,
    (_S.IDLE, _E.HELD): _S.FIRED,
    (_S.IDLE, _E.SUPPRESSED): _S.HOLDING,
    (_S.IDLE, _E.BAND): _S.IDLE,
    (_S.IDLE, _E.EXIT): _S.IDLE,
    (_S.HOLDING, _E.INVALID): _S.HOLDING,
    (_S.HOLDING, _E.STALE): _S.IDLE,
    (_S.HOLDING, _E.ENTER): _S.HOLDING,
    (_S.HOLDING, _E.HELD): _S.FIRED,
    (_S.HOLDING, _E.SUPPRESSED): _S.HOLDING,
    (_S.HOLDING, _E.BAND): _S.HOLDING,
    (_S.HOLDING, _E.EXIT): _S.IDLE,
    # Still stressed without reaching the exit threshold: one trigger per
    # episode, unless the rule sets repeat_after_s (then HELD fires again).
    (_S.FIRED, _E.INVALID): _S.FIRED,
    (_S.FIRED, _E.ENTER): _S.FIRED,
    (_S.FIRED, _E.HELD): _S.FIRED,
    (_S.FIRED, _E.SUPPRESSED): _S.FIRED,
    (_S.FIRED, _E.BAND): _S.FIRED,
    (_S.FIRED, _E.EXIT): _S.COOLDOWN,
    (_S.COOLDOWN, _E.INVALID): _S.COOLDOWN,
    (_S.COOLDOWN, _E.ENTER): _S.COOLDOWN,
    (_S.COOLDOWN, _E.BAND): _S.COOLDOWN,
    (_S.COOLDOWN, _E.EXIT): _S.COOLDOWN,
    (_S.COOLDOWN, _E.COOLED): _S.IDLE,
}

# Events that emit a trigger, whatever state they arrive in.
FIRING_EVENTS = frozenset({Event.HELD})


def next_state(state: RuleState, event: Event) -> RuleState:
    """The state after ``event``; a pair missing from the table is a bug, so it raises."""
    try:
        return TRANSITIONS[state, event]
    except KeyError:
        raise ValueError(f"no transition from {state} on {event}") from None
