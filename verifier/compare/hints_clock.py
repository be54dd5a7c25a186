"""What the hints know of time (``BuildClock``), and the rule that finds the build clock
leaking into content: a year, a date or an epoch number that is the official build's
(SOURCE_DATE_EPOCH's, or the official build time's) on the first side where the second
has the rebuild's own, at the same place of a changed text line or of a differing byte
run in an ELF section (the runs the ELF comparator shows as hex)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from verifier.compare.difference import Difference

LEAK = "the build clock leaks in: the build's date is baked into the content instead of SOURCE_DATE_EPOCH's"
# how programs write a date: ISO, compact, C's __DATE__ ("Nov  9 2026"), RFC 2822, English prose
DATE_FORMS = ("%Y-%m-%d", "%Y%m%d", "%b %e %Y", "%d %b %Y", "%a, %d %b %Y", "%B %d, %Y", "%d.%m.%Y")
EPOCH_RE = re.compile(r"(?<!\d)\d{9,10}(?!\d)")
PLACEHOLDER = "\uffff"
RUN_RE = re.compile(r"^([-+])0x([0-9a-f]+): ([0-9a-f]*) \|")


@dataclass(frozen=True)
class BuildClock:
    """What the hints know of time, in epoch seconds: the build's SOURCE_DATE_EPOCH, when
    the second input was built (in `verify`, the rebuild's start and end), and when the
    first (official) one was built, if known (a .buildinfo's Build-Date)."""

    source_date_epoch: int | None = None
    started: int | None = None
    finished: int | None = None
    official: int | None = None

    def during_build(self, moment: int) -> bool:
        if self.started is None:
            return False
        end = self.finished if self.finished is not None else self.started
        return self.started - 2 <= moment <= end + 2  # zip times have 2 s resolution

    def official_moments(self) -> list[tuple[int, str]]:
        return [(t, what) for t, what in ((self.source_date_epoch, "SOURCE_DATE_EPOCH's"),
                                          (self.official, "the official build's")) if t is not None]

    def rebuild_moments(self) -> list[int]:
        if self.started is None:
            return []
        return sorted({self.started, self.finished if self.finished is not None else self.started})


def _day(moment: int) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def _forms(moment: int) -> list[str]:
    """Each way a program writes this moment's date, then its year (dates first: they hold the year)."""
    day = _day(moment)
    return [day.strftime(f) for f in DATE_FORMS] + [str(day.year)]


Forms = tuple[tuple[str, "re.Pattern[str]"], ...]


def _compiled(forms: list[str]) -> Forms:
    """Each form with its pattern (never inside a longer number)."""
    return tuple((f, re.compile(rf"(?<![0-9]){re.escape(f)}(?![0-9])")) for f in forms)


@functools.lru_cache(maxsize=8)
def _date_pairs(clock: BuildClock) -> tuple[tuple[str, Forms, Forms], ...]:
    """(whose, the official moment's forms, the rebuild's forms) for every pair of days that differ: made once per clock."""
    return tuple((whose, _compiled(_forms(official)), _compiled(_forms(rebuilt)))
                 for official, whose in clock.official_moments() for rebuilt in clock.rebuild_moments()
                 if _day(official).date() != _day(rebuilt).date())


def _mark(text: str, forms: Forms) -> tuple[str, list[str]]:
    """``text`` with each form replaced by a placeholder, and the forms found."""
    found = []
    for form, pattern in forms:
        if form in text:
            marked = pattern.sub(PLACEHOLDER, text)
            if marked != text:
                found.append(form)
            text = marked
    return text, found


def _text_leak(a: str, b: str, clock: BuildClock) -> str | None:
    """How line ``a`` (official) has official dates where ``b`` has the rebuild's, or None."""
    for whose, old_forms, new_forms in _date_pairs(clock):
        ma, found_a = _mark(a, old_forms)
        if not found_a:
            continue
        mb, found_b = _mark(b, new_forms)
        if ma == mb:
            return f"official {', '.join(map(repr, found_a))} ({whose}), rebuild {', '.join(map(repr, found_b))} (the rebuild's)"
    for ma, mb in zip(EPOCH_RE.finditer(a), EPOCH_RE.finditer(b)):
        old, new = int(ma.group(0)), int(mb.group(0))
        whose = next((w for t, w in clock.official_moments() if t == old), None)
        if whose and clock.during_build(new) and a[:ma.start()] + a[ma.end():] == b[:mb.start()] + b[mb.end():]:
            return f"official {old} ({whose} time as a number), rebuild {new} (the rebuild's time)"
    return None


def _integers(a: bytes, b: bytes, sizes: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """(official value, rebuilt value, size) of every integer at one offset of both runs, any
    alignment (code holds unaligned immediates), either byte order."""
    found = []
    for size in sizes:
        for i in range(len(a) - size + 1):
            for order in ("little", "big"):
                x, y = int.from_bytes(a[i:i + size], order), int.from_bytes(b[i:i + size], order)
                if x != y:
                    found.append((x, y, size))
    return found


def _integer_leak(a: bytes, b: bytes, clock: BuildClock) -> str | None:
    """An integer that is an official moment (or its year) on one side and the rebuild's time
    (or year) on the other, at one place of a differing byte run."""
    years = {_day(t).year: w for t, w in clock.official_moments()}
    rebuilt_years = {_day(t).year for t in clock.rebuild_moments()}
    for old, new, size in _integers(a, b, (2, 4, 8)):
        if size > 2:
            whose = next((w for t, w in clock.official_moments() if t == old), None)
            if whose and clock.during_build(new):
                return f"official {old} ({whose} time, a {size * 8}-bit integer), rebuild {new} (the rebuild's time)"
        if old in years and new in rebuilt_years and old not in rebuilt_years:
            return f"official {old} ({years[old]} year, a {size * 8}-bit integer), rebuild {new} (the rebuild's year)"
    return None


def _run_pairs(diff: str) -> list[tuple[int, bytes, bytes]]:
    """The ELF comparator's differing byte runs as (offset, official bytes, rebuilt bytes)."""
    runs: dict[str, dict[int, bytes]] = {"-": {}, "+": {}}
    for line in diff.splitlines():
        m = RUN_RE.match(line)
        if m:
            runs[m.group(1)][int(m.group(2), 16)] = bytes.fromhex(m.group(3))
    return [(o, runs["-"][o], runs["+"][o]) for o in runs["-"] if o in runs["+"] and len(runs["-"][o]) == len(runs["+"][o])]


def _changed_lines(diff: str) -> list[tuple[str, str]]:
    lines = diff.splitlines()
    removed = [x[1:] for x in lines if x.startswith("-")]
    added = [x[1:] for x in lines if x.startswith("+")]
    return list(zip(removed, added)) if len(removed) == len(added) else []


def _member(label: str) -> str:
    parts = [p for p in label.split("::") if p != "(decompressed)"]
    return parts[-1]


def causes(node: Difference, clock: BuildClock) -> list[tuple[str, str, str]]:
    """(cause, member, what each side has) when this node shows the build clock leaking in."""
    if not clock.official_moments() or not clock.rebuild_moments() or not node.unified_diff:
        return []
    found = None
    if node.kind == "content":
        found = next((s for a, b in _changed_lines(node.unified_diff) if (s := _text_leak(a, b, clock))), None)
    elif node.kind == "section":
        for offset, a, b in _run_pairs(node.unified_diff):
            found = _text_leak(a.decode("latin-1"), b.decode("latin-1"), clock) or _integer_leak(a, b, clock)
            if found:
                break
    return [(LEAK, _member(node.source1), found)] if found else []
