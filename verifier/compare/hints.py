"""Root-cause hints: common reproducibility problems recognised in a Difference tree and
said in words. Each rule looks at one node and its direct children."""

from __future__ import annotations

import re
from datetime import datetime
from dataclasses import replace

from verifier.compare.difference import Difference

DATE_RE = re.compile(r"\b(19|20)\d\d-[01]\d-[0-3]\d([T ][0-2]\d:[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?)?"
                     r"|\b[0-2]\d:[0-5]\d:[0-5]\d(\.\d+)?\b")
PATH_RE = re.compile(r"(/build/|/tmp/|/home/|/var/tmp/|/usr/src/)[^\s\"']*")

FIELD_HINTS = {
    "mtime": "member timestamps differ: clamp them to SOURCE_DATE_EPOCH (tar --mtime=@$SOURCE_DATE_EPOCH --clamp-mtime)",
    "date_time": "zip entry timestamps differ: set them from SOURCE_DATE_EPOCH",
    "uid": "ownership differs: archive with fixed owners (tar --owner=0 --group=0 --numeric-owner)",
    "gid": "ownership differs: archive with fixed owners (tar --owner=0 --group=0 --numeric-owner)",
    "uname": "owner names differ: archive with fixed owners (tar --owner=0 --group=0 --numeric-owner)",
    "gname": "group names differ: archive with fixed owners (tar --owner=0 --group=0 --numeric-owner)",
    "mode": "file permissions differ: the umask or file modes are not normalised (umask 022)",
    "extra": "zip extra fields differ (extended timestamps or uid/gid fields): strip them (zip -X)",
    "os": "the gzip header's OS byte differs: the streams were compressed by different tools or platforms",
}


def _header_hints(node: Difference) -> list[str]:
    hints = []
    for child in node.details:
        if child.kind == "header" and child.source1 == "mtime":
            hints.append("the gzip header records a timestamp: compress with gzip -n (or mtime 0)")
        if child.kind == "header" and child.source1 == "name":
            hints.append("the gzip header records the original file name: compress with gzip -n")
    return hints


RPM_HINTS = {
    "buildtime": "RPM BUILDTIME differs: build with SOURCE_DATE_EPOCH and %use_source_date_epoch_as_buildtime",
    "buildhost": "RPM BUILDHOST differs: set %_buildhost to a fixed name",
}


def _field_hints(node: Difference, source_date_epoch: int | None) -> list[str]:
    hints = [RPM_HINTS[c.source1] for c in node.details if c.kind == "field" and c.source1 in RPM_HINTS]
    for child in node.details:
        if child.kind == "metadata" and child.source1 in FIELD_HINTS:
            hints.append(FIELD_HINTS[child.source1])
            if child.source1 == "mtime" and source_date_epoch is not None and child.unified_diff:
                hints += _epoch_hint(child.unified_diff, source_date_epoch)
    return hints


def _epoch_hint(diff: str, epoch: int) -> list[str]:
    values = [line[1:] for line in diff.splitlines() if line[:1] in "+-"]
    if str(epoch) in values:
        return ["one side is clamped to SOURCE_DATE_EPOCH and the other is not"]
    return []


def _changed_pairs(diff: str) -> list[tuple[str, str]]:
    """Removed and added lines paired in order, where a hunk replaces as many as it adds."""
    removed = [line[1:] for line in diff.splitlines() if line.startswith("-")]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+")]
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


def _whole_hours_apart(pairs: list[tuple[str, str]]) -> bool:
    """A timestamp shifted by whole hours, nothing else: a time zone leaked into the output."""
    for a, b in pairs:
        ma, mb = DATE_RE.search(a), DATE_RE.search(b)
        if not (ma and mb) or DATE_RE.sub("<>", a) != DATE_RE.sub("<>", b):
            continue
        ta, tb = _parse(ma.group(0)), _parse(mb.group(0))
        if ta and tb and ta != tb:
            seconds = abs((ta - tb).total_seconds())
            if seconds % 3600 == 0 and seconds <= 14 * 3600:
                return True
    return False


def _content_hints(node: Difference) -> list[str]:
    hints = []
    pairs = _changed_pairs(node.unified_diff or "") if node.kind == "content" else []
    if _whole_hours_apart(pairs):
        hints.append("a timestamp differs by whole hours: the build's time zone leaks into the output (TZ=UTC)")
    if _only_differs_by(DATE_RE, pairs):
        hints.append("a date or time that differs between the builds is embedded in the content: the build "
                     "time leaks into the output (use SOURCE_DATE_EPOCH)")
    if _only_differs_by(PATH_RE, pairs):
        hints.append("a build path is embedded in the content (use -ffile-prefix-map or a fixed build path)")
    if node.kind == "order":
        hints.append("member order differs: sort entries (tar --sort=name, sorted file lists)")
    if node.kind == "bytes" and node.source1.endswith(".pyc"):
        hints.append(".pyc header timestamps differ: compile with SOURCE_DATE_EPOCH set (checked-hash pycs)")
    return hints


def _annotate(diff: Difference, source_date_epoch: int | None, summary: dict[str, None]) -> Difference:
    """Content hints stay on their node; metadata-level hints go to the summary only."""
    children = tuple(_annotate(child, source_date_epoch, summary) for child in diff.details)
    node = replace(diff, details=children)
    local = _content_hints(node)
    for hint in _header_hints(node) + _field_hints(node, source_date_epoch) + local:
        summary[hint] = None
    return node.with_hints(local) if local else node


def add_hints(diff: Difference, source_date_epoch: int | None = None) -> Difference:
    """Annotate the tree; the root lists every distinct hint once, in the order found."""
    summary: dict[str, None] = {}
    root = _annotate(diff, source_date_epoch, summary)
    return root.with_hints(summary)
