"""Report formats: an enum mapped to presenters, checked exhaustively at import time."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from verifier.render.html import render_html
from verifier.render.junit import render_junit
from verifier.render.markdown import render_markdown
from verifier.render.text import render_text
from verifier.report.codec import report_bytes
from verifier.report.model import Report


class ReportFormat(StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    HTML = "html"
    JSON = "json"
    JUNIT = "junit"


def render_json(report: Report) -> str:
    """The canonical report JSON: the very bytes the pipeline writes (sorted keys, ASCII)."""
    return report_bytes(report).decode("utf-8")


Presenter = Callable[[Report], str]
PRESENTERS: dict[ReportFormat, Presenter] = {
    ReportFormat.TEXT: render_text,
    ReportFormat.MARKDOWN: render_markdown,
    ReportFormat.HTML: render_html,
    ReportFormat.JSON: render_json,
    ReportFormat.JUNIT: render_junit,
}
_missing = set(ReportFormat) - PRESENTERS.keys()
if _missing:  # a new format without a presenter is a bug caught on import, not at run time
    raise RuntimeError(f"report formats without a presenter: {sorted(_missing)}")
