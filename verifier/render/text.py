"""Plain-text presenter: verdict first, then what differs (hints first), then the details.

Tables fit 100 columns (digests shortened, long values wrapped); empty fields are left
out; long lists are capped with "… and K more, see the JSON report".
"""

from __future__ import annotations

from tabulate import tabulate

from verifier.compare.difference import Difference
from verifier.render import sections as s
from verifier.render.escape import clean, clean_block
from verifier.render.tree import MAX_MEMBERS, Node, View, hints, outline, walk
from verifier.render.values import short_digest
from verifier.report.model import Report
from verifier.stages import BuildStatus

DIFF_LINES = 20
LOG_LINES = 10
MAX_ROWS = 50
MAX_TREES = 20
MEMBERS_SHOWN = 8
WIDTH = 100
# sizes are never wrapped (a number cut in two reads as another number): the other columns give way
INPUT_WIDTHS: list[int | None] = [11, 20, 13, None, 35]
ARTIFACT_HEADERS = ("artifact", "status", "official sha256", "rebuilt sha256", "size")
ARTIFACT_WIDTHS: list[int | None] = [30, 10, 15, 15, None]
FIELD_WIDTHS = [18, 78]


def _table(rows: list[s.Row], headers: tuple[str, ...] = (), widths: list[int | None] | None = None) -> str:
    cleaned = [[clean(v) for v in row] for row in rows]
    return str(tabulate(cleaned, headers=list(headers), tablefmt="simple", disable_numparse=True,
                        maxcolwidths=widths or FIELD_WIDTHS))


def _section(heading: str, body: str) -> str:
    return f"{heading}\n{'=' * len(heading)}\n{body}\n"


def _verdict(report: Report) -> str:
    shown, more = s.reasons(report)
    lines = [f"VERDICT: {report.verdict.value}  ({clean(report.title)})"]
    lines += [f"  - {clean(r)}" for r in shown]
    lines += [f"  {s.more_line(more, 'reasons')}"] if more else []
    errors = s.build_errors(report)
    lines += [f"  {s.ERRORS_HEADING}"] + [f"    │ {clean(e)}" for e in errors] if errors else []
    return "\n".join(lines) + "\n"


def _members(view: View) -> str:
    names = ", ".join(clean(m, 80) for m in view.members[:MEMBERS_SHOWN])
    more = view.count - min(view.count, MEMBERS_SHOWN, MAX_MEMBERS)
    return names + (f", … and {more} more" if more else "")


def node_lines(node: Node) -> list[str]:
    """One node of a difference tree, indented; hints are shown before the tree, not here."""
    v, pad = node.view, "  " * (node.depth + 1)
    head = f"{pad}{'└─' if node.depth else '●'} {clean(v.label)}"
    if v.count > 1:
        head += f": {_members(v)}"
    if v.change is not None:
        head += f": {clean(v.change)}"
    elif v.kind and v.count == 1:
        head += f" [{clean(v.kind)}]"
    lines = [head] + [f"{pad}   # {clean(c)}" for c in v.comments]
    if v.diff:
        lines += [f"{pad}   │ {line}" for line in clean_block(v.diff, DIFF_LINES).split("\n")]
    return lines


def tree_lines(tree: Difference | None, indent: str = "  ") -> list[str]:
    """Hints first (with where they were found), then the tree."""
    root = outline(tree)
    lines = []
    for h in hints(root):
        where = f"  (at {clean(h.where)}" + (f" and {h.elsewhere} more places" if h.elsewhere else "") + ")"
        lines.append(f"{indent}hint: {clean(h.text)}{where if h.where else ''}")
    for item in walk(root):
        lines += node_lines(item) if isinstance(item, Node) else [f"    {clean(item)}"]
    return lines


def _differences(report: Report) -> str:
    shown, more = s.capped(s.explained(report), MAX_TREES)
    out: list[str] = []
    for a in shown:
        out.append(f"{clean(a.name)}: {a.status.value}")
        out += [f"  # {clean(c)}" for c in a.comments]
        out += tree_lines(a.difference)
    out += [s.more_line(more, "artifacts with differences")] if more else []
    return "\n".join(out)


