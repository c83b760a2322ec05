"""Self-contained HTML reports of sessions: summary, charts (inline SVG) and triggers."""

from vagus.report._page import render_report
from vagus.report._summary import STRESS_HIGH, Summary, summarize

__all__ = ["STRESS_HIGH", "Summary", "render_report", "summarize"]
