"""Hints for zips and wheels (issue 10), each naming the archive or member and what each
side has: only the entry timestamps differ (by one whole number of quarter hours: the time
zone; otherwise the build clock), one side was made on Windows (zip host OS, -rw-rw-rw-
modes, CRLF line endings), the compression level or method differs, the member order
differs. "official" is the first side, "rebuild" the second."""

from __future__ import annotations

import re
from datetime import datetime

from verifier.compare.difference import Difference

Cause = tuple[str, str, str]

ONLY_TIMES = "only the zip entry timestamps differ"
TIME_ZONE = "by a time-zone offset: zip stores local time, and the build machines' time zones differ (build with TZ=UTC)"
CLOCK = "by the build clock: the files' times or SOURCE_DATE_EPOCH differ between the builds"
WINDOWS = "the {side} wheel was made on Windows"
COMPRESSION = "the compression level differs: members' stored bytes differ, their content does not"
METHOD = "the compression method differs"
ORDER = "member order differs: sort entries (tar --sort=name, sorted file lists)"  # the generic hint, with names
HOSTS = {"0": "MS-DOS/Windows (0)", "3": "unix (3)", "11": "NTFS (11)", "14": "VFAT (14)"}
WINDOWS_HOSTS = ("0", "11", "14")
WINDOWS_MODE = "0o100666"  # -rw-rw-rw-: what a Windows stat() gives every file
CRLF = "only line endings differ (CRLF vs LF)"
TIMES_NOTE = re.compile(r"^(\d+) of (\d+) entries' timestamps differ$")  # the zip comparator's comment
QUARTER = 900
MAX_OFFSET = 14 * 3600
MAX_SHOWN = 3


def _member(label: str) -> str:
    return label.rsplit("::", 1)[-1].removesuffix(" (metadata)")


def _values(diff: str | None) -> tuple[str, str]:
    lines = (diff or "").splitlines()
    return (next((x[1:] for x in lines if x.startswith("-")), ""), next((x[1:] for x in lines if x.startswith("+")), ""))


def _fields(node: Difference) -> dict[str, tuple[str, str]]:
    return {f.source1: _values(f.unified_diff) for f in node.details if f.kind == "metadata" and not f.details}


def _member_nodes(node: Difference) -> list[Difference]:
    """The zip's per-member metadata nodes directly under ``node``."""
    return [c for c in node.details if c.kind == "metadata" and c.source1.endswith(" (metadata)")]


def _leaves(node: Difference) -> list[Difference]:
    return [n for n in node.walk() if not n.details and n is not node]


def _seconds(text: str) -> int | None:
    try:
        return int(datetime.fromisoformat(text).timestamp())
    except ValueError:
        return None


def _offset(seconds: int) -> str:
    sign = "later" if seconds > 0 else "earlier"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return (f"{hours} h {minutes:02d} min" if minutes else f"{hours} h") + f" {sign} in the rebuild"


def only_times(node: Difference) -> list[Cause]:
    """Every difference in this zip is an entry's date_time: by how much, and what that points to.
    Looked at from the zip's own node, whose child of the same label holds the members (so a
    difference in the archive comment, layout or bytes outside members is seen too)."""
    members = [c for c in node.details if c.source1 == node.source1 and _member_nodes(c)]
    leaves = _leaves(node)
    counted = next((m for n in leaves for m in map(TIMES_NOTE.match, n.comments) if m), None)
    if not members or counted is None or any(n.kind != "metadata" or n.source1 != "date_time" for n in leaves):
        return []
    every = counted[1] == counted[2]
    pairs = [_values(n.unified_diff) for n in leaves]
    deltas = {b - a for a, b in ((_seconds(x), _seconds(y)) for x, y in pairs) if a is not None and b is not None}
    if len(deltas) != 1 or len(pairs) != len(leaves):
        spread = sorted(deltas)
        said = f"{len(leaves)} entries, by {spread[0]} to {spread[-1]} s" if spread else f"{len(leaves)} entries"
        return [(f"{ONLY_TIMES} {CLOCK}", node.source1, f"official {pairs[0][0]}, rebuild {pairs[0][1]} ({said})")]
    (delta,) = deltas
    zone = every and delta % QUARTER == 0 and 0 < abs(delta) <= MAX_OFFSET
    cause = f"{ONLY_TIMES} {TIME_ZONE if zone else CLOCK}"
    which = "every entry" if every else f"{counted[1]} of {counted[2]} entries"
    return [(cause, node.source1, f"{which} {_offset(delta) if zone else f'{delta:+d} s in the rebuild'} "
                                  f"(official {pairs[0][0]}, rebuild {pairs[0][1]})")]


