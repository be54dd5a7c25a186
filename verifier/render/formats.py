"""Report formats: an enum mapped to presenters, checked exhaustively at import time."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from verifier.render.html import render_html
from verifier.render.junit import render_junit
from verifier.render.markdown import render_markdown
from verifier.render.text import render_text
from verifier.report.document import report_bytes


class ReportFormat(StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    HTML = "html"
    JSON = "json"
    JUNIT = "junit"


def render_json(report: dict[str, Any]) -> str:
    """The canonical report JSON: the very bytes the pipeline writes (sorted keys, UTF-8)."""
    return report_bytes(report).decode("utf-8")


Presenter = Callable[[dict[str, Any]], str]
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
