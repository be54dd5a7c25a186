"""One self-contained HTML page: inline CSS only, no scripts, no external loads.

A Content-Security-Policy meta tag (``default-src 'none'; style-src 'unsafe-inline'``)
makes the browser refuse any load even if escaping were ever wrong. Every input-derived
string goes through ``html_text``/``html_block`` (control and bidi characters made
visible, then HTML-escaped).

Layout, for a reader: the verdict, then each artifact's differences with its hints first
and the tree open (nested ``<details>``) up to a size budget, diffs side by side with
coloured lines; then the artifacts table (digests shortened, the full value on hover and
when copied), packages (when checked), build, inputs, environment and timings. Empty
fields are left out; long lists are capped (the JSON keeps everything).
"""

from __future__ import annotations

import html

from verifier.render import sections as s
from verifier.render.escape import clean_block, html_block, html_text
from verifier.render.sidebyside import rows as side_by_side
from verifier.render.tree import MAX_MEMBERS, Node, View, hints, outline, walk
from verifier.report.codec import REPORT_VERSION
from verifier.report.model import Artifact, Report

CSP = "default-src 'none'; style-src 'unsafe-inline'"
CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:80em;padding:0 1em 2em;color:#1b1b1b}
header.verdict{margin:0 -1em .6em;padding:.6em 1em;color:#fff}
.v-REPRODUCIBLE{background:#1a7f37}.v-EQUIVALENT{background:#7d6608}
.v-DIFFERENT{background:#b42318}.v-INCONCLUSIVE{background:#57606a}
header h1{margin:0;font-size:1.8em}header p{margin:.1em 0}header ul{margin:.2em 0;padding-left:1.4em}
h2{font-size:1.25em;margin:.8em 0 .3em}h3{font-size:1.05em;margin:.5em 0 .2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #d0d7de;padding:.2em .5em;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f6f8fa}code,pre{font-family:ui-monospace,monospace;font-size:.85em}
pre{background:#f6f8fa;padding:.5em;overflow-x:auto;white-space:pre-wrap}
code.digest{display:inline-block;max-width:13ch;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom}
details{margin:.2em 0 .2em 1.2em}summary{cursor:pointer}p.leaf{margin:.2em 0 .2em 2.2em}
ul.hints{list-style:none;margin:.3em 0;padding:.4em .6em;background:#ddf4ff;border-left:4px solid #0550ae}
.hint{color:#0550ae}.hint small,.where{color:#57606a}.change{font-family:ui-monospace,monospace;font-size:.9em}
.comment{margin:.1em 0;color:#57606a}
table.sbs{width:100%;table-layout:fixed;font:.8em/1.35 ui-monospace,monospace;margin:.2em 0}
table.sbs td{border:0;padding:0 .4em;white-space:pre-wrap;overflow-wrap:anywhere}
td.del{background:#ffebe9}td.add{background:#dafbe1}td.hunk{background:#f6f8fa;color:#57606a}td.none{background:#f6f8fa}
.s-IDENTICAL,.s-MATCH{color:#1a7f37}.s-DIFFERENT,.s-MISSING,.s-EXTRA{color:#b42318;font-weight:bold}
.s-EQUIVALENT,.s-DRIFT{color:#7d6608;font-weight:bold}
"""
DIFF_LINES = 400
OPEN_LINES = 300  # differences are open until this many diff lines are shown open
OPEN_NODES = 60
MAX_ROWS = 500
MAX_TREES = 50
HEADER_REASONS = 6  # the first screen shows the verdict, its first reasons and the first difference


def _cell(value: s.Cell) -> str:
    return f"<td>{html_text(value)}</td>"


def _digest(value: s.Cell) -> str:
    """The whole digest, shown shortened by CSS: hover shows it, copying copies it."""
    if not value:
        return "<td></td>"
    full = html_text(value, 80)
    return f'<td><code class="digest" title="{full}">{full}</code></td>'


def _table(rows: list[s.Row], headers: tuple[str, ...] = ()) -> str:
    head = "<tr>" + "".join(f"<th>{html_text(h)}</th>" for h in headers) + "</tr>" if headers else ""
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def _section(ident: str, heading: str, body: str) -> str:
    return f'<section id="{ident}"><h2>{heading}</h2>\n{body}\n</section>'


def _more(count: int, what: str) -> str:
    return f'<p class="comment">{html_text(s.more_line(count, what))}</p>' if count else ""


def _more_text(line: str) -> str:
    return f'<p class="comment">{html_text(line)}</p>' if line else ""


def _header(report: Report) -> str:
    verdict = report.verdict.value
    shown, more = s.reasons(report, HEADER_REASONS)
    reasons = "".join(f"<li>{html_text(r)}</li>" for r in shown)
    reasons += f"<li>… and {more} more reasons: see Differences and Artifacts below, and the JSON report</li>" if more else ""
    errors = s.build_errors(report)
    shown_errors = f"<p>{s.ERRORS_HEADING}</p><pre>{html_block(chr(10).join(errors))}</pre>" if errors else ""
    return (f'<header id="verdict" class="verdict v-{verdict}"><h1>{verdict}</h1>'
            f"<p>{html_text(report.title)}</p><ul>{reasons}</ul>{shown_errors}</header>")


def _diff(diff: str) -> str:
    out = []
    for row in side_by_side(clean_block(diff, DIFF_LINES)):
        if row.kind in ("hunk", "note"):
            out.append(f'<tr><td class="hunk" colspan="2">{html.escape(row.left or "")}</td></tr>')
            continue
        left = "none" if row.left is None else ("del" if row.kind == "change" else "same")
        right = "none" if row.right is None else ("add" if row.kind == "change" else "same")
        out.append(f'<tr><td class="{left}">{html.escape(row.left or "")}</td>'
                   f'<td class="{right}">{html.escape(row.right or "")}</td></tr>')
    return f'<table class="sbs">{"".join(out)}</table>'


def _members(node: Node) -> str:
    v = node.view
    names = "".join(f"<li><code>{html_text(m)}</code></li>" for m in v.members)
    more = f"<li>… and {v.count - len(v.members)} more</li>" if v.count > min(len(v.members), MAX_MEMBERS) else ""
    return f'<details class="members"><summary>which {v.count} members</summary><ul>{names}{more}</ul></details>'


def _title(node: Node) -> str:
    v = node.view
    title = html_text(v.label)
    if v.change is not None:
        title += f': <span class="change">{html_text(v.change)}</span>'
    elif v.kind and v.count == 1:
        title += f" <small>[{html_text(v.kind)}]</small>"
    return title


def _is_leaf(node: Node) -> bool:
    """Nothing to open: a field change or a bare name, shown as one line."""
    v = node.view
    return not (v.children or v.diff or v.comments or v.count > 1 or v.hidden or v.unread)


def _node_body(node: Node) -> str:
    v = node.view
    parts = [f"<summary>{_title(node)}</summary>"]
    parts += [_members(node)] if v.count > 1 else []
    parts += [f'<p class="comment">{html_text(c)}</p>' for c in v.comments]
    parts += [_diff(v.diff)] if v.diff else []
    return "".join(parts)


def _hints(root: View | None) -> str:
    items = "".join(f'<li class="hint"><strong>hint</strong> {html_text(h.text)}'
                    + (f' <small>at {html_text(h.where)}</small>' if h.where else "") + "</li>" for h in hints(root))
    return f'<ul class="hints">{items}</ul>' if items else ""


class OpenBudget:
    """How much of the page's differences may be open at first: the first nodes and diff
    lines, page-wide; the rest are closed (one click away)."""

    def __init__(self) -> None:
        self.lines, self.nodes = OPEN_LINES, OPEN_NODES

    def take(self, view: View) -> bool:
        self.lines -= min((view.diff or "").count("\n"), DIFF_LINES)
        self.nodes -= 1
        return self.lines >= 0 and self.nodes >= 0


def _tree(root: View | None, budget: OpenBudget) -> str:
    """Nested <details> (open within the budget), closed as the depth falls."""
    out = []
    open_count = 0
    for item in walk(root):
        if isinstance(item, str):
            out.append(f"<p><em>{html_text(item)}</em></p>")
            continue
        while open_count > item.depth:
            out.append("</details>")
            open_count -= 1
        if _is_leaf(item):
            out.append(f'<p class="leaf">{_title(item)}</p>')
            continue
        is_open = " open" if budget.take(item.view) else ""
        out.append(f'<details class="difference"{is_open}>{_node_body(item)}')
        open_count += 1
    return "".join(out) + "</details>" * open_count


def _artifact(a: Artifact, budget: OpenBudget) -> str:
    status = a.status.value
    notes = "".join(f'<p class="comment">{html_text(c)}</p>' for c in a.comments)
    root = outline(a.difference)
    return (f'<article class="artifact"><h3>{html_text(a.name)}: <span class="s-{status}">{status}</span></h3>'
            f"{_hints(root)}{notes}{_tree(root, budget)}</article>")


def _differences(report: Report) -> str:
    shown, more = s.capped(s.explained(report), MAX_TREES)
    budget = OpenBudget()
    return "\n".join(_artifact(a, budget) for a in shown) + _more(more, "artifacts with differences")


def _artifacts(report: Report) -> str:
    shown, more = s.summary_artifacts(report, MAX_ROWS)
    head = "<tr>" + "".join(f"<th>{html_text(h)}</th>" for h in s.ARTIFACT_HEADERS) + "</tr>"
    body = []
    for a in shown:
        name, _, official, rebuilt, sizes = s.artifact_row(a)
        status = a.status.value
        same = official is not None and rebuilt == official
        body.append(f'<tr>{_cell(name)}<td class="s-{status}">{status}</td>{_digest(official)}'
                    f'{"<td>same</td>" if same else _digest(rebuilt)}{_cell(sizes)}</tr>')
    return f"<table>{head}{''.join(body)}</table>{_more_text(more)}" if body else "<p>no artifacts</p>"


def _inputs(report: Report) -> str:
    head = "<tr>" + "".join(f"<th>{html_text(h)}</th>" for h in s.INPUT_HEADERS) + "</tr>"
    body = "".join(f"<tr>{_cell(role)}{_cell(name)}{_digest(digest)}{_cell(size)}{_cell(url)}</tr>"
                   for role, name, digest, size, url in s.input_rows(report))
    return f"<table>{head}{body}</table>"


def _packages(report: Report) -> str:
    if not s.packages_checked(report):
        return ""
    drift = s.drift_rows(report)
    body = _table(s.filled(s.packages_summary(report))) + (_table(drift, s.DRIFT_HEADERS) if drift else "")
    return _section("packages", "Package manifest", body)


def _environment_check(report: Report) -> str:
    if report.environment_check is None:
        return ""
    files, more_files = s.environment_file_rows(report)
    packages, more_packages = s.environment_package_rows(report)
    body = _table(s.filled(s.environment_check_rows(report)))
    body += (_table(files, s.ENV_FILE_HEADERS) + _more(more_files, "files")) if files else ""
    body += (_table(packages, s.ENV_PACKAGE_HEADERS) + _more(more_packages, "packages")) if packages else ""
    return _section("environment-check", "Environment check", body)


def _build(report: Report) -> str:
    tail = report.build.log_tail
    return _table(s.filled(s.build_rows(report))) + (f"<pre>{html_block(tail, 80)}</pre>" if tail else "")


def _pypi(report: Report) -> str:
    if report.pypi is None:
        return ""
    packages = s.build_package_rows(report)
    body = _table(s.filled(s.pypi_rows(report))) + _table(s.policy_rows(report), s.POLICY_HEADERS)
    body += _table(packages, s.BUILD_PACKAGE_HEADERS) if packages else ""
    return _section("pypi", "Python release", body)


def render_html(report: Report) -> str:
    title = html_text(f"verifier report: {report.title}: {report.verdict.value}")
    differences = _differences(report)
    body = "\n".join(part for part in [
        _header(report),
        _section("differences", "Differences", differences) if differences else "",
        _section("artifacts", "Artifacts", _artifacts(report)),
        _packages(report),
        _environment_check(report),
        _pypi(report),
        _section("build", "Build", _build(report)),
        _section("debian", "Debian", _table(s.filled(s.debian_rows(report)))) if report.debian else "",
        _section("inputs", "Inputs", _inputs(report)),
        _section("environment", "Environment", _table(s.filled(s.environment_rows(report)))),
        _section("timings", "Timings", _table(s.filled(s.timing_rows(report)))),
    ] if part)
    tool = html_text(f"{report.tool.name} {report.tool.version}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n<style>{CSS}</style></head>\n<body>\n{body}\n"
            f"<footer><p>report_version {REPORT_VERSION}, written by {tool}</p></footer>\n"
            "</body></html>\n")
