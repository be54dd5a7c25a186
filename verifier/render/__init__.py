"""Presenters of the verify report (``Report``): text, Markdown, HTML, JSON, JUnit XML,
and a badge; and of a comparison (``comparison.py``).

Every presenter is deterministic (same report, same output) and escapes every string it
takes from the report (see ``escape.py``). Reports are validated when loaded
(verifier/report/codec.py), so a presenter never meets a malformed one.
"""

from __future__ import annotations

from verifier.render.badge import Badge, render_badge
from verifier.render.formats import PRESENTERS, ReportFormat
from verifier.report.model import Report


def render(report: Report, fmt: ReportFormat) -> str:
    """The report in ``fmt``."""
    return PRESENTERS[fmt](report)


__all__ = ["Badge", "ReportFormat", "render", "render_badge"]
