"""The Difference tree: what differs, where, and (in words) why. Constructors return None
when there is no difference, so comparators compose with ``from_details``."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from verifier.printable import one_line

MAX_DIFF_LINES = 400
MAX_LINE_CHARS = 400


@dataclass(frozen=True)
class Difference:
    source1: str
    source2: str
    comments: tuple[str, ...] = ()
    unified_diff: str | None = None
    details: tuple["Difference", ...] = ()
    hints: tuple[str, ...] = ()
    kind: str = ""  # member | metadata | field | content | order | bytes | header | diffoscope | unreadable | format

    @classmethod
    def from_text(cls, a: str, b: str, source1: str, source2: str, *, kind: str = "content",
                  comment: str | None = None, max_lines: int = MAX_DIFF_LINES) -> "Difference | None":
        if a == b:
            return None
        lines = list(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=3))[2:]
        comments = [comment] if comment else []
        if len(lines) > max_lines:
            comments.append(f"diff truncated to {max_lines} of {len(lines)} lines")
            lines = lines[:max_lines]
        text = "\n".join(line[:MAX_LINE_CHARS] for line in lines)
        return cls(source1, source2, tuple(comments), text + "\n", kind=kind)

    @classmethod
    def from_details(cls, source1: str, source2: str, details: Iterable["Difference | None"], *,
                     comments: Iterable[str] = (), kind: str = "") -> "Difference | None":
        kept = tuple(d for d in details if d is not None)
        notes = tuple(comments)
        if not kept and not notes:
            return None
        return cls(source1, source2, notes, None, kept, kind=kind)

    @classmethod
    def field(cls, name: str, a: object, b: object, *, kind: str = "field") -> "Difference | None":
        if a == b:
            return None
        return cls(name, name, (), f"-{one_line(str(a))}\n+{one_line(str(b))}\n", kind=kind)

    def with_hints(self, hints: Iterable[str]) -> "Difference":
        merged = tuple(dict.fromkeys((*self.hints, *hints)))
        return replace(self, hints=merged)

    def walk(self) -> Iterator["Difference"]:
        yield self
        for child in self.details:
            yield from child.walk()

    def to_json(self) -> dict[str, Any]:
        return {
            "source1": self.source1, "source2": self.source2, "comments": list(self.comments),
            "unified_diff": self.unified_diff, "details": [d.to_json() for d in self.details],
            "hints": list(self.hints), "kind": self.kind,
        }
