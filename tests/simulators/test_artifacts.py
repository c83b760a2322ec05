"""Artifact injection: exact labels, the requested rate, the shape of each kind."""

from __future__ import annotations

import numpy as np
import pytest

from simulators import ArtifactKind, load_scenario, simulate
from simulators.artifacts import inject


def test_labels_are_exact_against_the_clean_series() -> None:
    """Unlabelled intervals are untouched clean ones; labelled ones are new values."""
    scenario = load_scenario("two_hours")
    dirty = simulate(scenario)
    clean_scenario = scenario.model_copy(
        update={"artifacts": scenario.artifacts.model_copy(update={"rate": 0.0})}
    )
    clean = simulate(clean_scenario)
    mask = dirty.artifacts.mask(dirty.t_s.size)
    assert np.isin(dirty.rr_ms[~mask], clean.rr_ms).all()
    assert not np.isin(dirty.rr_ms[dirty.artifacts.index], clean.rr_ms).any()
    kinds = dirty.artifacts.kind
    extra, missed = int(np.sum(kinds == "extra")), int(np.sum(kinds == "missed"))
    assert dirty.t_s.size == clean.t_s.size + extra - missed


def test_rate_is_the_share_of_corrupted_intervals() -> None:
    """0.5 % requested gives 0.5 % ± 0.15 % corrupted intervals, with every kind present."""
    sim = simulate(load_scenario("two_hours"))
    share = sim.artifacts.mask(sim.t_s.size).mean()
    assert share == pytest.approx(0.005, abs=0.0015)
    assert set(sim.artifacts.kind) == {k.value for k in ArtifactKind}


@pytest.mark.parametrize("kind", list(ArtifactKind))
def test_each_kind_has_its_shape(kind: ArtifactKind) -> None:
    """Ectopic: short, long, same sum; missed: ~2 RR; extra: 2 parts of 1 RR; noise: jitter."""
    beats = np.cumsum(np.full(3000, 0.8))
    out, labels = inject(beats, np.random.default_rng(1), rate=0.02, weights={kind: 1.0})
    rr = np.diff(out, prepend=0.0) * 1000.0
    assert len(labels) > 0
    assert np.all(labels.kind == kind.value)
    for i, n in zip(labels.index, labels.n_beats, strict=True):
        if kind is ArtifactKind.ECTOPIC:
            assert rr[i] < 650
            assert rr[i + 1] > 950
            assert rr[i] + rr[i + 1] == pytest.approx(1600)
        elif kind is ArtifactKind.MISSED:
            assert rr[i] == pytest.approx(1600)
        elif kind is ArtifactKind.EXTRA:
            assert rr[i] < 650
            assert rr[i + 1] < 400
            assert rr[i] + rr[i + 1] == pytest.approx(800)
        else:
            assert 5 <= n <= 13
            assert np.all(np.abs(rr[i : i + n] - 800) > 1e-6)
            assert rr[i + n] == pytest.approx(800)


def test_zero_rate_injects_nothing() -> None:
    """Rate 0 returns the beats unchanged and no labels."""
    beats = np.cumsum(np.full(500, 0.8))
    out, labels = inject(
        beats, np.random.default_rng(1), rate=0.0, weights={ArtifactKind.MISSED: 1}
    )
    assert len(labels) == 0
    np.testing.assert_array_equal(out, beats)
