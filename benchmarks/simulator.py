"""Benchmark: time to generate scenarios (beats, artifacts, labels) and their strap payloads.

.venv/bin/python -m benchmarks.simulator [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from simulators import load_scenario, scenario_names, simulate, wearable_trace


def _best_of(repeat: int, fn: Callable[[], object]) -> float:
    """Shortest wall time of ``repeat`` calls of ``fn``, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Print the best-of-N generation time of each shipped scenario."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{'scenario':<10} {'simulated':>9} {'beats':>6} {'artifacts':>9} "
        f"{'beats ms':>9} {'strap ms':>9}"
    )
    for name in scenario_names():
        scenario = load_scenario(name)
        sim = simulate(scenario)
        rng = np.random.default_rng(0)
        beats_s = _best_of(args.repeat, partial(simulate, scenario))
        strap_s = _best_of(args.repeat, partial(wearable_trace, sim, scenario.device, rng))
        print(
            f"{name:<10} {scenario.duration_s / 60:>7.0f} m {sim.t_s.size:>6} "
            f"{len(sim.artifacts):>9} {beats_s * 1000:>9.1f} {strap_s * 1000:>9.1f}"
        )


if __name__ == "__main__":
    main()
