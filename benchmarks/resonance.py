"""Benchmark: resonance-frequency assessment on simulated people, through ``vagus resonance``.

.venv/bin/python -m benchmarks.resonance [--people 200] [--ignorers 40]

Each simulated person (`simulators.assessment`, resonance rates spread
evenly over 4.5-6.5 breaths/min, seeds 1..N: apart from the seeds 1000-1099
the score weights were set on) breathes the issue's protocol; their beats
are written as a recording and run through ``vagus resonance --recording
FILE --schedule 6.5:120,... --start 0`` in this process (the recording's
times count from the pacer's start, as the simulator's do). Printed: the share whose
chosen rate is within ±0.5 breaths/min of the true one, the same for people
who ignore the pacer (own rate, irregular) flagged as not followed, one
assessment's per-rate table, and the wall time.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import tempfile
import time
from pathlib import Path

from simulators import simulate
from simulators.assessment import DEFAULT_SCHEDULE, assessment, draw_breather
from simulators.breathing import Adherence
from vagus.cli import main as vagus

SCHEDULE = ",".join(f"{rate:.1f}:{seconds:.0f}" for rate, seconds in DEFAULT_SCHEDULE)


def _run(path: Path) -> list[str]:
    """``vagus resonance --recording path``: its printed lines."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        vagus(["resonance", "--recording", str(path), "--schedule", SCHEDULE, "--start", "0"])
    return out.getvalue().splitlines()


def _recording(folder: Path, name: str, t_s: list[float], rr_ms: list[float]) -> Path:
    path = folder / f"{name}.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["t_s", "rr_ms"])
        writer.writerows(zip(t_s, rr_ms, strict=True))
    return path


def _chosen(lines: list[str]) -> float | None:
    last = lines[-1]
    return None if "none" in last else float(last.split()[1])


def main() -> None:
    """Print accuracy, non-adherence flags and one assessment's table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--ignorers", type=int, default=40, help="people ignoring the pacer")
    args = parser.parse_args()
    started = time.perf_counter()
    n = len(DEFAULT_SCHEDULE)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        hits, misses, example, false_flags = 0, [], None, 0
        for i in range(args.people):
            truth = 4.5 + 2.0 * (i + 0.5) / args.people
            person = draw_breather(i + 1, rate_bpm=truth)
            sim = simulate(assessment(person, artifact_rate=0.002))
            lines = _run(_recording(folder, f"p{i}", sim.t_s.tolist(), sim.rr_ms.tolist()))
            chosen = _chosen(lines)
            false_flags += sum("NOT FOLLOWED" in line for line in lines)
            if chosen is not None and abs(chosen - truth) <= 0.5:
                hits += 1
            else:
                misses.append((round(truth, 2), chosen))
            if example is None and abs(truth - 5.5) < 0.1:
                example = (truth, lines)
        flagged_people = flagged_rates = 0
        for i in range(args.ignorers):
            mode = Adherence.OWN_RATE if i % 2 == 0 else Adherence.IRREGULAR
            person = draw_breather(5000 + i)
            sim = simulate(assessment(person, adherence=[mode] * n))
            lines = _run(_recording(folder, f"q{i}", sim.t_s.tolist(), sim.rr_ms.tolist()))
            flagged_people += _chosen(lines) is None
            flagged_rates += sum("NOT FOLLOWED" in line for line in lines)
        one_off = 0
        for i in range(args.ignorers):
            person = draw_breather(7000 + i)
            skip = i % n
            how = [Adherence.IRREGULAR if k == skip else Adherence.FOLLOWS for k in range(n)]
            sim = simulate(assessment(person, adherence=how))
            lines = _run(_recording(folder, f"r{i}", sim.t_s.tolist(), sim.rr_ms.tolist()))
            rows = [line for line in lines if line[:5].strip().replace(".", "").isdigit()]
            one_off += "NOT FOLLOWED" in rows[skip]
    wall = time.perf_counter() - started
    print(f"schedule {SCHEDULE}, settle 15 s per step, recordings through vagus resonance")
    print(
        f"accuracy: {hits}/{args.people} = {100 * hits / args.people:.1f} % within ±0.5 "
        f"breaths/min (true rates 4.5-6.5, evenly spread)"
    )
    if misses:
        print(f"misses (true, chosen): {misses}")
    print(f"followers' rates marked not followed: {false_flags}/{args.people * n}")
    print(
        f"ignoring the pacer (own rate / irregular): {flagged_people}/{args.ignorers} people "
        f"flagged, {flagged_rates}/{args.ignorers * n} rates marked not followed"
    )
    print(f"one rate breathed irregularly: flagged in {one_off}/{args.ignorers} people")
    if example is not None:
        print(f"\none assessment (true resonance {example[0]:.2f} breaths/min):")
        print("\n".join(example[1]))
    print(f"\nwall time {wall:.1f} s")


if __name__ == "__main__":
    main()
