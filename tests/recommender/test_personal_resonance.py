"""Each person's resonance exercise is paced at their assessed rate; others keep the default."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from recommender import Evaluator, Trigger, load_config
from tests.recommender.test_evaluator import ONE_RULE
from tests.recommender.windows import episodes, series
from vagus.biofeedback_store import BiofeedbackStore, pace_resonance
from vagus.mqtt.payloads import trigger_json


def _trigger(evaluator: Evaluator, device: str) -> Trigger:
    windows = [
        dataclasses.replace(w, device=device) for w in series(episodes((0, 100)), until_s=100)
    ]
    (trigger,) = evaluator.feed_many(windows).triggers
    assert trigger.exercise.id == "resonance"
    return trigger


def _paced(state_dir: Path) -> Evaluator:
    evaluator = Evaluator(load_config(ONE_RULE))
    pace_resonance(evaluator, state_dir)
    return evaluator


def test_assessed_rate_paces_the_trigger_and_its_payload(tmp_path: Path) -> None:
    """A person assessed at 5.0/min gets 6 s in / 6 s out, in the trigger and its MQTT
    payload; someone never assessed keeps the default 5.5 s / 5.5 s."""
    BiofeedbackStore(tmp_path).save_resonance("ana", rate_bpm=5.0, confidence=1.0, t_s=0.0)
    evaluator = _paced(tmp_path)
    ana = _trigger(evaluator, "ana")
    assert ana.exercise.breaths_per_min == pytest.approx(5.0)
    assert [p.duration_s for p in ana.exercise.phases] == [6.0, 6.0]
    assert trigger_json(ana)["exercise"]["breaths_per_min"] == 5.0
    assert _trigger(evaluator, "bob").exercise.breaths_per_min == pytest.approx(60 / 11)


def test_unusable_rates_keep_the_default(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A rate outside 4.5-7/min or an unreadable file: logged once each, default pace."""
    store = BiofeedbackStore(tmp_path)
    store.save_resonance("fast", rate_bpm=9.0, confidence=1.0, t_s=0.0)
    store.path("broken").write_text("{", encoding="utf-8")
    evaluator = _paced(tmp_path)
    assert _trigger(evaluator, "fast").exercise.breaths_per_min == pytest.approx(60 / 11)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("fast" in m for m in messages) == 1
    assert sum("broken.json" in m and "not JSON" in m for m in messages) == 1
