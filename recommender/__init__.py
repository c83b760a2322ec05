"""Rules recommender: sustained stress -> breathing-exercise triggers (pure core).

Feed `WindowMetrics` to an `Evaluator` built from a `RecommenderConfig`
(`load_config` for the user's TOML, `default_config` for the shipped rules);
each call returns a `Step` with the `Trigger`s, `Outcome`s and rule
`Transition`s it caused. No clocks, no IO.

To survive a restart, save `Evaluator.snapshot()` (JSON-ready: it passes
``json.dumps(..., allow_nan=False)``) and hand it to `Evaluator.restore` on a
fresh evaluator: cooldowns, device gaps, open holds and pending outcomes carry
on where they were. A snapshot that does not parse raises `RuleStateError`.

Besides the level conditions a rule may accumulate sustained evidence
(`Evidence`, a one-sided CUSUM) and wait out physical activity
(`ActivitySettings`). `Evaluator.feedback(device, Feedback)` takes the
person's answer to a trigger and returns a `FeedbackResult`;
`Evaluator.explain(device)` says what the person's thresholds and exercise
ranking are and which feedback moved them.
"""

from recommender._activity import ActivitySettings, ActivityState
from recommender._conditions import Condition, ConditionSyntaxError, Op, parse_condition
from recommender._errors import (
    LocalTimeRequiredError,
    RecommenderError,
    RuleConfigError,
    RuleStateError,
)
from recommender._evaluator import Evaluator
from recommender._evidence import CusumState, Evidence, cusum_step
from recommender._exercises import (
    BOX,
    EXERCISE_IDS,
    FOUR_SEVEN_EIGHT,
    PHYSIOLOGICAL_SIGH,
    Exercise,
    Phase,
    PhaseKind,
    catalog,
    resonance,
)
from recommender._learning import (
    Feedback,
    FeedbackResult,
    FeedbackStatus,
    FeedbackVerdict,
    LearningSettings,
    posterior,
    thompson_rank,
)
from recommender._levels import StressLevel, stress_level
from recommender._outcomes import choose_exercise, exercise_score, judge, rank_exercises
from recommender._records import Outcome, Step, Transition, Trigger, Verdict, trigger_id
from recommender._reference import ReferenceSettings
from recommender._rules import (
    OutcomeSettings,
    QuietHours,
    RecommenderConfig,
    Rule,
    Severity,
    default_config,
    load_config,
    parse_config,
)
from recommender._states import TRANSITIONS, Event, RuleState, next_state

__all__ = [
    "BOX",
    "EXERCISE_IDS",
    "FOUR_SEVEN_EIGHT",
    "PHYSIOLOGICAL_SIGH",
    "TRANSITIONS",
    "ActivitySettings",
    "ActivityState",
    "Condition",
    "ConditionSyntaxError",
    "CusumState",
    "Evaluator",
    "Event",
    "Evidence",
    "Exercise",
    "Feedback",
    "FeedbackResult",
    "FeedbackStatus",
    "FeedbackVerdict",
    "LearningSettings",
    "LocalTimeRequiredError",
    "Op",
    "Outcome",
    "OutcomeSettings",
    "Phase",
    "PhaseKind",
    "QuietHours",
    "RecommenderConfig",
    "RecommenderError",
    "ReferenceSettings",
    "Rule",
    "RuleConfigError",
    "RuleState",
    "RuleStateError",
    "Severity",
    "Step",
    "StressLevel",
    "Transition",
    "Trigger",
    "Verdict",
    "catalog",
    "choose_exercise",
    "cusum_step",
    "default_config",
    "exercise_score",
    "judge",
    "load_config",
    "next_state",
    "parse_condition",
    "parse_config",
    "posterior",
    "rank_exercises",
    "resonance",
    "stress_level",
    "thompson_rank",
    "trigger_id",
]
