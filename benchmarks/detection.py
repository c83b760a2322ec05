"""Detection on the simulated population: episodes found, latency, false suggestions, learning.

Each person of `simulators.population` lives ``--hours`` (default 48) of
labelled days, starting at bedtime, streamed in chunks of `CHUNK_S` through
the daemon's pure `vagus.pipeline.Pipeline` (input guard, `hrv.StreamEngine`,
rules). Two evaluators see the same windows:

- the **control** never hears back ("before feedback");
- the **learner** (the pipeline's own evaluator) gets the person's answer to
  each of its first five suggestions, as a feedback event 30 s after it:
  ``helpful`` inside a stress episode (or within 120 s of its end),
  ``did_exercise`` during an exercise bout or its 5-minute recovery,
  ``false_alarm`` otherwise. "After feedback" counts its suggestions and
  the episodes that start after the fifth answer.

Each person sets quiet hours over their sleep (23:00 to their latest wake-up:
they would not want suggestions in bed); an episode that begins in them is
left out of the table (counted). Persons run in parallel processes.
Tune on one population seed, report on another (``--seed``).

    .venv/bin/python benchmarks/detection.py [--persons 50] [--hours 48] [--seed 2024]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from hrv import BeatBatch, BoolArray, FloatArray, StreamEngine
from recommender import Evaluator, FeedbackVerdict, QuietHours, RecommenderConfig, default_config
from simulators.population import SEVERITIES, DayLabels, Person, days, population, simulate_person
from vagus.events import Feedback
from vagus.pipeline import Pipeline

DETECT_WITHIN_S = 120.0
AFTER_EPISODE_S = 120.0  # a suggestion this soon after an episode's end still counts as its own
RECOVERY_S = 300.0  # after an exercise bout, still "during exercise"
ANSWER_AFTER_S = 30.0  # the person answers a suggestion this long after it
CHUNK_S = 600.0  # beats per pipeline call, as a batching intake would hand them over
ROUND_BEATS = 1024  # beats per device per engine round (one round per chunk)
BEDTIME = dt.datetime(2024, 1, 1, 23, 0)
FEEDBACKS = 5


@dataclass(frozen=True, slots=True)
class Lived:
    """What one person's run produced (picklable, scored in the parent process)."""

    labels: DayLabels
    hours: float
    control_t_s: FloatArray  # suggestion times of the evaluator that never hears back
    learner_t_s: FloatArray  # suggestion times of the one that gets the first answers
    answered_s: float  # time of the last of the first FEEDBACKS answers (inf: fewer)


@dataclass
class Tally:
    """Counts over persons for one phase (before / after feedback)."""

    latency: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SEVERITIES})
    false_per_day: list[float] = field(default_factory=list)
    false: int = 0
    in_quiet_hours: int = 0  # episodes left out: they began in the person's quiet hours
    hours: float = 0.0
    during_exercise: int = 0
    exercise_bouts: int = 0


def local_time(t_s: float) -> dt.time:
    """Wall-clock time of a simulated time (s since the first bedtime)."""
    return (BEDTIME + dt.timedelta(seconds=t_s)).time()


def person_config(labels: DayLabels) -> RecommenderConfig:
    """The default rules with quiet hours from bedtime to the person's latest wake-up."""
    rows = labels.of("sleep")
    longest = float(np.max(labels.end_s[rows] - labels.onset_s[rows]))
    wake = (BEDTIME + dt.timedelta(seconds=longest)).time().replace(second=0, microsecond=0)
    quiet = QuietHours(start=BEDTIME.time(), end=wake)
    return default_config().model_copy(update={"quiet_hours": quiet})


def inside(t: FloatArray, labels: DayLabels, kind: str, after_s: float) -> BoolArray:
    """Which times fall in an event of ``kind`` (or within ``after_s`` of its end)."""
    rows = labels.of(kind)
    on, end = labels.onset_s[rows][None, :], labels.end_s[rows][None, :] + after_s
    hit: BoolArray = np.any((t[:, None] >= on) & (t[:, None] < end), axis=1)
    return hit


def verdict(t_s: float, labels: DayLabels) -> FeedbackVerdict:
    """What the person answers to a suggestion at ``t_s``."""
    t = np.array([t_s])
    if inside(t, labels, "stress", AFTER_EPISODE_S)[0]:
        return FeedbackVerdict.HELPFUL
    if inside(t, labels, "exercise", RECOVERY_S)[0]:
        return FeedbackVerdict.DID_EXERCISE
    return FeedbackVerdict.FALSE_ALARM


