"""Filesystem images: ISO 9660 (libarchive, with our own size check: libarchive lists a
truncated image without error) and squashfs (squashfs-tools: libarchive cannot read it).
Members are compared like any container's (verifier/compare/members.py)."""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from verifier.compare.comparators.archives import LibarchiveContainer
from verifier.compare.difference import Difference
from verifier.compare.interface import CompareContext, CorruptArchive, Side, ToolFailed, TruncatedArchive
from verifier.compare.members import Key, Member, compare_members, list_both
from verifier.compare.modes import ls_mode
from verifier.compare.regular import open_regular
from verifier.digests import CHUNK
from verifier.formats import sniff
from verifier.formats.reading import Budget, text
from verifier.printable import one_line
from verifier.tools import require

SQUASHFS_LIST = re.compile(r"^(?P<mode>[-dlcbps][-rwxsStT]{9})\s+(?P<owner>\S+)\s+(?P<size>[\d,]+)\s+"
                           r"(?P<date>\d{4}-\d\d-\d\d \d\d:\d\d)\s+squashfs-root(?P<path>/.*)?$")
TIMEOUT = 600
SQUASHFS_SUPERBLOCK = 96
ISO_SYSTEM_AREA = 32768
NO_TABLE = 0xFFFFFFFFFFFFFFFF  # a superblock table offset meaning "no such table"


def _system_area(a: Side, b: Side) -> Difference | None:
    """ISO 9660's first 32 KiB (an isohybrid image's MBR and boot code, a partition table)
    belong to no file libarchive lists: compared as bytes, a difference is a ``bytes`` node
    no normaliser removes."""
    heads = []
    for side in (a, b):
        with open_regular(side.path, side.label) as f:
            heads.append(f.read(ISO_SYSTEM_AREA))
    if heads[0] == heads[1]:
        return None
    first = next((i for i, (x, y) in enumerate(zip(*heads)) if x != y), min(map(len, heads)))
    return Difference(f"{a.label} (system area)", f"{b.label} (system area)",
                      (f"the ISO 9660 system area (the first 32 KiB: boot code, partition table) differs, first at "
                       f"byte {first}",), kind="bytes")


@dataclass(frozen=True)
class Iso9660Container(LibarchiveContainer):
    name: str = "iso9660"
    format_name: str = "iso9660"

    def recognizes(self, head: bytes, side: Side) -> bool:
        return sniff.iso_volume_bytes(side.path) is not None

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        for side in (a, b):
            expected, actual = sniff.iso_volume_bytes(side.path) or 0, side.path.stat().st_size
            if actual < expected:
                raise TruncatedArchive(side.label, f"the image has {actual} of the {expected} bytes its volume "
                                       "descriptor declares", f"ends at byte {actual}")
        found = super().compare(a, b, ctx)
        return Difference.from_details(a.label, b.label, [_system_area(a, b), *(found.details if found else ())])


