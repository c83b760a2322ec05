"""The baseline file adapter: round trips, atomic replacement, readable errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import hrv
from vagus.baseline_store import BaselineFileError, BaselineStore


def test_missing_file_means_no_baselines(tmp_path: Path) -> None:
    """A store whose file does not exist yet loads as empty."""
    assert BaselineStore(tmp_path / "none.json").load() == {}


def test_round_trip_keeps_every_bit(tmp_path: Path) -> None:
    """Saved baselines load back equal, floats bit for bit."""
    store = BaselineStore(tmp_path / "state" / "baselines.json")
    saved = {
        "strap-a": hrv.Baseline(ln_rmssd=3.912023005428146, hr_bpm=61.0 / 3, weight_s=1e-3 + 7200),
        "strap-b": hrv.Baseline(ln_rmssd=2.5, hr_bpm=88.25, weight_s=600.0),
    }
    store.save(saved)
    assert store.load() == saved


def test_engine_state_survives_a_restart(tmp_path: Path) -> None:
    """An engine restarted from the stored baselines scores like one that never stopped."""
    rng = np.random.default_rng(5)
    rr = 850.0 + rng.normal(0, 30, 1500)
    t = np.cumsum(rr) / 1000
    cut = 700
    first = hrv.StreamEngine()
    first.push(hrv.BeatBatch(device="d", t_s=t[:cut], rr_ms=rr[:cut]))
    first.flush("d")
    store = BaselineStore(tmp_path / "b.json")
    store.save(first.baselines())

    second = hrv.StreamEngine()
    for device, baseline in store.load().items():
        second.set_baseline(device, baseline)
    after = second.push(hrv.BeatBatch(device="d", t_s=t[cut:], rr_ms=rr[cut:])) + second.flush("d")
    batch = hrv.sliding_windows(rr[:cut], t_s=t[:cut])
    expected = hrv.sliding_windows(rr[cut:], t_s=t[cut:], baseline=batch.baselines[0])
    assert [w.stress for w in after] == pytest.approx(list(expected.stress), nan_ok=True)
    assert after[-1].baseline_hr_bpm == expected.baseline_hr_bpm[-1]


def test_save_replaces_atomically(tmp_path: Path) -> None:
    """A save leaves only the new file: no temporary files, old content gone."""
    path = tmp_path / "b.json"
    store = BaselineStore(path)
    store.save({"x": hrv.Baseline(ln_rmssd=3.0, hr_bpm=70.0, weight_s=600.0)})
    store.save({"y": hrv.Baseline(ln_rmssd=3.5, hr_bpm=65.0, weight_s=900.0)})
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]
    assert set(store.load()) == {"y"}


def test_failed_save_keeps_the_old_file(tmp_path: Path) -> None:
    """If writing fails half way (unserialisable value), the previous file is untouched."""
    path = tmp_path / "b.json"
    store = BaselineStore(path)
    store.save({"x": hrv.Baseline(ln_rmssd=3.0, hr_bpm=70.0, weight_s=600.0)})
    before = path.read_bytes()
    bad = {"y": hrv.Baseline(ln_rmssd=3.0, hr_bpm=70.0, weight_s=600.0)}
    object.__setattr__(bad["y"], "hr_bpm", object())  # json cannot encode it
    with pytest.raises(TypeError):
        store.save(bad)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not JSON"),
        (json.dumps({"schema": 99, "baselines": {}}), "schema"),
        (json.dumps({"schema": 1}), "baselines"),
        (json.dumps({"schema": 1, "baselines": {"d": {"ln_rmssd": 3}}}), "'d'"),
        (
            json.dumps(
                {"schema": 1, "baselines": {"d": {"ln_rmssd": 3, "hr_bpm": 60, "weight_s": 0}}}
            ),
            "'d'",
        ),
    ],
)
def test_bad_files_raise_one_line_user_errors(tmp_path: Path, content: str, reason: str) -> None:
    """Unreadable files raise `BaselineFileError` naming the file and what is wrong."""
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(BaselineFileError) as info:
        BaselineStore(path).load()
    assert reason in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
