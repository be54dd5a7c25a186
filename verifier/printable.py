"""One line of visible text from any input-derived string: every control, format, bidi
and line/paragraph-separator character (LF and CR included) becomes a visible escape
(``\\x0a``, ``\\u202e``), so a name taken from an input can never start a line of its own,
move the cursor or reorder what is shown. Used wherever a string from an input is put
into a message or a multi-line text (errors, difference listings, presenters).

Names from archives are bytes, not always UTF-8: given bytes, or a str holding bytes that
were not UTF-8 as surrogates (``bytes.decode("utf-8", "surrogateescape")``, the lossless
form members are paired by), each such byte is shown as ``\\xNN``."""

from __future__ import annotations

import unicodedata

BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
INVISIBLE = ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")


def _visible(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if ch in BIDI or unicodedata.category(ch) in INVISIBLE:
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return ch


def name_text(value: str | bytes) -> str:
    """A name whose bytes may not be UTF-8 as valid text, for a label that the presenters
    escape later: each byte that is not UTF-8 becomes ``\\xNN``, nothing else changes (so
    the JSON keeps the name as it is, control characters included)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    if value.isprintable() or not any(0xDC80 <= ord(ch) <= 0xDCFF for ch in value):
        return value
    return "".join(f"\\x{ord(ch) - 0xDC00:02x}" if 0xDC80 <= ord(ch) <= 0xDCFF else ch for ch in value)


def one_line(value: object) -> str:
    """``value`` as text on one line with every invisible character (and every byte that is
    not UTF-8) shown escaped."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    text = "" if value is None else str(value)
    if text.isprintable():  # fast path: nothing to escape (isprintable is False for every class above)
        return text
    return "".join(_visible(ch) for ch in text)
