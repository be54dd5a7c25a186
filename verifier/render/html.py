"""One self-contained HTML page: inline CSS only, no scripts, no external loads.

A Content-Security-Policy meta tag (``default-src 'none'; style-src 'unsafe-inline'``)
makes the browser refuse any load even if escaping were ever wrong. Every input-derived
string goes through ``html_text``/``html_block`` (control and bidi characters made
visible, then HTML-escaped). Difference trees are nested ``<details>`` elements.
"""

from __future__ import annotations

from verifier.compare.difference import Difference
from verifier.render import sections as s
from verifier.render.escape import html_block, html_text
from verifier.render.tree import Node, label, walk
from verifier.report.codec import REPORT_VERSION
from verifier.report.model import Artifact, Report

CSP = "default-src 'none'; style-src 'unsafe-inline'"
CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70em;padding:0 1em 2em;color:#1b1b1b}
header.verdict{margin:0 -1em 1em;padding:1em;color:#fff}
.v-REPRODUCIBLE{background:#1a7f37}.v-EQUIVALENT{background:#7d6608}
.v-DIFFERENT{background:#b42318}.v-INCONCLUSIVE{background:#57606a}
header h1{margin:0;font-size:2em}header p{margin:.2em 0}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #d0d7de;padding:.2em .5em;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f6f8fa}code,pre{font-family:ui-monospace,monospace;font-size:.85em}
pre{background:#f6f8fa;padding:.5em;overflow-x:auto;white-space:pre-wrap}
details{margin:.3em 0 .3em 1.2em}summary{cursor:pointer}
.s-IDENTICAL,.s-MATCH{color:#1a7f37}.s-DIFFERENT,.s-MISSING,.s-EXTRA{color:#b42318;font-weight:bold}
.s-EQUIVALENT,.s-DRIFT{color:#7d6608;font-weight:bold}.hint{color:#0550ae}
"""


def _table(rows: list[s.Row], headers: tuple[str, ...] = ()) -> str:
    if not rows:
        return "<p><em>none</em></p>"
    head = "<tr>" + "".join(f"<th>{html_text(h)}</th>" for h in headers) + "</tr>" if headers else ""
    body = "".join("<tr>" + "".join(f"<td>{html_text(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def _section(ident: str, heading: str, body: str) -> str:
    return f'<section id="{ident}"><h2>{heading}</h2>\n{body}\n</section>'


def _header(report: Report) -> str:
    verdict = report.verdict.value
    reasons = "".join(f"<li>{html_text(r)}</li>" for r in report.reasons)
    return (f'<header id="verdict" class="verdict v-{verdict}"><h1>{html_text(verdict)}</h1>'
            f"<p>{html_text(report.title)}</p><ul>{reasons}</ul></header>")


def _node_body(node: Node) -> str:
    kind = f" <small>[{html_text(node.kind)}]</small>" if node.kind else ""
    parts = [f"<summary>{html_text(label(node))}{kind}</summary>"]
    parts += [f'<p class="comment">{html_text(c)}</p>' for c in node.comments]
    parts += [f'<p class="hint">hint: {html_text(h)}</p>' for h in node.hints]
    if node.unified_diff:
        parts.append(f"<pre>{html_block(node.unified_diff, 400)}</pre>")
    return "".join(parts)


def _tree(tree: Difference | None) -> str:
    """Nested <details> from the depth-first walk: close elements as the depth falls."""
    out, open_count = [], 0
    for item in walk(tree):
        if isinstance(item, str):
            out.append(f"<p><em>{html_text(item)}</em></p>")
            continue
        while open_count > item.depth:
            out.append("</details>")
            open_count -= 1
        out.append(f'<details class="difference">{_node_body(item)}')
        open_count += 1
    return "".join(out) + "</details>" * open_count


def _artifact(a: Artifact) -> str:
    status = a.status.value
    notes = "".join(f"<p>{html_text(c)}</p>" for c in a.comments)
    tree = _tree(a.difference) if a.difference else ""
    return (f'<div class="artifact"><h3>{html_text(a.name)}: '
            f'<span class="s-{html_text(status)}">{html_text(status)}</span></h3>{notes}{tree}</div>')


def _artifacts(report: Report) -> str:
    rows = _table([s.artifact_row(a) for a in report.artifacts], s.ARTIFACT_HEADERS)
    return rows + "\n" + "\n".join(_artifact(a) for a in report.artifacts)


def render_html(report: Report) -> str:
    title = html_text(f"verifier report: {report.title}: {report.verdict}")
    body = "\n".join([
        _header(report),
        _section("artifacts", "Artifacts", _artifacts(report)),
        _section("packages", "Package manifest", _table(s.packages_summary(report)) + _table(s.drift_rows(report), s.DRIFT_HEADERS)),
        _section("inputs", "Inputs", _table(s.input_rows(report), s.INPUT_HEADERS)),
        _section("environment", "Environment", _table(s.environment_rows(report))),
        _section("build", "Build", _table(s.build_rows(report)) + f"<pre>{html_block(report.build.log_tail, 80)}</pre>"),
        _section("timings", "Timings", _table(s.timing_rows(report))),
    ])
    tool = html_text(f"{report.tool.name} {report.tool.version}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n<style>{CSS}</style></head>\n<body>\n{body}\n"
            f"<footer><p>report_version {REPORT_VERSION}, written by {tool}</p></footer>\n"
            "</body></html>\n")