def _unsquashfs(args: list[str], side: Side) -> subprocess.CompletedProcess[bytes]:
    try:
        done = subprocess.run([require("unsquashfs"), *args], capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ToolFailed(f"{side.label}: unsquashfs did not finish within {TIMEOUT} s") from None
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip()[:200] or f"exit {done.returncode}"
        raise CorruptArchive(side.label, f"unsquashfs cannot read it: {said}", "squashfs image")
    return done


def squashfs_bytes(path: Path) -> int:
    """The bytes a squashfs image says it uses (superblock ``bytes_used``, at offset 40)."""
    with open_regular(path) as f:
        superblock = f.read(SQUASHFS_SUPERBLOCK)
    return int.from_bytes(superblock[40:48], "little") if len(superblock) == SQUASHFS_SUPERBLOCK else 0


def squashfs_xattrs(side: Side) -> str | None:
    """sha256 of a squashfs image's extended attributes (file capabilities, SELinux labels,
    user xattrs), None when it has none. unsquashfs 4.5 cannot list them per member, so the
    xattr table is compared whole: its key/value and id blocks (from ``xattr_table_start``
    up to the index at ``xattr_id_table_start``) refer to each other by relative offsets
    only, so a table that merely moved (other tables grew) reads the same."""
    with open_regular(side.path, side.label) as f:
        superblock = f.read(SQUASHFS_SUPERBLOCK)
        index = int.from_bytes(superblock[56:64], "little") if len(superblock) == SQUASHFS_SUPERBLOCK else NO_TABLE
        if index == NO_TABLE:
            return None
        f.seek(index)
        head = f.read(16)
        start = int.from_bytes(head[:8], "little")
        if len(head) < 16 or start > index:
            raise CorruptArchive(side.label, "its xattr table index points nowhere", f"byte {index}")
        h = hashlib.sha256(head[8:12])  # the number of xattr ids
        f.seek(start)
        remaining = index - start
        while remaining and (chunk := f.read(min(CHUNK, remaining))):
            h.update(chunk)
            remaining -= len(chunk)
    return h.hexdigest()


def _xattrs_node(a: Side, b: Side) -> Difference | None:
    if squashfs_xattrs(a) == squashfs_xattrs(b):
        return None
    return Difference(f"{a.label} (xattrs)", f"{b.label} (xattrs)",
                      ("the images' extended attributes differ (file capabilities, SELinux labels, user xattrs); "
                       "unsquashfs 4.5 cannot list them per member, so their xattr tables are compared whole",),
                      kind="bytes")


@dataclass(frozen=True)
class SquashfsContainer:
    name: str = "squashfs"

    def recognizes(self, head: bytes, side: Side) -> bool:
        return sniff.is_squashfs(head)

    def _cat(self, side: Side, path: str, sink, budget: Budget) -> None:
        """Stream one member's content into ``sink`` (constant memory). ``path`` is the name's
        bytes as a lossless str: subprocess passes those bytes back to unsquashfs."""
        with subprocess.Popen([require("unsquashfs"), "-no-wildcards", "-cat", str(side.path), path],
                              stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL) as proc:
            while chunk := proc.stdout.read(CHUNK):
                budget.grow(len(chunk))
                sink(chunk)
        if proc.returncode != 0:
            raise CorruptArchive(side.label, "unsquashfs cannot read this member", f"member '{one_line(path)}'")

    def _list(self, side: Side, ctx: CompareContext) -> list[Member]:
        listing = text(_unsquashfs(["-UTC", "-lln", str(side.path)], side).stdout)
        members, budget = [], Budget(side.path, side.label, ctx.settings.unpack, ctx.stop)
        for line in listing.splitlines():
            m = SQUASHFS_LIST.match(line)
            if not m or not m["path"]:
                continue
            path, _, link = m["path"][1:].partition(" -> ")
            meta: dict[str, object] = {**ls_mode(m["mode"]), "owner": m["owner"], "mtime": m["date"]}
            if link:
                meta["link"] = link
            size = int(m["size"].replace(",", ""))
            budget.admit(path, size)
            digest = None
            if m["mode"].startswith("-"):
                h = hashlib.sha256()
                self._cat(side, path, h.update, budget)
                digest = h.hexdigest()
            members.append(Member(path, digest, size, meta))
        return members

    def _extract(self, side: Side, keys: set[Key], ctx: CompareContext) -> dict[Key, Path]:
        """A filesystem holds each path once: every key is (path, 0)."""
        out, budget = {}, Budget(side.path, side.label, ctx.settings.unpack, ctx.stop)
        for key in keys:
            path = ctx.new_temp_file()
            with open(path, "wb") as f:
                self._cat(side, key[0], f.write, budget)
            out[key] = path
        return out

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        for side in (a, b):
            expected, actual = squashfs_bytes(side.path), side.path.stat().st_size
            if actual < expected:
                raise TruncatedArchive(side.label, f"the image has {actual} of the {expected} bytes its superblock "
                                       "declares", f"ends at byte {actual}")
        members = compare_members(a, b, *list_both(self._list, a, b, ctx), ctx, self._extract)
        return Difference.from_details(a.label, b.label, [_xattrs_node(a, b), *(members.details if members else ())])
