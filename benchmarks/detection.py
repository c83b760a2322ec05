"""Detection on the simulated population: episodes found, latency, false suggestions, learning.

Each person of `simulators.population` lives two labelled days. Day 1 runs
the default rules on a fresh evaluator ("before feedback"). Then the person
answers the first five suggestions of day 1 (``false_alarm`` to a suggestion
outside every stress episode, ``helpful`` to one inside) on a second
evaluator fed day 1, which goes on to day 2 ("after feedback"). Windows come
from `hrv.sliding_windows` (equal to what `vagus.session.replay_beats` and
the daemon compute, see docs/hrv.md). Each person sets quiet hours over
their own sleep (they would not want suggestions in bed).

    .venv/bin/python benchmarks/detection.py [--persons 50]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from hrv import WindowMetrics, sliding_windows
from recommender import (
    Evaluator,
    Feedback,
    FeedbackVerdict,
    QuietHours,
    RecommenderConfig,
    Trigger,
    default_config,
)
from simulators.population import SEVERITIES, DayLabels, Person, day, population, simulate_person

DETECT_WITHIN_S = 120.0
AFTER_EPISODE_S = 120.0  # a suggestion this soon after an episode's end still counts as its own
RECOVERY_S = 300.0  # after an exercise bout, still "during exercise"
BEDTIME = dt.datetime(2024, 1, 1, 23, 0)
FEEDBACKS = 5


@dataclass
class Tally:
    """Counts over persons for one phase (before / after feedback)."""

    latency: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SEVERITIES})
    false: list[int] = field(default_factory=list)
    during_exercise: int = 0


def person_config(labels: DayLabels) -> RecommenderConfig:
    """The default rules with quiet hours over the person's labelled sleep."""
    (sleep,) = labels.of("sleep")
    wake = BEDTIME + dt.timedelta(seconds=float(labels.end_s[sleep]))
    quiet = QuietHours(start=BEDTIME.time(), end=wake.time().replace(second=0, microsecond=0))
    return default_config().model_copy(update={"quiet_hours": quiet})


def local_times(windows: Sequence[WindowMetrics], offset_s: float) -> list[dt.time]:
    return [(BEDTIME + dt.timedelta(seconds=w.t_end_s - offset_s)).time() for w in windows]


def windows_of(person: Person, offset_s: float) -> tuple[list[WindowMetrics], DayLabels]:
    person_day = day(person)
    sim = simulate_person(person_day)
    batch = sim.batch(person.id, start_t_s=offset_s)
    table = sliding_windows(batch.rr_ms, t_s=batch.t_s, gap=batch.gap)
    return list(table.records(person.id)), person_day.labels


def is_true(trigger: Trigger, labels: DayLabels, offset_s: float) -> bool:
    t = trigger.t_s - offset_s
    rows = labels.of("stress")
    return bool(np.any((labels.onset_s[rows] <= t) & (t < labels.end_s[rows] + AFTER_EPISODE_S)))


def score(triggers: Sequence[Trigger], labels: DayLabels, offset_s: float, tally: Tally) -> None:
    t = np.array([tr.t_s - offset_s for tr in triggers])
    for i in labels.of("stress"):
        inside = t[(t >= labels.onset_s[i]) & (t < labels.end_s[i])]
        tally.latency[str(labels.severity[i])].append(
            float(inside[0] - labels.onset_s[i]) if inside.size else math.inf
        )
    false = sum(not is_true(tr, labels, offset_s) for tr in triggers)
    tally.false.append(false)
    for i in labels.of("exercise"):
        tally.during_exercise += int(
            np.sum((t >= labels.onset_s[i]) & (t < labels.end_s[i] + RECOVERY_S))
        )


def run(n: int) -> tuple[Tally, Tally, float]:
    before, after = Tally(), Tally()
    started = time.perf_counter()
    for person in population(n):
        windows, labels = windows_of(person, 0.0)
        config = person_config(labels)
        fresh = Evaluator(config)
        step = fresh.feed_many(windows, local_times(windows, 0.0))
        score(step.triggers, labels, 0.0, before)

        learner = Evaluator(config)
        answered = 0
        times = local_times(windows, 0.0)
        for w, local in zip(windows, times, strict=True):
            for trigger in learner.feed(w, local_time=local).triggers:
                if answered < FEEDBACKS:
                    verdict = (
                        FeedbackVerdict.HELPFUL
                        if is_true(trigger, labels, 0.0)
                        else FeedbackVerdict.FALSE_ALARM
                    )
                    fb = Feedback(trigger_id=trigger.id, verdict=verdict, t_s=trigger.t_s + 30)
                    learner.feedback(person.id, fb)
                    answered += 1
        tomorrow = dataclasses.replace(person, seed=person.seed + 1)
        windows2, labels2 = windows_of(tomorrow, 86400.0)
        config2 = person_config(labels2)
        learner2 = Evaluator(config2)
        learner2.restore(learner.snapshot())
        step2 = learner2.feed_many(windows2, local_times(windows2, 86400.0))
        score(step2.triggers, labels2, 86400.0, after)
    return before, after, time.perf_counter() - started


def table(name: str, tally: Tally, persons: int) -> str:
    lines = [
        f"### {name}",
        "",
        "| severity | episodes | within 120 s | detected at all | latency p50 / p90 (s) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for severity in SEVERITIES:
        lat = np.array(tally.latency[severity])
        found = lat[np.isfinite(lat)]
        p50, p90 = np.percentile(found, [50, 90]) if found.size else (math.nan, math.nan)
        lines.append(
            f"| {severity} | {lat.size} | {np.mean(lat <= DETECT_WITHIN_S) * 100:.0f} % "
            f"| {found.size / max(lat.size, 1) * 100:.0f} % | {p50:.0f} / {p90:.0f} |"
        )
    false = np.array(tally.false)
    lines += [
        "",
        f"false suggestions per person per 24 h: mean {false.mean():.2f}, "
        f"max {false.max()}, persons with none {np.mean(false == 0) * 100:.0f} % "
        f"({persons} persons); suggestions during exercise (bout + {RECOVERY_S:.0f} s): "
        f"{tally.during_exercise}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=50)
    args = parser.parse_args()
    before, after, elapsed = run(args.persons)
    print(table("Day 1, before feedback", before, args.persons))
    print()
    print(table(f"Day 2, after the first {FEEDBACKS} feedbacks of day 1", after, args.persons))
    print(f"\n({elapsed:.0f} s)")


if __name__ == "__main__":
    main()
