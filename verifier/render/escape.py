"""Make input-derived strings safe to show: control characters and bidi overrides become
visible escapes (``\\x1b``, ``\\u202e``), long values are bounded; then each presenter
applies its own syntax escaping (HTML, Markdown, XML) on top.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MAX_FIELD = 300
MAX_BLOCK_LINES = 60
MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def _visible(ch: str, keep: str) -> str:
    if ch in keep:
        return ch
    code = ord(ch)
    if ch in BIDI or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return ch


def clean(value: Any, limit: int = MAX_FIELD) -> str:
    """One line: every control, format and bidi character escaped; cut to ``limit`` chars."""
    text = "" if value is None else str(value)
    out = "".join(_visible(ch, "") for ch in text)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def clean_block(value: Any, max_lines: int = MAX_BLOCK_LINES) -> str:
    """Several lines (newlines and tabs kept), each cleaned; bounded in lines."""
    lines = ("" if value is None else str(value)).rstrip("\n").split("\n")
    shown = [clean(line.replace("\t", "    "), 500) for line in lines[:max_lines]]
    if len(lines) > max_lines:
        shown.append(f"… {len(lines) - max_lines} more lines")
    return "\n".join(shown)


def html_text(value: Any, limit: int = MAX_FIELD) -> str:
    return html.escape(clean(value, limit), quote=True)


def html_block(value: Any, max_lines: int = MAX_BLOCK_LINES) -> str:
    return html.escape(clean_block(value, max_lines), quote=True)


def md_text(value: Any, limit: int = MAX_FIELD) -> str:
    """Markdown inline text: every ASCII punctuation character backslash-escaped (CommonMark
    treats an escaped character as a literal, so no markup, link or raw HTML can start)."""
    return MD_PUNCT.sub(r"\\\1", clean(value, limit))


def short_digest(value: Any) -> str:
    text = clean(value, 80)
    return text[:16] + "…" if len(text) > 16 else text
