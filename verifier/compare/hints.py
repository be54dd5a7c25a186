"""Root-cause hints: common reproducibility problems recognised in a Difference tree and
said in words. Each rule looks at one node and its direct children; docs/hints.md lists
every rule, what it looks at, and what it does not claim.

Sides: ``-`` lines are the first input (the official artifact in `verify`), ``+`` lines
the second (the rebuilt one), so "during the build" is checked on ``+`` values only.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from verifier.compare import hints_clock, hints_debian, hints_zip
from verifier.compare.difference import Difference
from verifier.compare.hints_clock import BuildClock

__all__ = ["BuildClock", "add_hints"]

DATE_RE = re.compile(r"\b(19|20)\d\d-[01]\d-[0-3]\d([T ][0-2]\d:[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?)?"
                     r"|\b[0-2]\d:[0-5]\d:[0-5]\d(\.\d+)?\b")
PATH_RE = re.compile(r"(/build/|/tmp/|/home/|/var/tmp/|/usr/src/)[^\s\"']*")
OWNERS = "archive with fixed owners (tar --owner=0 --group=0 --numeric-owner)"

FIELD_HINTS = {
    "mtime": "member timestamps differ: clamp them to SOURCE_DATE_EPOCH (tar --mtime=@$SOURCE_DATE_EPOCH --clamp-mtime)",
    "date_time": "zip entry timestamps differ: set them from SOURCE_DATE_EPOCH",
    "uid": f"ownership differs: {OWNERS}",
    "gid": f"ownership differs: {OWNERS}",
    "uname": f"owner names differ: {OWNERS}",
    "gname": f"group names differ: {OWNERS}",
    "mode": "file permissions differ: the umask or file modes are not normalised (umask 022)",
    "special bits": "setuid/setgid/sticky bits differ: a privilege change, which no normaliser removes",
    "inode": "cpio records inode numbers: create the archive with cpio --reproducible (renumbered inodes)",
    "extra": "zip extra fields differ (extended timestamps or uid/gid fields): strip them (zip -X)",
}
HEADER_HINTS = {
    "mtime": "the gzip header records a timestamp: compress with gzip -n (or mtime 0)",
    "name": "the gzip header records the original file name: compress with gzip -n",
    "os": "the gzip header's OS byte differs: the streams were compressed by different tools or platforms",
    "pyc source mtime": ".pyc files record their source's mtime: compile with SOURCE_DATE_EPOCH set "
                        "(py_compile then writes checked-hash pycs) or clamp the sources' mtimes",
    "pyc flags": ".pyc invalidation modes differ (timestamp vs hash): compile both with SOURCE_DATE_EPOCH set",
}
RPM_HINTS = {
    "buildtime": "RPM BUILDTIME differs: build with SOURCE_DATE_EPOCH and %use_source_date_epoch_as_buildtime",
    "buildhost": "RPM BUILDHOST differs: set %_buildhost to a fixed name",
}
INPUT_KINDS = ("unreadable", "format")  # nodes the engine leaves when it cannot read a side as its format
MAX_NAMED = 5  # members named in a grouped hint
TIMESTAMP_FIELDS = {("metadata", "mtime"), ("metadata", "date_time"), ("header", "mtime"), ("field", "buildtime"),
                    ("header", "pyc source mtime")}


def _epoch(value: str) -> int | None:
    """A timestamp field's value as epoch seconds (integers, or zip's "YYYY-MM-DD HH:MM:SS" as UTC)."""
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _sides(diff: str) -> tuple[list[str], list[str]]:
    lines = diff.splitlines()
    return [line[1:] for line in lines if line.startswith("-")], [line[1:] for line in lines if line.startswith("+")]


def _clock_hints(values: tuple[list[int], list[int]], clock: BuildClock) -> list[str]:
    first, second = values
    hints = []
    epoch = clock.source_date_epoch
    if epoch is not None:
        if any(v > epoch for v in first + second):
            hints.append(f"timestamps later than SOURCE_DATE_EPOCH ({epoch}) are not clamped to it "
                         "(tar --clamp-mtime, touch -d @$SOURCE_DATE_EPOCH)")
        if (epoch in first) != (epoch in second):
            hints.append("one side is clamped to SOURCE_DATE_EPOCH and the other is not")
    if any(clock.during_build(v) for v in second):
        hints.append("a timestamp equals the time of the build: the build clock leaks into the output "
                     "instead of SOURCE_DATE_EPOCH")
    return hints


def _timestamp_values(node: Difference) -> tuple[list[int], list[int]]:
    removed, added = _sides(node.unified_diff or "")
    return ([v for v in map(_epoch, removed) if v is not None], [v for v in map(_epoch, added) if v is not None])


def _umask_hint(diff: str) -> list[str]:
    removed, added = _sides(diff)
    try:
        pairs = [(int(a, 8), int(b, 8)) for a, b in zip(removed, added)]
    except ValueError:
        return []
    if pairs and all(a != b and a ^ b and not (a ^ b) & ~0o022 for a, b in pairs):
        return ["only group/other write bits differ: the builds ran with different umasks (umask 022)"]
    return []


def _field_hints(node: Difference, clock: BuildClock) -> list[str]:
    hints = []
    for child in node.details:
        if child.kind == "field" and child.source1 in RPM_HINTS:
            hints.append(RPM_HINTS[child.source1])
        if child.kind == "metadata" and child.source1 in FIELD_HINTS:
            hints.append(FIELD_HINTS[child.source1])
        if child.kind == "header" and child.source1 in HEADER_HINTS:
            hints.append(HEADER_HINTS[child.source1])
        if child.kind == "metadata" and child.source1 == "mode":
            hints += _umask_hint(child.unified_diff or "")
        if (child.kind, child.source1) in TIMESTAMP_FIELDS:
            hints += _clock_hints(_timestamp_values(child), clock)
    return hints


def _changed_pairs(diff: str) -> list[tuple[str, str]]:
    """Removed and added lines paired in order, where a hunk replaces as many as it adds."""
    removed, added = _sides(diff)
    return list(zip(removed, added)) if len(removed) == len(added) else []


def _only_differs_by(pattern: re.Pattern[str], pairs: list[tuple[str, str]]) -> bool:
    """True when some changed line differs only in what ``pattern`` matches."""
    return any(a != b and pattern.search(a) and pattern.sub("<>", a) == pattern.sub("<>", b) for a, b in pairs)


def _parse(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=None)


def _embedded_dates(pairs: list[tuple[str, str]]) -> list[tuple[datetime, datetime]]:
    """Dates in changed lines that differ only in their dates, as (first, second) pairs."""
    found = []
    for a, b in pairs:
        ma, mb = DATE_RE.search(a), DATE_RE.search(b)
        if ma and mb and DATE_RE.sub("<>", a) == DATE_RE.sub("<>", b):
            ta, tb = _parse(ma.group(0)), _parse(mb.group(0))
            if ta and tb and ta != tb:
                found.append((ta, tb))
    return found


def _date_hints(pairs: list[tuple[str, str]], clock: BuildClock) -> list[str]:
    hints = []
    dates = _embedded_dates(pairs)
    seconds = [abs((ta - tb).total_seconds()) for ta, tb in dates]
    if any(s % 3600 == 0 and s <= 14 * 3600 for s in seconds):
        hints.append("a timestamp differs by whole hours: the build's time zone leaks into the output (TZ=UTC)")
    if _only_differs_by(DATE_RE, pairs):
        hints.append("a date or time that differs between the builds is embedded in the content: the build "
                     "time leaks into the output (use SOURCE_DATE_EPOCH)")
    added = [int(tb.replace(tzinfo=UTC).timestamp()) for _, tb in dates]
    if any(clock.during_build(moment) for moment in added):
        hints.append("an embedded date equals the time of the build (read as UTC): the build clock leaks into "
                     "the output instead of SOURCE_DATE_EPOCH")
    return hints


def _order_hints(node: Difference) -> list[str]:
    if node.kind == "order":
        return ["member order differs: sort entries (tar --sort=name, sorted file lists)"]
    said = " ".join(node.comments)
    if node.kind != "content" or "the same lines in a different order" not in said:
        return []
    hint = "the same lines in a different order: sort the generated list"
    if "one side is in C (byte) order, the other in a locale's" in said:
        hint = "the lines are sorted in different collations: the locale leaks into sorting (LC_ALL=C sort)"
    return [hint]


def _content_hints(node: Difference, clock: BuildClock) -> list[str]:
    hints = _order_hints(node)
    if node.kind != "content":
        return hints
    pairs = _changed_pairs(node.unified_diff or "")
    hints += _date_hints(pairs, clock)
    if _only_differs_by(PATH_RE, pairs):
        hints.append("a build path is embedded in the content (use -ffile-prefix-map or a fixed build path)")
    return hints


def _grouped(found: dict[str, list[tuple[str, str]]]) -> list[str]:
    """One hint per cause, naming its members (the first with what each side has)."""
    hints = []
    for cause, found_members in found.items():
        members = list(dict.fromkeys(found_members))
        (first, detail), rest = members[0], list(dict.fromkeys(m for m, _ in members[1:] if m != members[0][0]))
        also = f"; also {', '.join(rest[:MAX_NAMED])}" + (f" and {len(rest) - MAX_NAMED} more" if len(rest) > MAX_NAMED else "")
        hints.append(f"{cause}: {first}: {detail}" + (also if rest else ""))
    return hints


def _input_hints(node: Difference) -> list[str]:
    """An input the auditor could not read as its format (truncated, corrupt, refused), or
    two inputs of different formats: the engine's words for it, which name the file and
    the place."""
    if node.kind not in INPUT_KINDS:
        return []
    return list(node.comments[:1])


def _member_causes(node: Difference, clock: BuildClock) -> list[tuple[str, str, str]]:
    """(cause, member, what each side has) for the rules that name members."""
    return hints_debian.causes(node) + hints_zip.causes(node) + hints_clock.causes(node, clock)


Found = dict[str, list[tuple[str, str]]]


def _annotate(diff: Difference, clock: BuildClock, summary: dict[str, None], first: dict[str, None],
              named: Found) -> Difference:
    """Content hints stay on their node; field-level and input hints go to the root only."""
    children = tuple(_annotate(child, clock, summary, first, named) for child in diff.details)
    node = replace(diff, details=children)
    for cause, member, detail in _member_causes(node, clock):
        named.setdefault(cause, []).append((member, detail))
    first.update(dict.fromkeys(_input_hints(node)))  # the node says it already: the root only
    local = _content_hints(node, clock)
    for hint in _field_hints(node, clock) + local:
        summary[hint] = None
    return node.with_hints(local) if local else node


def add_hints(diff: Difference, clock: BuildClock = BuildClock()) -> Difference:
    """Annotate the tree; the root lists every distinct hint once: first what is said about
    unreadable inputs (it changes how everything else reads), then the rest in the order found."""
    summary: dict[str, None] = {}
    first: dict[str, None] = {}
    named: Found = {}
    root = _annotate(diff, clock, summary, first, named)
    grouped = _grouped(named)
    said = [h for h in [*root.hints, *summary] if not any(g.startswith(h + ": ") for g in grouped)]  # named instead
    return replace(root, hints=tuple(dict.fromkeys([*first, *grouped, *said])))
