"""Rule conditions: a tiny comparison language over `WindowMetrics` fields, parsed, never eval'd.

Grammar (whitespace between tokens is free)::

    condition := term OP NUMBER
    term      := FIELD | FIELD "-" FIELD
    OP        := ">=" | "<=" | ">" | "<"

``FIELD`` is a numeric field of `hrv.WindowMetrics` (``stress``,
``ln_rmssd_z``, ``hr_bpm``, ``baseline_hr_bpm``, ...). A NaN figure (no
baseline yet, a window that cannot support it) makes the condition false.
"""

from __future__ import annotations

import enum
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from hrv import WINDOW_FIGURES, WindowMetrics

NUMERIC_FIELDS = frozenset(WINDOW_FIGURES)

_PATTERN = re.compile(
    r"^\s*(?P<left>[a-z_][a-z0-9_]*)\s*(?:-\s*(?P<right>[a-z_][a-z0-9_]*)\s*)?"
    r"(?P<op>>=|<=|>|<)\s*(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)


class Op(enum.StrEnum):
    """A comparison operator."""

    GE = ">="
    LE = "<="
    GT = ">"
    LT = "<"


_COMPARE: dict[Op, Callable[[float, float], bool]] = {
    Op.GE: operator.ge,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.LT: operator.lt,
}


class ConditionSyntaxError(ValueError):
    """Text that is not a condition; says what was expected."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """``left [- right] op threshold`` over one window."""

    left: str
    right: str | None
    op: Op
    threshold: float

    @property
    def term(self) -> str:
        """The compared expression as written, e.g. ``hr_bpm - baseline_hr_bpm``."""
        return self.left if self.right is None else f"{self.left} - {self.right}"

    def value(self, window: WindowMetrics) -> float:
        """The term's value in ``window`` (NaN when a figure is missing)."""
        left = float(getattr(window, self.left))
        return left if self.right is None else left - float(getattr(window, self.right))

    def holds(self, window: WindowMetrics) -> bool:
        """True when the comparison is true; false for a NaN value."""
        value = self.value(window)
        return not math.isnan(value) and _COMPARE[self.op](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.term} {self.op} {self.threshold:g}"


def parse_condition(text: str) -> Condition:
    """Parse ``"stress >= 70"`` or ``"hr_bpm - baseline_hr_bpm >= 15"``; raise on anything else."""
    match = _PATTERN.match(text)
    if match is None:
        raise ConditionSyntaxError(
            "expected 'FIELD OP NUMBER' or 'FIELD - FIELD OP NUMBER' with OP one of >= <= > <"
        )
    for name in (match["left"], match["right"]):
        if name is not None and name not in NUMERIC_FIELDS:
            raise ConditionSyntaxError(
                f"unknown field {name!r}; known: {', '.join(sorted(NUMERIC_FIELDS))}"
            )
    threshold = float(match["value"])
    if not math.isfinite(threshold):
        raise ConditionSyntaxError("the threshold must be a finite number")
    return Condition(
        left=match["left"], right=match["right"], op=Op(match["op"]), threshold=threshold
    )
