"""``outcomes.csv``: one row per `recommender.Outcome`, columns exactly its fields."""

from __future__ import annotations

from recommender import Outcome
from vagus.session._flat_table import FlatTable

OUTCOMES = FlatTable(Outcome)
