"""Markdown presenter: compact enough for a CI job summary (GitHub/GitLab flavoured).

Verdict and reasons, the artifacts table (digests shortened; the full value in a tooltip),
then each difference tree with its hints first; empty fields and an unchecked package
manifest are left out; long lists are capped (a GitHub job summary is capped at 1 MiB).
"""

from __future__ import annotations

import re
from enum import StrEnum

from verifier.compare.difference import Difference
from verifier.render import sections as s
from verifier.render.escape import clean_block, html_text, md_text
from verifier.render.tree import MAX_MEMBERS, Node, hints, outline, walk
from verifier.render.values import short_digest
from verifier.report.model import Report

ICON = {"REPRODUCIBLE": "✅", "EQUIVALENT": "🟡", "DIFFERENT": "❌", "INCONCLUSIVE": "⚠️",
        "IDENTICAL": "✅", "MISSING": "❌", "EXTRA": "❌", "MATCH": "✅", "DRIFT": "⚠️", "NOT_CHECKED": "➖",
        "REBUILT-IDENTICAL": "✅", "NOT-CHECKED": "⚠️"}
DIFF_LINES = 40
MAX_TREES = 20
MAX_ROWS = 300
MEMBERS_SHOWN = 20


def _table(rows: list[s.Row], headers: tuple[str, ...]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return out + ["| " + " | ".join(md_text(v) for v in row) + " |" for row in rows]


def _status(value: StrEnum) -> str:
    return f"{ICON[value.value]} {md_text(value)}"


def _digest(value: s.Cell) -> str:
    """Raw HTML (GitHub renders it in tables): the short digest, the full one on hover."""
    if not value:
        return "–"
    return f'<code title="{html_text(value, 80)}">{html_text(short_digest(value))}</code>'


def _fence(block: str) -> list[str]:
    longest = max((len(m) for m in re.findall(r"`+", block)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}diff", block, fence]


def _members(node: Node) -> str:
    names = ", ".join(md_text(m, 80) for m in node.view.members[:MEMBERS_SHOWN])
    more = node.view.count - min(node.view.count, MEMBERS_SHOWN, MAX_MEMBERS)
    return names + (f", … and {more} more" if more else "")


def _node(node: Node) -> list[str]:
    v, pad = node.view, "  " * node.depth
    head = f"{pad}- **{md_text(v.label)}**"
    head += f": {_members(node)}" if v.count > 1 else ""
    head += f": {md_text(v.change)}" if v.change is not None else (f" ({md_text(v.kind)})" if v.kind and v.count == 1 else "")
    lines = [head] + [f"{pad}  - {md_text(c)}" for c in v.comments]
    if v.diff:
        block = "\n".join(_fence(clean_block(v.diff, DIFF_LINES)))
        lines += [pad + "  " + line for line in block.split("\n")]
    return lines


def tree_lines(tree: Difference | None) -> list[str]:
    """Hints first (where they were found, in italics), then the tree as nested lists."""
    root = outline(tree)
    lines = [f"- 💡 {md_text(h.text)}" + (f" _(at {md_text(h.where)})_" if h.where else "") for h in hints(root)]
    for item in walk(root):
        lines += _node(item) if isinstance(item, Node) else [f"- _{md_text(item)}_"]
    return lines


def _differences(report: Report) -> list[str]:
    differing = [a for a in s.differing_first(report) if a.difference]
    shown, more = s.capped(differing, MAX_TREES)
    out: list[str] = ["", "### Differences"] if shown else []
    for i, a in enumerate(shown):
        summary = f"{html_text(a.name)}: {a.status.value}"  # raw HTML: no Markdown escapes
        out += ["", f"<details{' open' if i == 0 else ''}><summary>{summary}</summary>", ""]
        out += tree_lines(a.difference) + ["", "</details>"]
    return out + (["", f"_{md_text(s.more_line(more, 'difference trees'))}_"] if more else [])


def _artifacts(report: Report) -> list[str]:
    shown, more = s.summary_artifacts(report, MAX_ROWS)
    rows = []
    for a in shown:
        name, _, official, rebuilt, sizes = s.artifact_row(a)
        same = official is not None and rebuilt == official
        notes = "; ".join(md_text(c) for c in a.comments)
        rows.append(f"| {md_text(name)} | {_status(a.status)} | {_digest(official)} | "
                    f"{'same' if same else _digest(rebuilt)} | {md_text(sizes)} | {notes} |")
    head = ["| artifact | status | official sha256 | rebuilt sha256 | size | notes |", "|---|---|---|---|---|---|"]
    tail = ["", f"_{md_text(more)}_"] if more else []
    return head + rows + tail if rows else ["_no artifacts_"]


def _packages(report: Report) -> list[str]:
    if not s.packages_checked(report):
        return []
    lines = ["", f"### Packages: {_status(report.packages.status)}", ""]
    reason = report.packages.reason
    lines += [md_text(reason), ""] if reason else []
    drift = s.drift_rows(report)
    return lines + (_table(drift, s.DRIFT_HEADERS) if drift else [])


def _environment_check(report: Report) -> list[str]:
    c = report.environment_check
    if c is None:
        return []
    lines = ["", f"### Environment check: {_status(c.status)}", "", md_text(c.reason), ""]
    files, more = s.environment_file_rows(report)
    lines += _table(files, s.ENV_FILE_HEADERS) + ([f"_{md_text(s.more_line(more, 'files'))}_"] if more else []) if files else []
    packages, more = s.environment_package_rows(report)
    lines += [""] + _table(packages, s.ENV_PACKAGE_HEADERS) if packages else []
    return lines + ([f"_{md_text(s.more_line(more, 'packages'))}_"] if packages and more else [])


def _inputs(report: Report) -> list[s.Row]:
    return [(role, name, short_digest(digest), size, url) for role, name, digest, size, url in s.input_rows(report)]


def _pypi(report: Report) -> list[str]:
    if report.pypi is None:
        return []
    policies = [(n, e, tz, short_digest(d) if d else None, same, note) for n, e, tz, d, same, note in s.policy_rows(report)]
    packages = [(n, v, short_digest(d), u) for n, v, d, u in s.build_package_rows(report)]
    lines = ["", f"### Python release: matched policy {md_text(report.pypi.matched_policy or 'none')}", ""]
    lines += _table(s.filled(s.pypi_rows(report)), ("field", "value")) + [""] + _table(policies, s.POLICY_HEADERS)
    return lines + ([""] + _table(packages, s.BUILD_PACKAGE_HEADERS) if packages else [])


def render_markdown(report: Report) -> str:
    shown, more = s.reasons(report)
    lines = [f"## {_status(report.verdict)}: {md_text(report.title)}", ""]
    lines += [f"- {md_text(r)}" for r in shown] + ([f"- _{md_text(s.more_line(more, 'reasons'))}_"] if more else [])
    errors = s.build_errors(report)
    lines += ["", s.ERRORS_HEADING, "", *(f"- {md_text(e)}" for e in errors)] if errors else []
    lines += _differences(report) + ["", "### Artifacts", ""] + _artifacts(report) + _packages(report)
    lines += _environment_check(report)
    lines += _pypi(report)
    lines += ["", "<details><summary>Inputs, environment and build</summary>", ""]
    lines += _table(_inputs(report), s.INPUT_HEADERS) + [""]
    lines += _table(s.filled(s.environment_rows(report) + s.build_rows(report) + s.debian_rows(report)), ("field", "value"))
    lines += ["", "</details>", ""]
    return "\n".join(lines)
