"""The simulated population: ranges of its people and the labels of their days."""

from __future__ import annotations

import numpy as np

from simulators.population import DAY_S, SEVERITIES, day, days, population


def test_population_spans_the_stated_ranges() -> None:
    """50 people: resting HR within 50-85 bpm and RMSSD within 15-90 ms, both widely spread."""
    people = population(50)
    hr = np.array([p.rest_hr_bpm for p in people])
    rmssd = np.array([p.rest_rmssd_ms for p in people])
    assert len({p.id for p in people}) == 50
    assert hr.min() >= 50 and hr.max() <= 85  # noqa: PT018
    assert rmssd.min() >= 15 and rmssd.max() <= 90  # noqa: PT018
    assert np.ptp(hr) > 25
    assert np.ptp(rmssd) > 40


def test_day_labels_match_its_timeline() -> None:
    """A day lasts 24 h and labels sleep, every severity, spikes and exercise, in order."""
    person_day = day(population(3)[2])
    labels = person_day.labels
    assert person_day.scenario.duration_s >= DAY_S
    assert set(labels.severity[labels.of("stress")]) == set(SEVERITIES)
    assert labels.of("sleep").size == 1
    assert labels.of("spike").size == 3
    assert labels.of("exercise").size == 2
    assert np.all(labels.end_s > labels.onset_s)
    events = np.sort(labels.onset_s)
    assert np.all(np.diff(events) > 0)


def test_days_run_on_and_begin_with_the_single_day() -> None:
    """Two days are one scenario: the first is `day`, the second starts a new night >= 24 h
    later with its own draw of events."""
    person = population(3)[1]
    one, two = day(person), days(person, 2)
    assert two.scenario.segments[: len(one.scenario.segments)] == one.scenario.segments
    sleeps = two.labels.onset_s[two.labels.of("sleep")]
    assert sleeps.size == 2
    assert sleeps[1] >= DAY_S
    assert two.labels.of("stress").size == 2 * one.labels.of("stress").size
    assert not np.array_equal(
        two.labels.end_s[two.labels.of("stress")][6:] - sleeps[1],
        one.labels.end_s[one.labels.of("stress")],
    )
