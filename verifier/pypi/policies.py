"""The timestamp policies, in the fixed order they are tried (docs/pypi.md):

1. ``sdist-mtimes``: no SOURCE_DATE_EPOCH; the files keep the sdist's times (flit);
2. ``pkg-info-time``: SOURCE_DATE_EPOCH = the sdist's PKG-INFO time;
3. ``wheel-zip-time``: SOURCE_DATE_EPOCH = the official wheel's most common zip time;
4. ``time-zone``: no SOURCE_DATE_EPOCH, in the time zone inferred when every zip time is
   off from its file's sdist time by the same whole number of quarter hours (zip stores
   local time); when the offsets differ (summer time), the first zone of the tz database
   whose offset at each file's time explains every zip time.

A policy whose settings repeat an earlier one's is not run again (its note says so).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError, available_timezones

from verifier.pypi.sdist import SdistInfo
from verifier.pypi.wheel import WheelInfo

QUARTER_HOUR = 900
MAX_OFFSET = 14 * 3600
ZIP_ROUNDING = 2  # zip stores even seconds


@dataclass(frozen=True)
class Policy:
    name: str
    source_date_epoch: int | None
    time_zone: str  # a TZ value: POSIX (fixed offset) or a tz database name
    duplicate_of: str = ""  # an earlier policy with the same settings: not run again
    note: str = ""  # how the setting was inferred


def policies(sdist: SdistInfo, wheel: WheelInfo) -> tuple[Policy, ...]:
    candidates = [Policy("sdist-mtimes", None, "UTC"), Policy("pkg-info-time", sdist.pkg_info_mtime, "UTC")]
    common = most_common_time(wheel)
    if common is not None:
        candidates.append(Policy("wheel-zip-time", common, "UTC"))
    offset = zone_offset(sdist, wheel)
    if offset is not None:
        candidates.append(Policy("time-zone", None, posix_tz(offset), note=f"every zip time is off by {offset:+d} s"))
    else:
        zones = zones_explaining(pairs(sdist, wheel))
        if zones:
            candidates.append(Policy("time-zone", None, zones[0],
                                     note=f"one of {len(zones)} tz database zones whose offsets explain every zip time"))
    return _mark_duplicates(candidates)


def _mark_duplicates(candidates: list[Policy]) -> tuple[Policy, ...]:
    seen: dict[tuple[int | None, str], str] = {}
    out = []
    for p in candidates:
        key = (p.source_date_epoch, p.time_zone)
        out.append(Policy(p.name, p.source_date_epoch, p.time_zone, seen.get(key, ""), p.note))
        seen.setdefault(key, p.name)
    return tuple(out)


def most_common_time(wheel: WheelInfo) -> int | None:
    counts = Counter(wheel.zip_times.values())
    return max(counts, key=lambda t: (counts[t], t)) if counts else None


def _sdist_time(sdist: SdistInfo, member: str) -> int | None:
    for candidate in (member, f"src/{member}"):
        if candidate in sdist.mtimes:
            return sdist.mtimes[candidate]
    return None


def pairs(sdist: SdistInfo, wheel: WheelInfo) -> list[tuple[int, int]]:
    """(zip time read as UTC, sdist time) of every wheel member the sdist has."""
    found = []
    for member, zipped in wheel.zip_times.items():
        mtime = _sdist_time(sdist, member)
        if mtime is not None:
            found.append((zipped, mtime))
    return found


def _explained(diff: int, offset: int) -> bool:
    return -ZIP_ROUNDING <= diff - offset <= 0


def zone_offset(sdist: SdistInfo, wheel: WheelInfo) -> int | None:
    """Seconds east of UTC when every wheel member found in the sdist is off from its sdist
    time by the same non-zero whole number of quarter hours (within zip's 2-second rounding)."""
    offsets = set()
    for zipped, mtime in pairs(sdist, wheel):
        diff = zipped - mtime
        offset = round(diff / QUARTER_HOUR) * QUARTER_HOUR
        if not _explained(diff, offset):
            return None
        offsets.add(offset)
    if len(offsets) != 1:
        return None
    offset = offsets.pop()
    return offset if offset != 0 and abs(offset) <= MAX_OFFSET else None


AREAS = ("Europe/", "America/", "Asia/", "Australia/", "Africa/", "Pacific/", "Atlantic/", "Indian/")


def canonical_zones() -> frozenset[str]:
    """The tz database's canonical zone names (zone1970.tab), not its backward links
    (Europe/Belfast is a link to Europe/London); empty when the table is not installed."""
    for directory in TZPATH:
        table = Path(directory) / "zone1970.tab"
        if table.is_file():
            lines = table.read_text(errors="replace").splitlines()
            return frozenset(f[2] for f in (line.split("\t") for line in lines if not line.startswith("#")) if len(f) > 2)
    return frozenset()


def _rank(zone: str, canonical: frozenset[str]) -> tuple[bool, int, str]:
    area = next((i for i, prefix in enumerate(AREAS) if zone.startswith(prefix)), len(AREAS))
    return zone not in canonical, area, zone


def zones_explaining(found: list[tuple[int, int]]) -> list[str]:
    """The tz database zones (as this machine has them) whose UTC offset at each file's time
    explains its zip time, when the offsets are not all zero and not all the same."""
    diffs = {round((z - m) / QUARTER_HOUR) for z, m in found}
    if len(diffs) < 2 or any(abs(z - m) > MAX_OFFSET + ZIP_ROUNDING for z, m in found):
        return []  # no zone is that far off (and an sdist's times can be out of any calendar's range)
    matches, canonical = [], canonical_zones()
    for name in sorted(available_timezones(), key=lambda zone: _rank(zone, canonical)):
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
        if all(_explained(z - m, int(datetime.fromtimestamp(m, zone).utcoffset().total_seconds()))
               for z, m in found):
            matches.append(name)
    return matches


def posix_tz(offset: int) -> str:
    """A POSIX TZ value for a fixed offset east of UTC: +5:30 is ``<+0530>-05:30``."""
    sign, minutes = ("+" if offset >= 0 else "-"), abs(offset) // 60
    hh, mm = divmod(minutes, 60)
    return f"<{sign}{hh:02d}{mm:02d}>{'-' if offset >= 0 else '+'}{hh:02d}:{mm:02d}"
