"""Values made readable for people, shared by presenters: times as ISO 8601 UTC with the
difference between the sides, durations, shortened digests. Raw values stay in the JSON.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

DIGEST_SHOWN = 12
EPOCH_RANGE = (0, 253402300799)  # up to 9999-12-31T23:59:59Z
ZIP_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
TIME_WORDS = frozenset(("time", "date", "mtime", "ctime", "atime", "timestamp", "modified"))
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


def _instant(text: str) -> tuple[datetime, str] | None:
    """An epoch number (UTC) or a zip-style local time, as (datetime, ISO 8601 text)."""
    if re.fullmatch(r"-?\d{1,12}", text) and EPOCH_RANGE[0] <= int(text) <= EPOCH_RANGE[1]:
        moment = datetime.fromtimestamp(int(text), UTC)
        return moment, moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if ZIP_TIME.fullmatch(text):
        try:
            moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return None
        return moment, moment.strftime("%Y-%m-%dT%H:%M:%S")  # no zone: zip times are local
    return None


def is_time_field(name: str) -> bool:
    words = re.split(r"[^a-z]+", name.lower())
    return any(w in TIME_WORDS for w in words)


def change(name: str, old: str, new: str) -> str:
    """``old → new``; for a time field, both as ISO 8601 and the difference (``+2 s``)."""
    if is_time_field(name):
        a, b = _instant(old), _instant(new)
        if a and b:
            return f"{a[1]} → {b[1]} ({duration(int((b[0] - a[0]).total_seconds()))})"
    return f"{old or '(empty)'} → {new or '(empty)'}"