def live(person: Person, hours: float) -> Lived:
    """Stream the person's days through a pipeline (learner) and a control evaluator."""
    person_days = days(person, max(math.ceil(hours / 24.0), 1))
    labels = person_days.labels
    beats = simulate_person(person_days).batch(person.id)
    end_s = hours * 3600.0
    config = person_config(labels)
    engine = StreamEngine(round_beats=ROUND_BEATS)
    pipeline = Pipeline(engine=engine, rules=config, local_time=local_time)
    control = Evaluator(config)
    control_t: list[float] = []
    learner_t: list[float] = []
    answers: list[float] = []
    cuts = np.searchsorted(beats.t_s, np.arange(CHUNK_S, end_s + CHUNK_S, CHUNK_S))
    start = 0
    for stop in cuts:
        if stop <= start:
            continue
        chunk = BeatBatch(
            device=person.id,
            t_s=beats.t_s[start:stop],
            rr_ms=beats.rr_ms[start:stop],
            gap=beats.gap[start:stop],
        )
        start = int(stop)
        out = pipeline.feed(chunk, now=float(chunk.t_s[-1]))
        times = [local_time(w.t_end_s) for w in out.windows]
        control_t += [tr.t_s for tr in control.feed_many(out.windows, times).triggers]
        for trigger in out.triggers:
            learner_t.append(trigger.t_s)
            if len(answers) < FEEDBACKS:
                t_answer = trigger.t_s + ANSWER_AFTER_S
                answer = Feedback(
                    device=person.id,
                    verdict=verdict(trigger.t_s, labels).value,
                    t_s=t_answer,
                    trigger_id=trigger.id,
                )
                pipeline.feed(answer, now=t_answer)
                answers.append(t_answer)
    return Lived(
        labels=labels,
        hours=hours,
        control_t_s=np.array(control_t),
        learner_t_s=np.array(learner_t),
        answered_s=answers[-1] if len(answers) == FEEDBACKS else math.inf,
    )


def score(t: FloatArray, labels: DayLabels, since_s: float, until_s: float, tally: Tally) -> None:
    """Add the suggestions at ``t`` between ``since_s`` and ``until_s`` to ``tally``."""
    t = t[(t >= since_s) & (t < until_s)]
    quiet = person_config(labels).quiet_hours
    assert quiet is not None
    for i in labels.of("stress"):
        if not since_s <= labels.onset_s[i] < until_s:
            continue
        if quiet.contains(local_time(float(labels.onset_s[i]))):
            tally.in_quiet_hours += 1
            continue
        hits = t[(t >= labels.onset_s[i]) & (t < labels.end_s[i])]
        tally.latency[str(labels.severity[i])].append(
            float(hits[0] - labels.onset_s[i]) if hits.size else math.inf
        )
    false = int(np.sum(~inside(t, labels, "stress", AFTER_EPISODE_S)))
    hours = (until_s - since_s) / 3600.0
    tally.false += false
    tally.hours += hours
    tally.false_per_day.append(false * 24.0 / hours)
    tally.during_exercise += int(np.sum(inside(t, labels, "exercise", RECOVERY_S)))
    bouts = labels.of("exercise")
    tally.exercise_bouts += int(
        np.sum((labels.onset_s[bouts] >= since_s) & (labels.onset_s[bouts] < until_s))
    )


def run(people: Sequence[Person], hours: float, workers: int) -> tuple[Tally, Tally, int]:
    """Live every person (in ``workers`` processes); tally before and after feedback."""
    before, after = Tally(), Tally()
    answered = 0
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        for lived in pool.map(live, people, [hours] * len(people)):
            end_s = lived.hours * 3600.0
            score(lived.control_t_s, lived.labels, 0.0, end_s, before)
            if lived.answered_s < end_s - 3600.0:  # at least an hour left to judge
                answered += 1
                score(lived.learner_t_s, lived.labels, lived.answered_s, end_s, after)
    return before, after, answered


def table(name: str, tally: Tally, persons: int) -> str:
    """The phase's per-severity table and its false-suggestion line (Markdown)."""
    lines = [
        f"{name}",
        "",
        "| severity | episodes | within 120 s | detected at all | latency p50 / p90 (s) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for severity in SEVERITIES:
        lat = np.array(tally.latency[severity])
        found = lat[np.isfinite(lat)]
        p50, p90 = np.percentile(found, [50, 90]) if found.size else (math.nan, math.nan)
        within = np.mean(lat <= DETECT_WITHIN_S) * 100 if lat.size else math.nan
        lines.append(
            f"| {severity} | {lat.size} | {within:.0f} % "
            f"| {found.size / max(lat.size, 1) * 100:.0f} % | {p50:.0f} / {p90:.0f} |"
        )
    per_day = np.array(tally.false_per_day) if tally.false_per_day else np.zeros(1)
    pooled = tally.false * 24.0 / tally.hours if tally.hours else math.nan
    lines += [
        "",
        f"false suggestions per person per 24 h: {pooled:.2f} ({tally.false} in "
        f"{tally.hours / 24:.0f} person-days of {persons} persons; per person max "
        f"{per_day.max():.1f}, none for {np.mean(per_day == 0) * 100:.0f} %); "
        f"suggestions during exercise (bout + {RECOVERY_S:.0f} s): {tally.during_exercise} "
        f"in {tally.exercise_bouts} bouts; episodes left out as they began in quiet hours: "
        f"{tally.in_quiet_hours}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--persons", type=int, default=50)
    parser.add_argument("--hours", type=float, default=48.0)
    parser.add_argument("--seed", type=int, default=2024, help="population seed")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    started = time.perf_counter()
    people = population(args.persons, seed=args.seed)
    before, after, answered = run(people, args.hours, args.workers)
    elapsed = time.perf_counter() - started
    print(f"{args.persons} persons (population seed {args.seed}), {args.hours:g} h each\n")
    print(table("Before feedback (control evaluator, every hour)", before, args.persons))
    print()
    print(table(f"After the first {FEEDBACKS} feedbacks", after, answered))
    print(f"\n({elapsed:.0f} s, {args.workers} processes)")


if __name__ == "__main__":
    main()
