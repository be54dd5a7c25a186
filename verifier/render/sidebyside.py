"""A unified diff laid out side by side: removed lines on the left, added lines on the
right, a run of removals paired row by row with the run of additions that follows it,
context lines on both sides, hunk headers across. Pure: presenters style the rows."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest


@dataclass(frozen=True)
class Row:
    kind: str  # "hunk" | "same" | "change" | "note"
    left: str | None
    right: str | None


def rows(diff: str) -> list[Row]:
    out: list[Row] = []
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        out.extend(Row("change", a, b) for a, b in zip_longest(removed, added))
        removed.clear()
        added.clear()

    for line in diff.rstrip("\n").split("\n"):
        if line.startswith("-"):
            if added:  # a removal after additions starts a new pair of runs
                flush()
            removed.append(line[1:])
            continue
        if line.startswith("+"):
            added.append(line[1:])
            continue
        flush()
        if line.startswith("@@"):
            out.append(Row("hunk", line, None))
        elif line.startswith(" ") or line == "":
            out.append(Row("same", line[1:], line[1:]))
        else:
            out.append(Row("note", line, None))
    flush()
    return out