def _artifact_rows(report: Report) -> tuple[list[s.Row], str]:
    shown, more = s.summary_artifacts(report, MAX_ROWS)
    rows = []
    for a in shown:
        name, status, official, rebuilt, sizes = s.artifact_row(a)
        same = official is not None and rebuilt == official
        rows.append((name, status, short_digest(official), "(same)" if same else short_digest(rebuilt), sizes))
    return rows, more


def _artifacts(report: Report) -> str:
    rows, more = _artifact_rows(report)
    if not rows:
        return "no artifacts"
    table = _table(rows, ARTIFACT_HEADERS, ARTIFACT_WIDTHS)
    return table + (f"\n{clean(more)}" if more else "")


def _inputs(report: Report) -> str:
    rows = [(role, name, short_digest(digest), size, url) for role, name, digest, size, url in s.input_rows(report)]
    return _table(rows, s.INPUT_HEADERS, INPUT_WIDTHS)


def _packages(report: Report) -> str:
    summary = _table(s.filled(s.packages_summary(report)))
    drift = s.drift_rows(report)
    return summary + ("\n\n" + _table(drift, s.DRIFT_HEADERS, [24, 22, 22, 26]) if drift else "")


def _build(report: Report) -> str:
    """The build's fields; when it did not succeed, the last lines it printed too."""
    table = _table(s.filled(s.build_rows(report)))
    b = report.build
    if b.status in (None, BuildStatus.SUCCEEDED) or not b.log_tail.strip():
        return table
    tail = clean_block("\n".join(b.log_tail.rstrip("\n").split("\n")[-LOG_LINES:]), LOG_LINES)
    return table + "\n\nlast lines of the build log:\n" + "\n".join(f"  │ {line}" for line in tail.split("\n"))


def _environment_check(report: Report) -> str:
    parts = [_table(s.filled(s.environment_check_rows(report)))]
    files, more = s.environment_file_rows(report)
    if files:
        parts.append(_table(files, s.ENV_FILE_HEADERS, [40, 20, 36]) + (f"\n{s.more_line(more, 'files')}" if more else ""))
    packages, more = s.environment_package_rows(report)
    if packages:
        parts.append(_table(packages, s.ENV_PACKAGE_HEADERS, [24, 8, 18, 18, 26])
                     + (f"\n{s.more_line(more, 'packages')}" if more else ""))
    return "\n\n".join(parts)


def _pypi(report: Report) -> str:
    policies = [(n, e, tz, short_digest(d) if d else None, same, note) for n, e, tz, d, same, note in s.policy_rows(report)]
    packages = [(n, v, short_digest(d), u) for n, v, d, u in s.build_package_rows(report)]
    return "\n\n".join([_table(s.filled(s.pypi_rows(report))), _table(policies, s.POLICY_HEADERS),
                        _table(packages, s.BUILD_PACKAGE_HEADERS) if packages else "no build packages"])


def render_text(report: Report) -> str:
    parts = [_verdict(report), _section("Artifacts", _artifacts(report))]
    differences = _differences(report)
    parts += [_section("Differences", differences)] if differences else []
    if s.packages_checked(report):
        parts.append(_section("Packages", _packages(report)))
    if report.environment_check is not None:
        parts.append(_section("Environment check", _environment_check(report)))
    if report.pypi is not None:
        parts.append(_section("Python release", _pypi(report)))
    parts += [
        _section("Build", _build(report)),
        *([_section("Debian", _table(s.filled(s.debian_rows(report))))] if report.debian else []),
        _section("Inputs", _inputs(report)),
        _section("Environment", _table(s.filled(s.environment_rows(report)))),
        _section("Timings", _table(s.filled(s.timing_rows(report)))),
    ]
    return "\n".join(parts)
