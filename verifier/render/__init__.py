"""Presenters of the verify report: text, Markdown, HTML, JSON, JUnit XML, and a badge.

Every presenter is deterministic (same report, same output) and escapes every string it
takes from the report (see ``escape.py``). A report with the wrong shape is an
``InputError``, never a crash.
"""

from __future__ import annotations

from typing import Any

from verifier.errors import InputError
from verifier.render.badge import render_badge as _badge
from verifier.render.formats import PRESENTERS, ReportFormat


def render(report: dict[str, Any], fmt: ReportFormat) -> str:
    """The report in ``fmt``."""
    try:
        return PRESENTERS[ReportFormat(fmt)](report)
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as exc:
        raise InputError(f"report: cannot render as {fmt}: malformed field ({type(exc).__name__}: {exc})") from None


def render_badge(report: dict[str, Any]) -> dict[str, Any]:
    """shields.io endpoint JSON (schemaVersion 1) for the report's verdict."""
    return _badge(report)


__all__ = ["ReportFormat", "render", "render_badge"]
