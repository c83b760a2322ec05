"""Errors of the recommender: a bad rule set or snapshot, or a call the evaluator cannot honour."""

from __future__ import annotations


class RecommenderError(Exception):
    """Root of every error the recommender raises."""


class RuleConfigError(RecommenderError):
    """A rule set that does not validate; names the rule (None: a global setting), field, value."""

    def __init__(self, *, rule: str | None, field: str, value: object, reason: str) -> None:
        self.rule = rule
        self.field = field
        self.value = value
        self.reason = reason
        where = "recommender settings" if rule is None else f"rule {rule!r}"
        super().__init__(f"{where}: {field} = {value!r}: {reason}")


class LocalTimeRequiredError(RecommenderError):
    """Quiet hours are configured but the caller did not pass the local time of a window."""

    def __init__(self, *, device: str, t_s: float) -> None:
        self.device = device
        self.t_s = t_s
        super().__init__(
            f"quiet hours are configured: pass local_time for the window of {device} at {t_s}"
        )


class RuleStateError(RecommenderError):
    """A snapshot `Evaluator.restore` cannot take: ``where`` in it (a dotted path) and why."""

    def __init__(self, *, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"evaluator snapshot: {where}: {reason}")
