"""The evaluator: windows in, triggers and outcomes out; one rule state machine per device.

Pure and synchronous: time comes from ``WindowMetrics.t_end_s`` and, for quiet
hours, a ``local_time`` the caller passes with each window. Windows of one
device must arrive in time order; devices are independent.

Hold: a rule fires when every enter condition has held for ``hold_s``
seconds (from the end of the first qualifying window) and ``hold_windows``
valid windows. An episode ends when an exit condition has held for
``exit_hold_s`` (valid windows; one window back above the exit threshold
restarts that clock), so a single outlying window cannot end it. Windows
between the thresholds, or vetoed by an ``unless`` condition, keep the hold
running without counting; invalid
windows pause it (see `recommender._states`). One episode gives one trigger:
the rule re-arms only after an exit window and its cooldown, unless
``repeat_after_s`` asks it to fire again while stress persists.

State survives a restart: `Evaluator.snapshot` gives every device's state
(rule states, holds, cooldowns, gaps, pending outcomes, exercise history) as
JSON-ready data and `Evaluator.restore` takes it back, so a daemon restarted
mid-episode neither fires again nor loses the outcome it was measuring.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hrv import Quality, WindowMetrics
from recommender._activity import (
    ActivitySettings,
    ActivityState,
    breathing_verdict,
    eased,
    observe,
)
from recommender._conditions import Condition, Op
from recommender._errors import LocalTimeRequiredError
from recommender._evidence import Evidence, cusum_step, reset
from recommender._exercises import Exercise, catalog
from recommender._learning import (
    Feedback,
    FeedbackResult,
    FeedbackStatus,
    FeedbackVerdict,
    decayed,
    draw_rng,
    posterior,
    thompson_rank,
)
from recommender._outcomes import choose_exercise, judge
from recommender._records import Outcome, Step, Transition, Trigger, Verdict, trigger_id
from recommender._reference import update as update_reference
from recommender._rules import RecommenderConfig, Rule
from recommender._snapshot import dump, load
from recommender._states import FIRING_EVENTS, Event, RuleState, next_state
from recommender._tracks import DeviceTrack, FeedbackEntry, Issued, Pending, RuleTrack, new_device

_HOUR_S = 3600.0


class Evaluator:
    """Per-device rule state machines over a stream of `WindowMetrics`."""

    def __init__(self, config: RecommenderConfig) -> None:
        self._config = config
        self._exercises: dict[str, Exercise] = catalog(config.resonance_rate_bpm)
        # Devices whose resonance exercise is paced at their assessed rate (`vagus resonance`).
        self._personal: dict[str, dict[str, Exercise]] = {}
        self._devices: dict[str, DeviceTrack] = {}
        # Which paths made each rule due in the window being classified (level, evidence).
        self._paths: dict[str, tuple[bool, bool]] = {}
        # Each evidence rule's statistic for the window being classified (NaN: none).
        self._x: dict[str, float] = {}
        self._orphan_feedback = 0

    def set_resonance_rate(self, device: str, rate_bpm: float) -> None:
        """Pace ``device``'s resonance exercise at ``rate_bpm``, its assessed resonance rate.

        ValueError outside the resonance range (`recommender.resonance`).
        """
        self._personal[device] = catalog(rate_bpm)

    @property
    def config(self) -> RecommenderConfig:
        """The validated rule set and settings."""
        return self._config

    def state(self, device: str, rule: str) -> RuleState:
        """Current state of ``rule`` for ``device`` (idle for a device never seen)."""
        track = self._devices.get(device)
        return RuleState.IDLE if track is None else track.rules[rule].state

    def snapshot(self) -> dict[str, Any]:
        """Every device's state as JSON-ready data (format in `recommender._snapshot`)."""
        return dump(self._devices)

    def restore(self, data: Mapping[str, Any]) -> None:
        """Replace every device's state with a `snapshot` (after ``json.loads``, say).

        Rules the snapshot has but the config lacks are ignored; rules new in
        the config start idle. Malformed data raises `RuleStateError` and
        leaves the state as it was.
        """
        self._devices = load(data, self._config)

    def feed_many(
        self, windows: Iterable[WindowMetrics], local_times: Sequence[dt.time] | None = None
    ) -> Step:
        """Feed windows in order (with their local times when quiet hours are set)."""
        step = Step()
        for i, window in enumerate(windows):
            step += self.feed(window, local_time=None if local_times is None else local_times[i])
        return step

    def feed(self, window: WindowMetrics, *, local_time: dt.time | None = None) -> Step:
        """Feed one window; returns the triggers, outcomes and transitions it caused."""
        if self._config.quiet_hours is not None and local_time is None:
            raise LocalTimeRequiredError(device=window.device, t_s=window.t_end_s)
        track = self._devices.get(window.device)
        if track is None:
            track = new_device(self._config)
            self._devices[window.device] = track
        valid = window.quality is Quality.OK
        t_s = window.t_end_s
        gap_s = t_s - track.last_valid_s  # NaN before the first valid window
        personal: dict[str, float] = {}
        self._x.clear()
        if valid:
            self._remember(track, window)
            ref = track.reference
            if ref.ready:
                hr_z, ln_z = ref.z(window)
                personal = {"hr_z": hr_z, "ln_rmssd_z": ln_z}
                baseline_hr = ref.hr_bpm
            else:
                hr_z, ln_z, baseline_hr = window.hr_z, window.ln_rmssd_z, window.baseline_hr_bpm
            observe(
                track.activity,
                window,
                self._activity_settings(track, t_s),
                baseline_hr_bpm=baseline_hr,
                z=(hr_z, ln_z),
            )
            for rule in self._config.rules:
                if rule.evidence is not None:
                    self._accumulate(track, rule, track.rules[rule.name], window, personal)
        outcomes = self._settle_outcomes(track, window, valid)
        triggers: list[Trigger] = []
        transitions: list[Transition] = []
        for rule in self._config.rules:
            rule_track = track.rules[rule.name]
            for event, cause in self._housekeeping(rule, rule_track, t_s, gap_s):
                self._apply(track, rule, rule_track, window, event, cause, triggers, transitions)
            event, cause = self._classify(track, rule, rule_track, window, local_time)
            self._apply(track, rule, rule_track, window, event, cause, triggers, transitions)
        if valid:
            track.last_valid_s = t_s
            update_reference(
                track.reference,
                window,
                self._config.reference,
                active=track.activity.state is not ActivityState.REST,
                in_episode=any(r.state is RuleState.FIRED for r in track.rules.values()),
            )
        return Step(
            triggers=tuple(triggers), outcomes=tuple(outcomes), transitions=tuple(transitions)
        )

    def _apply(
        self,
        device: DeviceTrack,
        rule: Rule,
        track: RuleTrack,
        window: WindowMetrics,
        event: Event,
        cause: str,
        triggers: list[Trigger],
        transitions: list[Transition],
    ) -> None:
        """Move ``track`` through the table on ``event``; fire and record as it says."""
        old = track.state
        track.state = next_state(old, event)
        if event is Event.EXIT:
            track.exit_start_s = math.nan
            if old is RuleState.FIRED:  # the episode is over: evidence starts afresh
                track.cusum = reset(track.cusum)
        if track.state is RuleState.IDLE:
            track.hold_windows = 0
            track.hold_start_s = math.nan
        if event in FIRING_EVENTS:
            triggers.append(self._fire(device, rule, track, window))
        if old is not track.state or cause:
            transitions.append(
                Transition(
                    device=window.device,
                    rule=rule.name,
                    t_s=window.t_end_s,
                    old=old,
                    new=track.state,
                    event=event,
                    cause=cause,
                )
            )

    def _housekeeping(
        self, rule: Rule, track: RuleTrack, t_s: float, gap_s: float
    ) -> list[tuple[Event, str]]:
        """Events due to time alone, applied before the window's verdict: stale hold, cooled."""
        if track.state is RuleState.HOLDING and gap_s > self._config.max_invalid_s:
            return [(Event.STALE, f"no valid window for {gap_s:.0f} s")]
        if track.state is RuleState.COOLDOWN and t_s >= track.last_fire_s + rule.cooldown_s:
            return [(Event.COOLED, "")]
        return []

    def _classify(
        self,
        device: DeviceTrack,
        rule: Rule,
        track: RuleTrack,
        window: WindowMetrics,
        local_time: dt.time | None,
    ) -> tuple[Event, str]:
        """The window's verdict for ``rule`` in its current state; counts the hold."""
        t_s = window.t_end_s
        self._paths.pop(rule.name, None)
        if window.quality is not Quality.OK:
            return Event.INVALID, ""
        evidence_due = self._evidence_due(device, rule, track, window)
        if not evidence_due and self._calm(rule, track, window):
            if math.isnan(track.exit_start_s):
                track.exit_start_s = t_s
            if t_s - track.exit_start_s >= rule.exit_hold_s:
                return Event.EXIT, ""
            return Event.BAND, ""
        track.exit_start_s = math.nan
        level = all(c.holds(window) for c in self._enter(rule, track, t_s))
        if not (level or evidence_due):
            return Event.BAND, ""
        vetoes = [c for c in rule.unless if c.holds(window)]
        if vetoes:
            return Event.BAND, f"unless {vetoes[0]}"
        activity = device.activity.state
        if rule.veto_activity and activity is not ActivityState.REST:
            return Event.BAND, f"activity: {activity}"
        state = track.state
        if state is RuleState.COOLDOWN:
            return Event.ENTER, ""
        if state is RuleState.FIRED:
            repeat_s = rule.repeat_after_s
            due = repeat_s is not None and t_s >= track.last_fire_s + repeat_s
        else:
            if state is RuleState.IDLE:
                track.hold_start_s = t_s
                track.hold_windows = 0
            track.hold_windows += 1
            held_s = t_s - track.hold_start_s
            level_due = level and held_s >= rule.hold_s and track.hold_windows >= rule.hold_windows
            due = level_due or evidence_due
            self._paths[rule.name] = (level_due, evidence_due)
        if not due:
            return Event.ENTER, ""
        blocked = self._suppression(device, rule, track, t_s, local_time)
        return (Event.SUPPRESSED, blocked) if blocked else (Event.HELD, "")

    def _suppression(
        self,
        device: DeviceTrack,
        rule: Rule,
        track: RuleTrack,
        t_s: float,
        local_time: dt.time | None,
    ) -> str:
        """Why a due trigger may not fire now ("" when it may)."""
        quiet = self._config.quiet_hours
        if quiet is not None and local_time is not None and quiet.contains(local_time):
            return f"quiet hours {quiet.start}-{quiet.end}"
        if t_s < device.snooze_until_s:
            return f"snoozed until {device.snooze_until_s:.0f}"
        while track.fires_s and track.fires_s[0] <= t_s - _HOUR_S:
            track.fires_s.popleft()
        if len(track.fires_s) >= rule.max_per_hour:
            return f"cap of {rule.max_per_hour} per hour"
        if t_s - device.last_fire_s < self._config.min_gap_s:
            return f"another trigger {t_s - device.last_fire_s:.0f} s ago"
        return ""

    def _fire(
        self, device: DeviceTrack, rule: Rule, track: RuleTrack, window: WindowMetrics
    ) -> Trigger:
        t_s = window.t_end_s
        history = {k: tuple(v) for k, v in device.history.items()}
        exercise_id, factor = self._choose(window.device, rule, track, history, t_s)
        exercises = self._personal.get(window.device, self._exercises)
        exercise = exercises[exercise_id].lengthened(factor)
        reason = {c.term: c.value(window) for c in rule.enter}
        reason |= {
            "stress": window.stress,
            "hr_bpm": window.hr_bpm,
            "ln_rmssd": window.ln_rmssd,
            "held_s": t_s - track.hold_start_s if not math.isnan(track.hold_start_s) else 0.0,
        }
        level_due, evidence_due = self._paths.pop(rule.name, (True, False))
        if rule.evidence is not None:
            reason["evidence_z_min"] = track.cusum.s_z_min
            track.cusum = reset(track.cusum)
        severity = rule.severity.raised() if track.escalation > 0 else rule.severity
        trigger = Trigger(
            id=trigger_id(window.device, rule.name, t_s),
            device=window.device,
            t_s=t_s,
            rule=rule.name,
            exercise=exercise,
            reason=reason,
            severity=severity,
            escalation=track.escalation,
        )
        track.last_fire_s = t_s
        track.fires_s.append(t_s)
        device.last_fire_s = t_s
        device.issued.append(
            Issued(
                trigger_id=trigger.id,
                t_s=t_s,
                rule=rule.name,
                exercise_id=exercise_id,
                level=level_due,
                evidence=evidence_due,
            )
        )
        while len(device.issued) > self._config.learning.remember_triggers:
            device.issued.popleft()
        before = [
            (ln, hr) for t, ln, hr in device.recent if t >= t_s - self._config.outcome.before_s
        ]
        device.pending.append(
            Pending(
                trigger=trigger,
                before_ln_rmssd=_mean([ln for ln, _ in before]),
                before_hr_bpm=_mean([hr for _, hr in before]),
                n_before=len(before),
            )
        )
        return trigger

    def _remember(self, device: DeviceTrack, window: WindowMetrics) -> None:
        """Keep the valid windows of the last ``before_s`` seconds for outcomes."""
        if math.isfinite(window.ln_rmssd) and math.isfinite(window.hr_bpm):
            device.recent.append((window.t_end_s, window.ln_rmssd, window.hr_bpm))
        horizon = window.t_end_s - self._config.outcome.before_s
        while device.recent and device.recent[0][0] < horizon:
            device.recent.popleft()

    def _settle_outcomes(
        self, device: DeviceTrack, window: WindowMetrics, valid: bool
    ) -> list[Outcome]:
        """Collect after-trigger windows; emit outcomes whose ``after_s`` has passed."""
        settings = self._config.outcome
        done: list[Outcome] = []
        still: list[Pending] = []
        t_s = window.t_end_s
        for pending in device.pending:
            end_s = pending.trigger.t_s + settings.after_s
            if (
                valid
                and pending.trigger.t_s < t_s <= end_s
                and math.isfinite(window.ln_rmssd)
                and math.isfinite(window.hr_bpm)
            ):
                pending.after_ln_rmssd.append(window.ln_rmssd)
                pending.after_hr_bpm.append(window.hr_bpm)
            if t_s < end_s:
                still.append(pending)
                continue
            outcome = self._outcome(pending, t_s)
            done.append(outcome)
            self._learn(device, outcome)
        device.pending = still
        return done

    def _outcome(self, pending: Pending, t_s: float) -> Outcome:
        after_ln = _mean(pending.after_ln_rmssd)
        after_hr = _mean(pending.after_hr_bpm)
        trigger = pending.trigger
        verdict = judge(
            delta_ln_rmssd=after_ln - pending.before_ln_rmssd,
            delta_hr_bpm=after_hr - pending.before_hr_bpm,
            n_before=pending.n_before,
            n_after=len(pending.after_ln_rmssd),
            min_windows=self._config.outcome.min_windows,
        )
        return Outcome(
            trigger_id=trigger.id,
            device=trigger.device,
            rule=trigger.rule,
            exercise_id=trigger.exercise.id,
            trigger_t_s=trigger.t_s,
            t_s=t_s,
            before_ln_rmssd=pending.before_ln_rmssd,
            after_ln_rmssd=after_ln,
            before_hr_bpm=pending.before_hr_bpm,
            after_hr_bpm=after_hr,
            n_before=pending.n_before,
            n_after=len(pending.after_ln_rmssd),
            verdict=verdict,
        )

    def _learn(self, device: DeviceTrack, outcome: Outcome) -> None:
        """Update the person's exercise history and the rule's escalation from ``outcome``."""
        if outcome.verdict is Verdict.INSUFFICIENT_DATA:
            return
        deltas = device.history.setdefault(
            outcome.exercise_id, deque(maxlen=self._config.outcome.history)
        )
        deltas.append(outcome.delta_ln_rmssd)
        track = device.rules.get(outcome.rule)
        if track is not None:
            track.escalation = 0 if outcome.verdict is Verdict.IMPROVED else track.escalation + 1

    # -- sustained evidence and personal thresholds ------------------------------

    def _accumulate(
        self,
        device: DeviceTrack,
        rule: Rule,
        track: RuleTrack,
        window: WindowMetrics,
        personal: Mapping[str, float],
    ) -> None:
        """One valid window into the rule's CUSUM (held at 0 while activity vetoes it)."""
        evidence = rule.evidence
        assert evidence is not None
        k, _ = self._evidence_limits(evidence, track, window.t_end_s)
        x = evidence.statistic(window, personal)
        self._x[rule.name] = x
        track.cusum = cusum_step(track.cusum, x, window.t_end_s, evidence, k=k)
        if rule.veto_activity and device.activity.state is ActivityState.ACTIVE:
            track.cusum = reset(track.cusum)

    def _evidence_limits(
        self, evidence: Evidence, track: RuleTrack, t_s: float
    ) -> tuple[float, float]:
        """The person's k and h now: the rule's, grown by the decayed false-alarm raise."""
        factor = (
            1.0 + self._raise(track.raise_evidence, t_s) * self._config.learning.evidence_max_rel
        )
        return evidence.k * factor, evidence.h * factor

    def _calm(self, rule: Rule, track: RuleTrack, window: WindowMetrics) -> bool:
        """An exit condition holds, or, in a fired episode, the person's own statistic is back
        under the allowance (the engine's score can stay raised against a stale baseline)."""
        if any(c.holds(window) for c in rule.exit):
            return True
        x = self._x.get(rule.name, math.nan)
        return (
            rule.evidence is not None
            and track.state is RuleState.FIRED
            and x < self._evidence_limits(rule.evidence, track, window.t_end_s)[0]
        )

    def _evidence_due(
        self, device: DeviceTrack, rule: Rule, track: RuleTrack, window: WindowMetrics
    ) -> bool:
        evidence = rule.evidence
        if evidence is None:
            return False
        _, h = self._evidence_limits(evidence, track, window.t_end_s)
        if track.cusum.s_z_min < h or not all(c.holds(window) for c in evidence.when):
            return False
        above = evidence.above_rest_bpm
        return above is None or window.hr_bpm - device.reference.rest_hr_bpm >= above

    def _activity_settings(self, device: DeviceTrack, t_s: float) -> ActivitySettings:
        """The activity detector's settings for the person now (eased by "did exercise")."""
        r = self._raise(device.raise_activity, t_s)
        return eased(self._config.activity, r * self._config.learning.activity_max_rel)

    def _raise(self, value_since: tuple[float, float], t_s: float) -> float:
        value, since_s = value_since
        return decayed(value, since_s, t_s, self._config.learning.half_life_days)

    def _enter(self, rule: Rule, track: RuleTrack, t_s: float) -> tuple[Condition, ...]:
        """The rule's enter conditions with the person's raise applied (moved away from firing)."""
        r = self._raise(track.raise_level, t_s)
        if r <= 0.0:
            return rule.enter
        rel = r * self._config.learning.level_max_rel
        return tuple(_shifted(c, rel) for c in rule.enter)

    def _choose(
        self,
        device: str,
        rule: Rule,
        track: RuleTrack,
        history: Mapping[str, Sequence[float]],
        t_s: float,
    ) -> tuple[str, float]:
        """Exercise and duration factor: Thompson draw at a first try with some history, else
        the deterministic ladder (cold start: the rule's order; escalation: next by mean)."""
        learning = self._config.learning
        tried = any(history.get(e) for e in rule.exercises)
        if self._config.outcome.policy == "greedy" or track.escalation > 0 or not tried:
            return choose_exercise(rule.exercises, history, track.escalation)
        ranked = thompson_rank(
            rule.exercises, history, draw_rng(learning.seed, device, t_s), learning
        )
        return ranked[0], 1.0

    # -- feedback and explanations -----------------------------------------------

    def feedback(self, device: str, fb: Feedback) -> FeedbackResult:
        """Apply the person's answer to one of ``device``'s triggers (see `recommender._learning`).

        An id that is not a remembered trigger of ``device`` is refused with
        status ``unknown_trigger``, a second answer to the same trigger with
        ``duplicate``; both are counted (`feedback_counts`), never raised.
        """
        track = self._devices.get(device)
        issued = (
            None
            if track is None
            else next((i for i in reversed(track.issued) if i.trigger_id == fb.trigger_id), None)
        )
        if track is None or issued is None:
            if track is not None:
                _count(track, FeedbackStatus.UNKNOWN_TRIGGER)
            else:
                self._orphan_feedback += 1
            return _result(device, fb, FeedbackStatus.UNKNOWN_TRIGGER, {})
        if issued.answer:
            _count(track, FeedbackStatus.DUPLICATE)
            return _result(device, fb, FeedbackStatus.DUPLICATE, {})
        issued.answer = fb.verdict.value
        changes = self._apply_feedback(track, issued, fb)
        _count(track, FeedbackStatus.APPLIED)
        track.feedback.append(
            FeedbackEntry(
                t_s=fb.t_s, trigger_id=fb.trigger_id, rule=issued.rule, verdict=fb.verdict.value
            )
        )
        while len(track.feedback) > self._config.learning.remember_triggers:
            track.feedback.popleft()
        return _result(device, fb, FeedbackStatus.APPLIED, changes)

    def _apply_feedback(
        self, device: DeviceTrack, issued: Issued, fb: Feedback
    ) -> dict[str, float]:
        learning = self._config.learning
        changes: dict[str, float] = {}
        rule = device.rules.get(issued.rule)
        if fb.verdict is FeedbackVerdict.NOT_NOW:
            device.snooze_until_s = max(device.snooze_until_s, fb.t_s + learning.snooze_s)
            changes["snooze_until_s"] = device.snooze_until_s
        elif fb.verdict is FeedbackVerdict.DID_EXERCISE:
            now = self._raise(device.raise_activity, fb.t_s)
            device.raise_activity = (min(now + learning.false_alarm_step, 1.0), fb.t_s)
            changes["activity"] = device.raise_activity[0]
        elif fb.verdict in (FeedbackVerdict.FALSE_ALARM, FeedbackVerdict.HELPFUL) and rule:
            step = learning.false_alarm_step
            if fb.verdict is FeedbackVerdict.HELPFUL:
                step = -step
            paths = [("level", issued.level), ("evidence", issued.evidence)]
            for name, fired in paths:
                if not fired:
                    continue
                attr = f"raise_{name}"
                now = self._raise(getattr(rule, attr), fb.t_s)
                new = min(max(now + step, 0.0), 1.0)
                setattr(rule, attr, (new, fb.t_s))
                changes[f"{issued.rule}.{name}"] = new
        if fb.verdict is FeedbackVerdict.HELPFUL:
            deltas = device.history.setdefault(
                issued.exercise_id, deque(maxlen=self._config.outcome.history)
            )
            deltas.append(learning.helpful_delta)
            changes[f"exercise:{issued.exercise_id}"] = posterior(tuple(deltas), learning)[0]
        return changes

    def last_trigger_id(self, device: str) -> str | None:
        """The id of ``device``'s newest remembered trigger (None before any): what feedback
        without a trigger id answers."""
        track = self._devices.get(device)
        return track.issued[-1].trigger_id if track is not None and track.issued else None

    def feedback_counts(self, device: str) -> dict[str, int]:
        """Feedback per `FeedbackStatus` value for ``device`` (refused ones included)."""
        track = self._devices.get(device)
        return {} if track is None else dict(track.feedback_counts)

    @property
    def orphan_feedback(self) -> int:
        """Feedback for devices this evaluator never saw (refused, not persisted)."""
        return self._orphan_feedback

    def explain(self, device: str, *, t_s: float | None = None) -> dict[str, Any]:
        """The person's current thresholds, exercise ranking and the feedback that moved them.

        JSON-ready. ``t_s`` (default: the device's last valid window) is when
        the decaying raises are evaluated.
        """
        track = self._devices.get(device)
        if track is None:
            return {"device": device, "known": False}
        now = track.last_valid_s if t_s is None else t_s
        now = 0.0 if math.isnan(now) else now
        learning = self._config.learning
        rules: dict[str, Any] = {}
        for rule in self._config.rules:
            rt = track.rules[rule.name]
            entry: dict[str, Any] = {
                "state": rt.state.value,
                "raise_level": self._raise(rt.raise_level, now),
                "enter": [str(c) for c in self._enter(rule, rt, now)],
            }
            if rule.evidence is not None:
                k, h = self._evidence_limits(rule.evidence, rt, now)
                entry |= {
                    "raise_evidence": self._raise(rt.raise_evidence, now),
                    "evidence": {
                        "k": k,
                        "h_z_min": h,
                        "s_z_min": rt.cusum.s_z_min,
                        "reference": rt.cusum.reference,
                        "weights": dict(rule.evidence.weights),
                    },
                }
            ranking = []
            for exercise in rule.exercises:
                obs = tuple(track.history.get(exercise, ()))
                mean, sd = posterior(obs, learning)
                ranking.append((mean, sd, len(obs), exercise))
            ranking.sort(key=lambda e: -e[0])
            entry["exercises"] = [
                {"exercise": ex, "mean_delta_ln_rmssd": m, "sd": sd, "n": n}
                for m, sd, n, ex in ranking
            ]
            rules[rule.name] = entry
        return {
            "device": device,
            "known": True,
            "t_s": now,
            "half_life_days": learning.half_life_days,
            "activity": track.activity.state.value,
            "breathing": breathing_verdict(track.activity),
            "raise_activity": self._raise(track.raise_activity, now),
            "reference": {
                "hr_bpm": track.reference.hr_bpm,
                "ln_rmssd": track.reference.ln_rmssd,
                "rest_hr_bpm": track.reference.rest_hr_bpm,
            },
            "snooze_until_s": track.snooze_until_s if track.snooze_until_s > now else None,
            "rules": rules,
            "feedback": [
                {"t_s": f.t_s, "trigger_id": f.trigger_id, "rule": f.rule, "verdict": f.verdict}
                for f in track.feedback
            ],
            "feedback_counts": dict(track.feedback_counts),
        }


def _shifted(condition: Condition, rel: float) -> Condition:
    """``condition`` with its threshold moved by ``rel`` of its size away from holding."""
    step = rel * abs(condition.threshold)
    up = condition.op in (Op.GE, Op.GT)
    return dataclasses.replace(condition, threshold=condition.threshold + (step if up else -step))


def _count(track: DeviceTrack, status: FeedbackStatus) -> None:
    track.feedback_counts[status.value] = track.feedback_counts.get(status.value, 0) + 1


def _result(
    device: str, fb: Feedback, status: FeedbackStatus, changes: Mapping[str, float]
) -> FeedbackResult:
    return FeedbackResult(
        device=device, trigger_id=fb.trigger_id, verdict=fb.verdict, status=status, changes=changes
    )


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else math.nan
