"""Speed of the HRV engine: batch against references, streaming a fleet, memory per device.

Run ``.venv/bin/python benchmarks/hrv_engine.py`` (``--quick`` for a short
smoke run). Prints, side by side:

1. batch, 24 h of RR (the real 60-min recording tiled), 60 s windows every
   5 s: seconds per window for this engine (full metric set with artifact
   correction and 2-minute spectral figures, without the spectral figures,
   without either, and its time-domain core alone), an O(n) cumulative-sum numpy
   formulation of mean/SDNN/RMSSD/pNN50 (the near-limit reference), and
   NeuroKit2 ``hrv_time`` and hrv-analysis per window (timed on a sample);
2. streaming: 10,000 devices at one beat per second, pushed as columns
   every 1 s and every 5 s, with and without the spectral figures: sustained
   beats per second (one core; numpy's element-wise work is
   single-threaded), ring memory per device, and the
   latency from a window's last beat to the push that emits it, in beats and
   in seconds of beat time (median / p99 / max; the push cadence included);
3. the same for 5-minute windows.

Streaming is timed after a warm-up of one window (or spectral span) length, so rings are full.
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

import hrv
from hrv._metrics import quantize_rr, time_domain
from hrv._windows import window_bounds, window_ends

DATA = Path(__file__).parent.parent / "tests" / "data" / "pyhrv_long_60min.csv"


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Fastest of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def cumsum_reference(rr: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, ...]:
    """Mean RR, SDNN, RMSSD, pNN50 of windows ``[lo, hi)`` from float prefix sums: O(n)."""
    c1 = np.concatenate([[0.0], np.cumsum(rr)])
    c2 = np.concatenate([[0.0], np.cumsum(rr * rr)])
    d = np.diff(rr)
    cd = np.concatenate([[0.0], np.cumsum(d * d)])
    c50 = np.concatenate([[0], np.cumsum(np.abs(d) > 50)])
    n = hi - lo
    s1, s2 = c1[hi] - c1[lo], c2[hi] - c2[lo]
    mean = s1 / n
    sdnn = np.sqrt((s2 - s1 * mean) / (n - 1))
    rmssd = np.sqrt((cd[hi - 1] - cd[lo]) / (n - 1))
    pnn50 = 100.0 * (c50[hi - 1] - c50[lo]) / n
    return mean, sdnn, rmssd, pnn50


def engine_core(rr: np.ndarray, t: np.ndarray) -> object:
    """The engine's time-domain core: quantize, window bounds, exact integer window sums."""
    lo, hi = window_bounds(t, window_ends(float(t[0]), float(t[-1]), 5.0), 60.0)
    return time_domain(quantize_rr(rr), lo, hi)


def hrv_analysis_time_domain() -> Callable[[list[float]], object] | str:
    """hrv-analysis's ``get_time_domain_features``, or why it cannot be imported.

    It comes with the ``bench`` extra (``pip install -e '.[bench]'``), which
    pins a nolds that imports on Python 3.11.
    """
    try:
        from hrvanalysis import get_time_domain_features
    except Exception as exc:  # report whatever stops it
        return f"unavailable ({type(exc).__name__}: {exc}); install the bench extra"
    return get_time_domain_features  # type: ignore[no-any-return]


def batch_section(quick: bool) -> None:
    """Part 1: a day of RR in 60 s windows every 5 s."""
    base = np.loadtxt(DATA, skiprows=1)
    reps = 2 if quick else int(np.ceil(86400 / (base.sum() / 1000)))
    rr = np.tile(base, reps)
    t = np.cumsum(rr) / 1000
    ends = window_ends(float(t[0]), float(t[-1]), 5.0)
    lo, hi = window_bounds(t, ends, 60.0)
    n_win = ends.size
    print(f"batch: {rr.size} beats, {t[-1] / 3600:.1f} h, {n_win} windows (60 s every 5 s)")

    rows: list[tuple[str, float]] = []
    rows.append(
        ("engine, full metric set + artifacts", best_of(lambda: hrv.sliding_windows(rr), 3))
    )
    rows.append(
        (
            "engine, full metric set, no artifacts",
            best_of(lambda: hrv.sliding_windows(rr, correct_artifacts=False), 3),
        )
    )
    rows.append(
        (
            "engine, + artifacts, no spectral",
            best_of(lambda: hrv.sliding_windows(rr, spectral_window_s=None), 3),
        )
    )
    rows.append(("engine, time-domain core", best_of(lambda: engine_core(rr, t), 5)))
    rows.append(("cumsum numpy reference", best_of(lambda: cumsum_reference(rr, lo, hi), 5)))

    import neurokit2 as nk

    sample = np.linspace(20, n_win - 1, 40 if quick else 200).astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        for i in sample:
            nk.hrv_time({"RRI": rr[lo[i] : hi[i]]})
        rows.append(
            ("NeuroKit2 hrv_time, per window", (time.perf_counter() - start) * n_win / sample.size)
        )
    features = hrv_analysis_time_domain()
    if isinstance(features, str):
        print(f"  hrv-analysis: {features}")
    else:
        start = time.perf_counter()
        for i in sample:
            features(list(rr[lo[i] : hi[i]]))
        rows.append(
            (
                "hrv-analysis time domain, per window",
                (time.perf_counter() - start) * n_win / sample.size,
            )
        )

    full = rows[0][1]
    core, ref = rows[3][1], rows[4][1]
    print(f"  {'':40s} {'s/window':>12s} {'total s':>10s} {'x engine full':>14s}")
    for name, seconds in rows:
        print(f"  {name:40s} {seconds / n_win:12.3e} {seconds:10.3f} {seconds / full:14.1f}")
    print(f"  time-domain core / cumsum reference: {core / ref:.2f}x (target <= 2)")
    nk_time = rows[5][1]
    print(f"  NeuroKit2 hrv_time / engine full set: {nk_time / full:.0f}x (target >= 1000)")


