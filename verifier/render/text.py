"""Plain-text presenter: tabulate tables, verdict first, difference trees indented."""

from __future__ import annotations

from tabulate import tabulate

from verifier.render import sections as s
from verifier.report.model import Report
from verifier.render.escape import clean, clean_block
from verifier.render.tree import Node, label, walk

DIFF_LINES = 20


def _table(rows: list[s.Row], headers: tuple[str, ...] = ()) -> str:
    cleaned = [[clean(v) for v in row] for row in rows]
    if not cleaned:
        return "  (none)"
    return str(tabulate(cleaned, headers=list(headers), tablefmt="simple", disable_numparse=True))


def _section(heading: str, body: str) -> str:
    return f"{heading}\n{'=' * len(heading)}\n{body}\n"


def _verdict(report: Report) -> str:
    lines = [f"VERDICT: {clean(report.verdict)}  ({clean(report.title)})"]
    lines += [f"  - {clean(r)}" for r in report.reasons]
    return "\n".join(lines) + "\n"


def _node_lines(node: Node) -> list[str]:
    pad = "  " * (node.depth + 1)
    lines = [f"{pad}{'└─' if node.depth else '●'} {clean(label(node))}" + (f" [{clean(node.kind)}]" if node.kind else "")]
    lines += [f"{pad}   # {clean(c)}" for c in node.comments]
    lines += [f"{pad}   hint: {clean(h)}" for h in node.hints]
    if node.unified_diff:
        lines += [f"{pad}   │ {line}" for line in clean_block(node.unified_diff, DIFF_LINES).split("\n")]
    return lines


def _differences(report: Report) -> str:
    out: list[str] = []
    for a in report.artifacts:
        notes = [f"  # {clean(c)}" for c in a.comments]
        if not a.difference and not notes:
            continue
        out.append(f"{clean(a.name)}: {clean(a.status)}")
        out += notes
        for item in walk(a.difference):
            out += _node_lines(item) if isinstance(item, Node) else [f"    {item}"]
    return "\n".join(out) if out else "  (none)"


def render_text(report: Report) -> str:
    parts = [
        _verdict(report),
        _section("Inputs", _table(s.input_rows(report), s.INPUT_HEADERS)),
        _section("Environment", _table(s.environment_rows(report))),
        _section("Build", _table(s.build_rows(report))),
        _section("Artifacts", _table([s.artifact_row(a) for a in report.artifacts], s.ARTIFACT_HEADERS)),
        _section("Differences", _differences(report)),
        _section("Packages", _table(s.packages_summary(report)) + "\n\n" + _table(s.drift_rows(report), s.DRIFT_HEADERS)),
        _section("Timings", _table(s.timing_rows(report))),
    ]
    return "\n".join(parts)
