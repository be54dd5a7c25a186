"""Values made readable for people, shared by presenters: times as ISO 8601 UTC with the
difference between the sides (whole or fractional epoch seconds, as PAX tar headers write
them; an RPM's ``buildtime`` and its ``filemtimes`` list), durations, shortened digests.
Raw values stay in the JSON.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

DIGEST_SHOWN = 12
EPOCH_RANGE = (0, 253402300799)  # up to 9999-12-31T23:59:59Z
ZIP_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
EPOCH = re.compile(r"-?\d{1,12}(?:\.\d{1,9})?")
TIME_WORDS = frozenset(("time", "date", "mtime", "ctime", "atime", "timestamp", "modified",
                        "mtimes", "buildtime", "filemtimes", "changelogtime", "installtime"))
DIFF_LINE = re.compile(r"([-+ ])([^\n]*)")
UNITS = (("y", 365 * 86400), ("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


def short_digest(value: object) -> str:
    """The first 12 hex digits and an ellipsis; the full value stays in the JSON (and in a
    tooltip and the copied text in HTML)."""
    text = "" if value is None else str(value)
    return text[:DIGEST_SHOWN] + "…" if len(text) > DIGEST_SHOWN + 1 else text


def duration(seconds: int) -> str:
    """``+2 s``, ``-1 h``, ``+36 d 1 h``: the two largest units, signed."""
    sign, rest, parts = "+" if seconds >= 0 else "-", abs(seconds), []
    for unit, size in UNITS:
        if rest >= size or (unit == "s" and not parts):
            parts.append(f"{rest // size} {unit}")
            rest %= size
        if len(parts) == 2:
            break
    return sign + " ".join(parts)


def _epoch(text: str) -> tuple[datetime, str, Decimal] | None:
    """Epoch seconds, whole or with a fraction (PAX ``1795985391.1045394``), in range."""
    if not EPOCH.fullmatch(text):
        return None
    exact = Decimal(text)
    whole = int(exact.to_integral_value(rounding="ROUND_FLOOR"))
    if not EPOCH_RANGE[0] <= whole <= EPOCH_RANGE[1]:
        return None
    moment = datetime.fromtimestamp(whole, UTC)
    digits = len(text.partition(".")[2])
    fraction = f"{exact - whole:.{digits}f}"[1:] if digits else ""  # "0.1045394" -> ".1045394"
    return moment, moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z", exact


def _instant(text: str) -> tuple[datetime, str, Decimal | None] | None:
    """An epoch number (UTC) or a zip-style local time, as (datetime, ISO 8601 text, exact epoch)."""
    found = _epoch(text)
    if found:
        return found
    if ZIP_TIME.fullmatch(text):
        try:
            moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return None
        return moment, moment.strftime("%Y-%m-%dT%H:%M:%S"), None  # no zone: zip times are local
    return None


def _span(a: tuple[datetime, str, Decimal | None], b: tuple[datetime, str, Decimal | None]) -> str:
    """``+2 s``; a fractional difference under a minute exactly (``+0.0049891 s``)."""
    if a[2] is not None and b[2] is not None:
        exact = b[2] - a[2]
        if exact != exact.to_integral_value() and abs(exact) < 60:
            return f"{'+' if exact >= 0 else '-'}{abs(exact)} s"
        return duration(int(exact))
    return duration(int((b[0] - a[0]).total_seconds()))


def is_time_field(name: str) -> bool:
    words = re.split(r"[^a-z]+", name.lower())
    return any(w in TIME_WORDS for w in words)


def change(name: str, old: str, new: str) -> str:
    """``old → new``; for a time field, both as ISO 8601 and the difference (``+2 s``)."""
    if is_time_field(name):
        a, b = _instant(old), _instant(new)
        if a and b:
            return f"{a[1]} → {b[1]} ({_span(a, b)})"
    return f"{old or '(empty)'} → {new or '(empty)'}"


def time_lines(name: str, diff: str) -> str:
    """A time field's multi-line diff (an RPM's ``filemtimes``, one per file) with every
    epoch line as ISO 8601 UTC, and each added line after removed ones with the difference
    from the removed line it replaces (``+2026-11-29T21:00:02Z (+2 s)``)."""
    if not is_time_field(name):
        return diff
    out: list[str] = []
    removed: list[tuple[datetime, str, Decimal | None]] = []
    for line in diff.split("\n"):
        m = DIFF_LINE.fullmatch(line)
        found = _epoch(m[2]) if m else None
        if not (m and found):
            removed = [] if not line.startswith("-") else removed
            out.append(line)
            continue
        mark = m[1]
        shown = found[1]
        if mark == "-":
            removed.append(found)
        elif mark == "+" and removed:
            shown += f" ({_span(removed.pop(0), found)})"
        else:
            removed = []
        out.append(mark + shown)
    return "\n".join(out)
