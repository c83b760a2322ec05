"""Artifact injection into clean beat times, with exact labels.

The kinds follow the artifact taxonomy of Lipponen & Tarvainen 2019 ("A
robust algorithm for heart rate variability time series artefact
correction using novel beat classification", J Med Eng Technol
43(3):173-181): ectopic beats (a premature beat: short interval, then a
compensatory long one, same total), missed beats (a beat not detected: two
intervals merged into one), extra beats (a false detection: one interval
split in two) and noisy stretches (motion: beat times jittered).

Pure: beat times and a seeded generator in, beat times and labels out.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hrv import FloatArray

IntArray = NDArray[np.int64]

SLOT_BEATS = 24
"""Artifacts are placed in distinct slots of this many beats, so they never overlap."""
NOISE_BEATS = (4, 12)
"""Range (inclusive) of the number of beats in a noisy stretch."""
NOISE_JITTER = 0.25
"""Beat-time jitter in a noisy stretch, as a fraction of the local RR (uniform ±)."""


class ArtifactKind(enum.StrEnum):
    """What went wrong at a labelled beat."""

    ECTOPIC = "ectopic"
    MISSED = "missed"
    EXTRA = "extra"
    NOISE = "noise"


BEATS_PER_EVENT: Mapping[ArtifactKind, float] = {
    ArtifactKind.ECTOPIC: 2.0,
    ArtifactKind.MISSED: 1.0,
    ArtifactKind.EXTRA: 2.0,
    ArtifactKind.NOISE: float(np.mean(NOISE_BEATS)) + 1.0,
}
"""Intervals each event corrupts (on average), used to turn a rate into event counts."""


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ArtifactLabels:
    """Injected artifacts as columns, one row per event, in beat order.

    ``index`` is the position in the output beat arrays of the first
    corrupted interval (ectopic: the short one, followed by the long one;
    missed: the merged one; extra: the first half of the split one;
    noise: the first jittered beat), ``n_beats`` the number of corrupted
    intervals from there, ``kind`` the `ArtifactKind` value.
    """

    index: IntArray
    kind: NDArray[np.str_]
    n_beats: IntArray

    def __len__(self) -> int:
        return int(self.index.size)

    def mask(self, n: int) -> NDArray[np.bool_]:
        """Boolean mask over ``n`` output beats, True on every corrupted interval."""
        out = np.zeros(n, dtype=np.bool_)
        starts = np.repeat(self.index, self.n_beats)
        offsets = np.arange(starts.size) - np.repeat(
            np.cumsum(self.n_beats) - self.n_beats, self.n_beats
        )
        out[np.clip(starts + offsets, 0, max(n - 1, 0))] = True
        return out


def no_artifacts() -> ArtifactLabels:
    """An empty label table."""
    return ArtifactLabels(
        index=np.zeros(0, np.int64), kind=np.zeros(0, "<U7"), n_beats=np.zeros(0, np.int64)
    )


def event_counts(
    n_beats: int, rate: float, weights: Mapping[ArtifactKind, float]
) -> dict[ArtifactKind, int]:
    """Events per kind so that about ``rate`` of ``n_beats`` intervals are corrupted."""
    total = sum(weights.values())
    if total <= 0 or rate <= 0:
        return {}
    return {
        kind: round(rate * n_beats * (w / total) / BEATS_PER_EVENT[kind])
        for kind, w in weights.items()
    }


def inject(
    beats_s: FloatArray,
    rng: np.random.Generator,
    *,
    rate: float,
    weights: Mapping[ArtifactKind, float],
) -> tuple[FloatArray, ArtifactLabels]:
    """Corrupt clean beat times ``beats_s``; return the new times and the labels.

    ``rate`` is the share of intervals to corrupt, ``weights`` the relative
    share of each kind. The first beat is never touched (it anchors the
    first interval).
    """
    counts = event_counts(int(beats_s.size), rate, weights)
    kinds = np.array([k.value for k, c in counts.items() for _ in range(c)], dtype="<U7")
    n_slots = (beats_s.size - 2) // SLOT_BEATS
    if kinds.size == 0 or n_slots <= 0:
        return beats_s.copy(), no_artifacts()
    if kinds.size > n_slots:
        kinds = kinds[rng.permutation(kinds.size)[:n_slots]]
    slots = np.sort(rng.choice(n_slots, size=kinds.size, replace=False))
    kinds = kinds[rng.permutation(kinds.size)]
    lengths = np.where(
        kinds == ArtifactKind.NOISE, rng.integers(*NOISE_BEATS, endpoint=True, size=kinds.size), 1
    )
    offsets = rng.integers(1, SLOT_BEATS - NOISE_BEATS[1] - 1, size=kinds.size)
    at = 2 + slots * SLOT_BEATS + offsets  # beat index, its predecessor exists
    fraction = rng.uniform(0.55, 0.75, kinds.size)

    t = beats_s.copy()
    prev_gap = t[at] - t[at - 1]
    ectopic = kinds == ArtifactKind.ECTOPIC
    t[at[ectopic]] = t[at[ectopic] - 1] + fraction[ectopic] * prev_gap[ectopic]

    noise = kinds == ArtifactKind.NOISE
    noisy_idx = np.concatenate(
        [np.arange(a, a + n) for a, n in zip(at[noise], lengths[noise], strict=True)]
        or [np.zeros(0, np.int64)]
    ).astype(np.int64)
    local_rr = t[noisy_idx] - t[noisy_idx - 1]
    t[noisy_idx] += rng.uniform(-NOISE_JITTER, NOISE_JITTER, noisy_idx.size) * local_rr

    extra = kinds == ArtifactKind.EXTRA
    inserted = t[at[extra] - 1] + fraction[extra] * prev_gap[extra]
    missed = kinds == ArtifactKind.MISSED
    keep = np.ones(t.size, dtype=np.bool_)
    keep[at[missed]] = False

    # Output position of each event: shifted by extras inserted and beats deleted before it.
    removed_before = np.cumsum(missed) - missed
    added_before = np.cumsum(extra) - extra
    out_index = at + added_before - removed_before
    t = np.insert(t, at[extra], inserted)
    keep = np.insert(keep, at[extra], True)
    t = t[keep]

    n_corrupt = np.select([ectopic, missed, extra, noise], [2, 1, 2, lengths + 1])
    labels = ArtifactLabels(
        index=out_index.astype(np.int64), kind=kinds, n_beats=n_corrupt.astype(np.int64)
    )
    return t, labels
