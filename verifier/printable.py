"""One line of visible text from any input-derived string: every control, format, bidi
and line/paragraph-separator character (LF and CR included) becomes a visible escape
(``\\x0a``, ``\\u202e``), so a name taken from an input can never start a line of its own,
move the cursor or reorder what is shown. Used wherever a string from an input is put
into a message or a multi-line text (errors, difference listings, presenters)."""

from __future__ import annotations

import unicodedata

BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
INVISIBLE = ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")


def _visible(ch: str) -> str:
    code = ord(ch)
    if ch in BIDI or unicodedata.category(ch) in INVISIBLE:
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return ch


def one_line(value: object) -> str:
    """``value`` as text on one line with every invisible character shown escaped."""
    text = "" if value is None else str(value)
    if text.isprintable():  # fast path: nothing to escape (isprintable is False for every class above)
        return text
    return "".join(_visible(ch) for ch in text)
