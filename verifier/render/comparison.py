"""Presenters for `verifier compare` results (a versioned JSON document), reusing the
report presenters' difference-tree rendering so both look and escape alike."""

from __future__ import annotations

import json
from typing import Any

from verifier.render.escape import clean, html_text, md_text
from verifier.render.formats import ReportFormat
from verifier.render.html import CSP, CSS, _tree
from verifier.render.markdown import _node as markdown_node
from verifier.render.text import _node_lines
from verifier.render.tree import Node, walk

COMPARE_VERSION = 1


def _status(doc: dict[str, Any]) -> str:
    if doc.get("identical"):
        return "IDENTICAL"
    return "EQUIVALENT" if doc.get("equivalent") else "DIFFERENT"


def _text(doc: dict[str, Any]) -> str:
    lines = [f"{_status(doc)}: {clean(doc.get('source1'))} vs {clean(doc.get('source2'))}"]
    lines += [f"  # degraded: {clean(d)}" for d in doc.get("degradations") or []]
    for item in walk(doc.get("difference")):
        lines += _node_lines(item) if isinstance(item, Node) else [f"    {clean(item)}"]
    return "\n".join(lines) + "\n"


def _markdown(doc: dict[str, Any]) -> str:
    lines = [f"## {_status(doc)}: {md_text(doc.get('source1'))} vs {md_text(doc.get('source2'))}", ""]
    lines += [f"- degraded: {md_text(d)}" for d in doc.get("degradations") or []]
    for item in walk(doc.get("difference")):
        lines += markdown_node(item) if isinstance(item, Node) else [f"- _{md_text(item)}_"]
    return "\n".join(lines) + "\n"


def _html(doc: dict[str, Any]) -> str:
    title = html_text(f"verifier compare: {_status(doc)}")
    notes = "".join(f'<p class="comment">degraded: {html_text(d)}</p>' for d in doc.get("degradations") or [])
    body = (f'<header id="verdict" class="verdict"><h1>{html_text(_status(doc))}</h1>'
            f"<p>{html_text(doc.get('source1'))} vs {html_text(doc.get('source2'))}</p></header>"
            f"{notes}<section>{_tree(doc.get('difference'))}</section>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            f"<title>{title}</title>\n<style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def render_comparison(doc: dict[str, Any], fmt: ReportFormat) -> str:
    if fmt == ReportFormat.JSON:
        return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
    presenters = {ReportFormat.TEXT: _text, ReportFormat.MARKDOWN: _markdown, ReportFormat.HTML: _html}
    if fmt not in presenters:
        raise ValueError(fmt)
    return presenters[fmt](doc)
