"""Markdown presenter: compact enough for a CI job summary (GitHub/GitLab flavoured)."""

from __future__ import annotations

import re
from enum import StrEnum

from verifier.render import sections as s
from verifier.render.escape import clean_block, html_text, md_text
from verifier.render.tree import Node, label, walk
from verifier.report.model import Report

ICON = {"REPRODUCIBLE": "✅", "EQUIVALENT": "🟡", "DIFFERENT": "❌", "INCONCLUSIVE": "⚠️",
        "IDENTICAL": "✅", "MISSING": "❌", "EXTRA": "❌", "MATCH": "✅", "DRIFT": "⚠️", "NOT_CHECKED": "➖"}
DIFF_LINES = 40
MAX_TREES = 20  # a GitHub job summary is capped at 1 MiB
MAX_ROWS = 300


def _table(rows: list[s.Row], headers: tuple[str, ...]) -> list[str]:
    if not rows:
        return ["_none_"]
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(md_text(v) for v in row) + " |" for row in rows]
    return out


def _status(value: StrEnum) -> str:
    return f"{ICON[value.value]} {md_text(value)}"


def _code(value: s.Cell) -> str:
    return f"`{md_text(value, 80)}`" if value else "–"


def _fence(block: str) -> list[str]:
    longest = max((len(m) for m in re.findall(r"`+", block)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}diff", block, fence]


def _node(node: Node) -> list[str]:
    pad = "  " * node.depth
    lines = [f"{pad}- **{md_text(label(node))}**" + (f" ({md_text(node.kind)})" if node.kind else "")]
    lines += [f"{pad}  - {md_text(c)}" for c in node.comments]
    lines += [f"{pad}  - hint: {md_text(h)}" for h in node.hints]
    if node.unified_diff:
        block = "\n".join(_fence(clean_block(node.unified_diff, DIFF_LINES)))
        lines += [pad + "  " + line for line in block.split("\n")]
    return lines


def _differences(report: Report) -> list[str]:
    out: list[str] = []
    differing = [a for a in report.artifacts if a.difference]
    for a in differing[:MAX_TREES]:
        summary = f"{html_text(a.name)}: {html_text(a.status)}"  # raw HTML: no Markdown escapes
        out += ["", f"<details><summary>{summary}</summary>", ""]
        for item in walk(a.difference):
            out += _node(item) if isinstance(item, Node) else [f"- _{md_text(item)}_"]
        out += ["", "</details>"]
    if len(differing) > MAX_TREES:
        out += ["", f"_… and {len(differing) - MAX_TREES} more difference trees: see the HTML or JSON report_"]
    return out


def _artifacts(report: Report) -> list[str]:
    rows, shown = [], report.artifacts[:MAX_ROWS]
    for a in shown:
        name, _, official, rebuilt, sizes = s.artifact_row(a)
        notes = "; ".join(md_text(c) for c in a.comments)
        rows.append(f"| {md_text(name)} | {_status(a.status)} | {_code(official)} | {_code(rebuilt)} | {md_text(sizes)} | {notes} |")
    head = ["| artifact | status | official sha256 | rebuilt sha256 | size | notes |", "|---|---|---|---|---|---|"]
    more = len(report.artifacts) - len(shown)
    tail = ["", f"_… and {more} more artifacts: see the HTML or JSON report_"] if more > 0 else []
    return head + rows + tail if rows else ["_no artifacts_"]


def render_markdown(report: Report) -> str:
    lines = [f"## {_status(report.verdict)}: {md_text(report.title)}", ""]
    lines += [f"- {md_text(r)}" for r in report.reasons]
    lines += ["", "### Artifacts", ""] + _artifacts(report) + _differences(report)
    lines += ["", f"### Packages: {_status(report.packages.status)}", ""]
    lines += [f"{md_text(report.packages.reason)}", ""] + _table(s.drift_rows(report), s.DRIFT_HEADERS)
    lines += ["", "<details><summary>Inputs, environment and build</summary>", ""]
    lines += _table(s.input_rows(report), s.INPUT_HEADERS) + [""]
    lines += _table(s.environment_rows(report) + s.build_rows(report), ("field", "value"))
    lines += ["", "</details>", ""]
    return "\n".join(lines)
