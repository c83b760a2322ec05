"""``vagus explain``: a person's baselines, thresholds, exercise ranking and the feedback behind
them, from the daemon's state file (``<state_dir>/baselines.json``)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

from hrv import Baseline
from recommender import Evaluator, RuleStateError
from vagus.baseline_store import BaselineFileError, BaselineStore
from vagus.config import Config, load_config
from vagus.errors import UserError
from vagus.privacy import read_key
from vagus.pseudonym import pseudonym

NAME = "explain"
HELP = "Show a person's baselines, thresholds, exercise ranking and the feedback that moved them."

STATE_FILE = "baselines.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """DEVICE [--config FILE] [--json]."""
    parser.add_argument("device", metavar="DEVICE", help="device id (or its pseudonym)")
    parser.add_argument("--config", type=Path, metavar="FILE", help="config file (state_dir)")
    parser.add_argument("--json", action="store_true", help="print the explanation as JSON")


def run(args: argparse.Namespace) -> int:
    """Restore the rules' state from the state file and print what it says about DEVICE."""
    config = load_config(args.config, check_dirs=False)
    store = BaselineStore(config.state_dir / STATE_FILE)
    state = store.load_pipeline()
    baselines = store.load()
    evaluator = Evaluator(config.recommender)
    rules = None if state is None else state.get("rules")
    if rules is not None:
        try:
            evaluator.restore(rules)
        except RuleStateError as exc:
            raise BaselineFileError(store.path, f"rule state at {exc.where}: {exc.reason}") from exc
    device = _known_as(args.device, config, evaluator, baselines)
    explained = evaluator.explain(device)
    baseline = baselines.get(device)
    if not explained.get("known") and baseline is None:
        raise UserError(f"device {args.device!r}: not in {store.path}")
    if args.json:
        doc = {"explain": explained, "baseline": _baseline_json(baseline)}
        print(json.dumps(_clean(doc), indent=2, allow_nan=False))
    else:
        print("\n".join(explain_lines(args.device, device, explained, baseline)))
    return 0


def _known_as(device: str, config: Config, evaluator: Evaluator, known: dict[str, Any]) -> str:
    """``device`` as the state file names it: itself, or its pseudonym when pseudonymising."""
    privacy = config.privacy
    if device in known or evaluator.explain(device).get("known"):
        return device
    if privacy.pseudonymise and privacy.salt_file is not None:
        return pseudonym(device, read_key(privacy.salt_file))
    return device


def _clean(value: Any) -> Any:
    """``value`` with NaN and infinities as None (JSON has no form for them)."""
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _baseline_json(baseline: Baseline | None) -> dict[str, float | None] | None:
    if baseline is None:
        return None
    return {
        "ln_rmssd": _finite(baseline.ln_rmssd),
        "rmssd_ms": _finite(math.exp(baseline.ln_rmssd)),
        "hr_bpm": _finite(baseline.hr_bpm),
        "weight_s": _finite(baseline.weight_s),
    }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _when(t_s: float) -> str:
    return f"{dt.datetime.fromtimestamp(t_s, tz=dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


def explain_lines(
    asked: str, device: str, explained: dict[str, Any], baseline: Baseline | None
) -> list[str]:
    """The text of ``vagus explain``: one block per topic, plain lines."""
    shown = asked if asked == device else f"{asked} ({device})"
    lines = [f"device {shown}"]
    if baseline is None:
        lines.append("baseline: none yet")
    else:
        lines.append(
            f"baseline: RMSSD {math.exp(baseline.ln_rmssd):.1f} ms "
            f"(ln {baseline.ln_rmssd:.3f}), HR {baseline.hr_bpm:.1f} bpm, "
            f"over {baseline.weight_s / 3600:.1f} h of valid windows"
        )
    if not explained.get("known"):
        lines.append("rules: no windows evaluated for this device yet")
        return lines
    lines.append(f"as of {_when(explained['t_s'])}; activity: {explained['activity']}")
    ref = explained["reference"]
    if ref["hr_bpm"] is None or not math.isfinite(ref["hr_bpm"]):
        lines.append("own reference: not learnt yet")
    else:
        lines.append(
            f"own reference (rest, out of exercise and episodes): HR {ref['hr_bpm']:.1f} bpm, "
            f"RMSSD {math.exp(ref['ln_rmssd']):.1f} ms; waking rest HR {ref['rest_hr_bpm']:.1f} bpm"
        )
    breathing = explained["breathing"]
    rest_hz = breathing["rest_hz"]
    rest = "not learnt yet" if rest_hz is None else f"{rest_hz * 60:.1f} breaths/min"
    lines.append(f"breathing at rest: {rest}; this heart-rate excursion: {breathing['excursion']}")
    lines.append(f"activity veto eased {explained['raise_activity']:.2f} by did_exercise feedback")
    if explained.get("snooze_until_s") is not None:
        lines.append(f"snoozed until {_when(explained['snooze_until_s'])}")
    half_life = explained["half_life_days"]
    for name, rule in explained["rules"].items():
        lines.append(f"rule {name} ({rule['state']}):")
        lines.append(
            f"  thresholds: {' and '.join(rule['enter'])} "
            f"(raised {rule['raise_level']:.2f} by feedback, half-life {half_life:g} days)"
        )
        evidence = rule.get("evidence")
        if evidence is not None:
            lines.append(
                f"  sustained evidence: k {evidence['k']:.3f}, limit {evidence['h_z_min']:.2f} "
                f"z·min (now {evidence['s_z_min']:.2f}; raised {rule['raise_evidence']:.2f})"
            )
        ranking = ", ".join(
            f"{e['exercise']} {e['mean_delta_ln_rmssd']:+.3f}±{e['sd']:.3f} (n={e['n']})"
            for e in rule["exercises"]
        )
        lines.append(f"  exercises (mean Δln RMSSD ± sd, best first): {ranking}")
    feedback = explained["feedback"]
    if feedback:
        lines.append("feedback that moved them:")
        lines.extend(
            f"  {_when(f['t_s'])}: {f['verdict']} on {f['trigger_id']} (rule {f['rule']})"
            for f in feedback
        )
    else:
        lines.append("feedback: none yet")
    counts = explained.get("feedback_counts") or {}
    if counts:
        lines.append(
            "feedback received: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        )
    return lines