def _windows_signs(node: Difference) -> dict[int, list[str]]:
    """What says Windows, by side (0 official, 1 rebuild)."""
    signs: dict[int, list[str]] = {0: [], 1: []}
    for member in _member_nodes(node):
        fields = _fields(member)
        for side, value in enumerate(fields.get("create_system", ("", ""))):
            if value in WINDOWS_HOSTS:
                signs[side].append(f"zip host OS {HOSTS[value]} for {_member(member.source1)}")
        for side, value in enumerate(fields.get("external_attr", ("", ""))):
            if value == WINDOWS_MODE:
                signs[side].append(f"mode -rw-rw-rw- for {_member(member.source1)}")
    for content in (c for c in node.details if c.kind == "content" and any(x.startswith(CRLF) for x in c.comments)):
        side = 0 if any(x.endswith("CRLF in the first") for x in content.comments) else 1
        signs[side].append(f"CRLF line endings in {_member(content.source1)}")
    return signs


def windows(node: Difference) -> list[Cause]:
    signs = _windows_signs(node)
    causes = []
    for side, name in ((0, "official"), (1, "rebuilt")):
        if signs[side] and not signs[1 - side]:
            kinds = list(dict.fromkeys(s.split(" for ")[0].split(" in ")[0] for s in signs[side]))
            said = "; ".join(kinds) + f" ({len(signs[side])} signs, first: {signs[side][0]})"
            causes.append((WINDOWS.format(side=name), node.source1, said))
    return causes


def compression(node: Difference) -> list[Cause]:
    """Members whose stored bytes differ while their content is the same (no content node for them)."""
    explained = {n.source1 for n in node.details if n.kind != "metadata"}
    level, method = [], []
    for member in _member_nodes(node):
        name = member.source1.removesuffix(" (metadata)")
        fields = _fields(member)
        if name in explained:
            continue
        if "compression" in fields:
            method.append(f"{_member(name)}: official {fields['compression'][0]}, rebuild {fields['compression'][1]}")
        elif "compressed_size" in fields:
            a, b = fields["compressed_size"]
            level.append(f"{_member(name)}: official {a} bytes compressed, rebuild {b}")
    causes = []
    for cause, found in ((COMPRESSION, level), (METHOD, method)):
        if found:
            shown = "; ".join(found[:MAX_SHOWN]) + (f"; and {len(found) - MAX_SHOWN} more" if len(found) > MAX_SHOWN else "")
            causes.append((cause, node.source1, f"{len(found)} member(s) ({shown})"))
    return causes


def order(node: Difference) -> list[Cause]:
    if node.kind != "order":
        return []
    first, second = _values(node.unified_diff)
    where = next((c for c in node.comments if "first at position" in c), "")
    position = where.rsplit("position ", 1)[-1] if where else "?"
    return [(ORDER, node.source1.removesuffix(" (member order)"),
             f"first at position {position}: official has {first}, rebuild has {second}")]


RULES = (only_times, windows, compression, order)


def causes(node: Difference) -> list[Cause]:
    if not node.details:  # a leaf: only the order rule reads one
        return order(node)
    return [cause for rule in RULES for cause in rule(node)]
