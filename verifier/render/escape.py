"""Make input-derived strings safe to show: control characters and bidi overrides become
visible escapes (``\\x1b``, ``\\u202e``), long values are bounded; then each presenter
applies its own syntax escaping (HTML, Markdown, XML) on top.
"""

from __future__ import annotations

import html
import re
from verifier.printable import one_line

MAX_FIELD = 300
MAX_BLOCK_LINES = 60
MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def clean(value: object, limit: int = MAX_FIELD) -> str:
    """One line: every control, format and bidi character escaped; cut to ``limit`` chars."""
    out = one_line(value)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def clean_block(value: object, max_lines: int = MAX_BLOCK_LINES) -> str:
    """Several lines (newlines and tabs kept), each cleaned; bounded in lines."""
    lines = ("" if value is None else str(value)).rstrip("\n").split("\n")
    shown = [clean(line.replace("\t", "    "), 500) for line in lines[:max_lines]]
    if len(lines) > max_lines:
        shown.append(f"… {len(lines) - max_lines} more lines")
    return "\n".join(shown)


def html_text(value: object, limit: int = MAX_FIELD) -> str:
    return html.escape(clean(value, limit), quote=True)


def html_block(value: object, max_lines: int = MAX_BLOCK_LINES) -> str:
    return html.escape(clean_block(value, max_lines), quote=True)


def md_text(value: object, limit: int = MAX_FIELD) -> str:
    """Markdown inline text: every ASCII punctuation character backslash-escaped (CommonMark
    treats an escaped character as a literal, so no markup, link or raw HTML can start)."""
    return MD_PUNCT.sub(r"\\\1", clean(value, limit))

