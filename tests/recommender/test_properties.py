"""Properties of the evaluator over arbitrary window sequences (hypothesis)."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from hrv import Quality, WindowMetrics
from recommender import Evaluator, default_config
from tests.recommender.windows import window

RULE = default_config().rules[0]

sequences = st.lists(
    st.tuples(
        st.floats(0, 100, allow_nan=False),
        st.sampled_from([Quality.OK, Quality.OK, Quality.OK, Quality.ARTIFACTS, Quality.GAP]),
    ),
    max_size=400,
)


def as_windows(seq: list[tuple[float, Quality]]) -> list[WindowMetrics]:
    return [window(i * 5.0, stress, quality=q) for i, (stress, q) in enumerate(seq)]


@settings(max_examples=60, deadline=None)
@given(sequences)
def test_triggers_only_on_valid_qualifying_windows_and_spaced(
    seq: list[tuple[float, Quality]],
) -> None:
    """Every trigger comes from an ok window meeting the enter conditions (the level path)
    or with the sustained evidence at its decision interval (the CUSUM path); cooldowns
    hold."""
    windows = as_windows(seq)
    step = Evaluator(default_config()).feed_many(windows)
    by_t = {w.t_end_s: w for w in windows}
    assert RULE.evidence is not None
    for trigger in step.triggers:
        w = by_t[trigger.t_s]
        assert w.quality is Quality.OK
        level = all(c.holds(w) for c in RULE.enter)
        assert level or trigger.reason["evidence_z_min"] >= RULE.evidence.h
    times = [t.t_s for t in step.triggers]
    assert all(b - a >= RULE.cooldown_s for a, b in itertools.pairwise(times))


@settings(max_examples=40, deadline=None)
@given(sequences)
def test_one_at_a_time_equals_sequence(seq: list[tuple[float, Quality]]) -> None:
    """Feeding windows one by one gives the same triggers and outcomes as feed_many."""
    windows = as_windows(seq)
    whole = Evaluator(default_config()).feed_many(windows)
    single = Evaluator(default_config())
    steps = [single.feed(w) for w in windows]
    assert [t for s in steps for t in s.triggers] == list(whole.triggers)
    assert [o for s in steps for o in s.outcomes] == list(whole.outcomes)


@settings(max_examples=40, deadline=None)
@given(sequences)
def test_invalid_windows_never_fire(seq: list[tuple[float, Quality]]) -> None:
    """A sequence of only bad-quality windows fires nothing, however high the stress."""
    windows = [window(i * 5.0, s, quality=Quality.ARTIFACTS) for i, (s, _) in enumerate(seq)]
    assert Evaluator(default_config()).feed_many(windows).triggers == ()
