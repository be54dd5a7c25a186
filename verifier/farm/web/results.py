"""A stored result made readable: its report read back through the codec (validated like
any saved report: it came from a worker, which ran untrusted builds), the reasons, and
each differing artifact's difference tree as text lines; the full page through the
report's own HTML presenter.

The lines here are cleaned (control and bidi characters visible) but not HTML-escaped:
the templates' autoescape does that, and the JSON carries them as they are.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from verifier.errors import InputError
from verifier.farm.web.views import ResultView
from verifier.render import ReportFormat, render
from verifier.render import sections as s
from verifier.render.escape import clean
from verifier.render.text import tree_lines
from verifier.report.codec import parse_report
from verifier.report.model import Report

MAX_DIFFS = 50
MAX_DIFF_LINES = 2000
CACHED_REPORTS = 32


@dataclass(frozen=True)
class ArtifactDiff:
    name: str
    status: str
    lines: tuple[str, ...]
    more_lines: int


@dataclass(frozen=True)
class ResultDetail:
    """What a job's page and ``/api/jobs/ID`` show of its result, beyond the row."""

    result: ResultView
    reasons: tuple[str, ...]  # as the report's summaries show them: the first ones, extra outputs summed up
    more_reasons: int
    diffs: tuple[ArtifactDiff, ...]
    more_diffs: int
    problem: str  # the stored report could not be read: why ("" when it could)


def _diff(name: str, status: str, lines: list[str]) -> ArtifactDiff:
    return ArtifactDiff(clean(name), status, tuple(lines[:MAX_DIFF_LINES]), max(0, len(lines) - MAX_DIFF_LINES))


def _diffs(report: Report) -> tuple[tuple[ArtifactDiff, ...], int]:
    shown, more = s.capped(s.explained(report), MAX_DIFFS)
    return tuple(_diff(a.name, a.status.value, [f"# {clean(c)}" for c in a.comments] + tree_lines(a.difference, ""))
                 for a in shown), more


class Reports:
    """Parsed reports of recent results, per app (results are written once, so a parsed
    report never goes stale); a page and its embedded report read and parse the JSON once."""

    def __init__(self, size: int = CACHED_REPORTS) -> None:
        self._size, self._lock = size, threading.Lock()
        self._parsed: OrderedDict[tuple[int, str], Report] = OrderedDict()

    def read(self, result: ResultView, load: Callable[[int], bytes | None]) -> Report:
        key = (result.job_id, result.report_sha256)
        with self._lock:
            if key in self._parsed:
                self._parsed.move_to_end(key)
                return self._parsed[key]
        report = parse_report(load(result.job_id) or b"", f"job {result.job_id}: report")
        with self._lock:
            self._parsed[key] = report
            while len(self._parsed) > self._size:
                self._parsed.popitem(last=False)
        return report

    def detail(self, result: ResultView, load: Callable[[int], bytes | None]) -> ResultDetail:
        try:
            report = self.read(result, load)
        except InputError as exc:
            return ResultDetail(result, (), 0, (), 0, exc.message)
        diffs, more = _diffs(report)
        reasons, more_reasons = s.reasons(report)
        return ResultDetail(result, tuple(reasons), more_reasons, diffs, more, "")

    def page(self, result: ResultView, load: Callable[[int], bytes | None]) -> str:
        """The report's own HTML page (self-contained, its own CSP); InputError if unreadable."""
        return render(self.read(result, load), ReportFormat.HTML)
