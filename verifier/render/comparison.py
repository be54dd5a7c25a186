"""Presenters for `verifier compare` results (``ComparisonDocument``), reusing the report
presenters' difference-tree rendering so both look and escape alike."""

from __future__ import annotations

from verifier.render.escape import clean, html_text, md_text
from verifier.render.formats import ReportFormat
from verifier.render.html import CSP, CSS, _tree
from verifier.render.markdown import _node as markdown_node
from verifier.render.text import _node_lines
from verifier.render.tree import Node, walk
from verifier.report.comparison import ComparisonDocument, comparison_bytes


def _text(doc: ComparisonDocument) -> str:
    lines = [f"{doc.status}: {clean(doc.source1)} vs {clean(doc.source2)}"]
    lines += [f"  # degraded: {clean(d)}" for d in doc.degradations]
    for item in walk(doc.difference):
        lines += _node_lines(item) if isinstance(item, Node) else [f"    {clean(item)}"]
    return "\n".join(lines) + "\n"


def _markdown(doc: ComparisonDocument) -> str:
    lines = [f"## {doc.status}: {md_text(doc.source1)} vs {md_text(doc.source2)}", ""]
    lines += [f"- degraded: {md_text(d)}" for d in doc.degradations]
    for item in walk(doc.difference):
        lines += markdown_node(item) if isinstance(item, Node) else [f"- _{md_text(item)}_"]
    return "\n".join(lines) + "\n"


def _html(doc: ComparisonDocument) -> str:
    title = html_text(f"verifier compare: {doc.status}")
    notes = "".join(f'<p class="comment">degraded: {html_text(d)}</p>' for d in doc.degradations)
    body = (f'<header id="verdict" class="verdict"><h1>{html_text(doc.status)}</h1>'
            f"<p>{html_text(doc.source1)} vs {html_text(doc.source2)}</p></header>"
            f"{notes}<section>{_tree(doc.difference)}</section>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            f"<title>{title}</title>\n<style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def _json(doc: ComparisonDocument) -> str:
    return comparison_bytes(doc).decode("utf-8")


COMPARISON_PRESENTERS = {ReportFormat.TEXT: _text, ReportFormat.MARKDOWN: _markdown,
                         ReportFormat.HTML: _html, ReportFormat.JSON: _json}


def render_comparison(doc: ComparisonDocument, fmt: ReportFormat) -> str:
    return COMPARISON_PRESENTERS[fmt](doc)