def stream_section(window_s: float, quick: bool, spectral_window_s: float | None) -> None:
    """Parts 2 and 3: a fleet at one beat per second, pushed as columns."""
    n_dev = 1000 if quick else 10_000
    warm = int(max(window_s, spectral_window_s or 0.0)) + 30
    measured = 30 if quick else 120
    seconds = warm + measured
    base = np.loadtxt(DATA, skiprows=1)
    base = base / base.mean() * 1000.0  # one beat per second on average
    rng = np.random.default_rng(0)
    offsets = rng.integers(0, base.size - seconds - 1, n_dev)
    rr = base[offsets[:, None] + np.arange(seconds)]
    t = 1.7e9 + rng.uniform(0, 1, n_dev)[:, None] + np.cumsum(rr, axis=1) / 1000
    for chunk in (1, 5):
        engine = hrv.StreamEngine(window_s=window_s, spectral_window_s=spectral_window_s)
        rows = engine.register([f"strap-{i}" for i in range(n_dev)])
        n_windows = 0
        elapsed = 0.0
        lags: list[tuple[np.ndarray, np.ndarray]] = []
        for s in range(0, seconds, chunk):
            cols = slice(s, s + chunk)
            dev = np.repeat(rows, rr[:, cols].shape[1])
            t_cols, rr_cols = t[:, cols].ravel(), rr[:, cols].ravel()
            start = time.perf_counter()
            table = engine.push_columns(dev, t_cols, rr_cols)
            if s >= warm:
                elapsed += time.perf_counter() - start
                n_windows += len(table)
                lags.append(emission_lag(t, table, min(s + chunk, seconds) - 1))
        beats = n_dev * measured
        lag_beats = np.concatenate([b for b, _ in lags])
        lag_s = np.concatenate([x for _, x in lags])
        print(
            f"  {window_s:>5.0f} s windows, spectral {spectral_window_s or 'off'}, "
            f"push every {chunk} s: {beats / elapsed:10.3e} beats/s, "
            f"{n_windows / elapsed:9.3e} windows/s, "
            f"{engine.memory_bytes() / n_dev / 1024:5.1f} KiB/device "
            f"(ring {engine.ring_beats} beats); last beat -> emitted: "
            f"{_spread(lag_beats, '.0f')} beats, {_spread(lag_s, '.1f')} s"
        )


def emission_lag(
    t: np.ndarray, table: hrv.WindowTable, newest: int
) -> tuple[np.ndarray, np.ndarray]:
    """Beats and seconds from each window's last beat to the newest beat pushed (``t[:, newest]``).

    Row ``d`` of ``t`` holds the beat times of device number ``d``.
    """
    beat_t = t[table.device_idx]
    last = np.count_nonzero(beat_t[:, : newest + 1] <= table.t_end_s[:, None], axis=1) - 1
    lag_s = beat_t[:, newest] - beat_t[np.arange(last.size), last]
    return newest - last, lag_s


def _spread(values: np.ndarray, fmt: str) -> str:
    """Median / p99 / max of ``values``."""
    return "/".join(format(float(q), fmt) for q in np.percentile(values, [50, 99, 100]))


def machine() -> str:
    """CPU model, Python and numpy versions."""
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}; Python {platform.python_version()}; numpy {np.__version__}"


def main() -> None:
    """Run every section and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--stream-only", action="store_true", help="skip the batch section")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    if not args.stream_only:
        batch_section(args.quick)
    n = "1,000" if args.quick else "10,000"
    print(f"streaming: {n} devices, one beat per second each, artifacts on")
    stream_section(60.0, args.quick, None)
    stream_section(60.0, args.quick, 120.0)
    stream_section(300.0, args.quick, 120.0)


if __name__ == "__main__":
    main()
