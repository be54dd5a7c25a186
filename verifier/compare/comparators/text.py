"""Text files: a bounded unified diff; line-ending-only and ordering-only changes called out."""

from __future__ import annotations

from dataclasses import dataclass

from verifier.compare.difference import Difference
from verifier.compare.interface import CompareContext, Side
from verifier.compare.regular import read_regular

MAX_TEXT_BYTES = 16 << 20


def looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a character cut at the end of the sample


def _collation(lines: list[str]) -> str | None:
    if lines == sorted(lines):
        return "C"
    if lines == sorted(lines, key=lambda line: "".join(c for c in line.casefold() if c.isalnum())):
        return "locale"
    return None


def _collation_differs(a: list[str], b: list[str]) -> bool:
    """Sorted byte-wise on one side and as en_US-style collation (case and punctuation
    ignored) on the other: the classic effect of a locale on sort(1)."""
    return {_collation(a), _collation(b)} == {"C", "locale"}


@dataclass(frozen=True)
class TextComparator:
    name: str = "text"

    def recognizes(self, head: bytes, side: Side) -> bool:
        return looks_like_text(head) and side.path.stat().st_size <= MAX_TEXT_BYTES

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        ta = read_regular(a.path, a.label).decode("utf-8", "replace")
        tb = read_regular(b.path, b.label).decode("utf-8", "replace")
        comment = None
        if ta.replace("\r\n", "\n") == tb.replace("\r\n", "\n"):
            comment = "only line endings differ (CRLF vs LF): CRLF in the " + ("first" if ta.count("\r\n") > tb.count("\r\n") else "second")
        elif sorted(la := ta.splitlines()) == sorted(lb := tb.splitlines()):
            comment = "the same lines in a different order"
            if _collation_differs(la, lb):
                comment += "; one side is in C (byte) order, the other in a locale's (case-insensitive) order"
        return Difference.from_text(ta, tb, a.label, b.label, comment=comment)
