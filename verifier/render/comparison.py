"""Presenters for `verifier compare` results (``ComparisonDocument``), reusing the report
presenters' difference-tree rendering so both look and escape alike."""

from __future__ import annotations

from verifier.render.escape import clean, html_text, md_text
from verifier.render.formats import ReportFormat
from verifier.render.html import CSP, CSS, OpenBudget, _hints, _tree
from verifier.render.markdown import tree_lines as markdown_tree
from verifier.render.text import tree_lines
from verifier.render.tree import outline
from verifier.report.comparison import CompareStatus, ComparisonDocument, comparison_bytes

COLOUR = {CompareStatus.IDENTICAL: "v-REPRODUCIBLE", CompareStatus.EQUIVALENT: "v-EQUIVALENT",
          CompareStatus.DIFFERENT: "v-DIFFERENT"}


def _text(doc: ComparisonDocument) -> str:
    lines = [f"{doc.status}: {clean(doc.source1)} vs {clean(doc.source2)}"]
    lines += [f"  # degraded: {clean(d)}" for d in doc.degradations]
    lines += tree_lines(doc.difference)
    return "\n".join(lines) + "\n"


def _markdown(doc: ComparisonDocument) -> str:
    lines = [f"## {doc.status}: {md_text(doc.source1)} vs {md_text(doc.source2)}", ""]
    lines += [f"- degraded: {md_text(d)}" for d in doc.degradations]
    lines += markdown_tree(doc.difference)
    return "\n".join(lines) + "\n"


def _html(doc: ComparisonDocument) -> str:
    title = html_text(f"verifier compare: {doc.status}")
    notes = "".join(f'<p class="comment">degraded: {html_text(d)}</p>' for d in doc.degradations)
    root = outline(doc.difference)
    body = (f'<header id="verdict" class="verdict {COLOUR[doc.status]}"><h1>{doc.status}</h1>'
            f"<p>{html_text(doc.source1)} vs {html_text(doc.source2)}</p></header>"
            f'<section><article class="artifact">{_hints(root)}{notes}{_tree(root, OpenBudget())}</article></section>')
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            f"<title>{title}</title>\n<style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def _json(doc: ComparisonDocument) -> str:
    return comparison_bytes(doc).decode("utf-8")


COMPARISON_PRESENTERS = {ReportFormat.TEXT: _text, ReportFormat.MARKDOWN: _markdown,
                         ReportFormat.HTML: _html, ReportFormat.JSON: _json}


def render_comparison(doc: ComparisonDocument, fmt: ReportFormat) -> str:
    return COMPARISON_PRESENTERS[fmt](doc)
