"""``<prefix>/<device>/session`` payloads validate against vagus/schemas/session.json."""

from __future__ import annotations

import json
import math

import jsonschema
import pytest

from recommender import BOX, PhaseKind
from vagus.biofeedback import LiveFigures, Pacer, SessionRecord, even_phases
from vagus.mqtt.session import session_summary, session_update
from vagus.mqtt.topics import Topics
from vagus.schemas import load_schema

VALIDATOR = jsonschema.Draft202012Validator(load_schema("session"))


def _figures(t_s: float, value: float) -> LiveFigures:
    return LiveFigures(
        device="d1", t_s=t_s, elapsed_s=t_s - 100.0, rate_bpm=6.0, phase=PhaseKind.INHALE,
        volume=0.5, hr_bpm=value, rsa_bpm=value, coherence=value, peak_bpm=value,
    )  # fmt: skip


@pytest.mark.parametrize("value", [math.nan, 2.5])
def test_update_validates(value: float) -> None:
    """Updates before the figures are known (null) and after; the pacer state is the pacer's."""
    pacer = Pacer(phases=BOX.phases, start_s=100.0)
    doc = json.loads(session_update(_figures(106.0, value), pacer, pattern="box", end_s=400.0))
    VALIDATOR.validate(doc)
    assert doc["pacer"]["phase"] == "hold"
    assert doc["pacer"]["rate_bpm"] == pytest.approx(3.75)
    assert doc["remaining_s"] == 294.0
    assert (doc["coherence"] is None) == math.isnan(value)


def test_summary_validates_and_bad_documents_do_not() -> None:
    """A summary validates; a summary missing a field or an unknown kind does not."""
    record = SessionRecord(
        t_s=100.0, rate_bpm=5.5, minutes=5.0, mean_coherence=math.nan, rsa_bpm=9.0,
        high_coherence_s=0.0, peak_bpm=5.5,
    )  # fmt: skip
    doc = json.loads(
        session_summary("d1", record, pattern="resonance", comparison="first", reassess=None)
    )
    VALIDATOR.validate(doc)
    assert doc["t_s"] == 400.0
    del doc["comparison"]
    assert not VALIDATOR.is_valid(doc)
    update = json.loads(
        session_update(
            _figures(101.0, 1.0),
            Pacer(phases=even_phases(6.0), start_s=100.0),
            pattern="resonance",
            end_s=200.0,
        )
    )
    assert not VALIDATOR.is_valid({**update, "kind": "other"})


def test_topic() -> None:
    """The session topic sits beside the device's other topics."""
    assert Topics(prefix="vagus").session("strap-1") == "vagus/strap-1/session"
    with pytest.raises(ValueError, match="topic level"):
        Topics().session("a/b")
