"""zip, wheel, jar and omni.ja: members, order, timestamps, extra fields, compression,
comments, and the layout (data before the first member, central directory first).

The central directory is read by ``zipdir.py`` (every layout real tools write). Listing
hashes each member's stored (compressed) bytes with its method: equal stored bytes
decompress to equal content, so nothing is inflated unless two members' stored bytes
differ. Those are then extracted, within the unpack budget and checked against their
CRC-32, and compared as files (which finds the content equal when only the compression
level differs). Data in front of the zip (a self-extractor's stub) is compared as a file
of its own.
"""

from __future__ import annotations

import hashlib
import stat
import struct
from dataclasses import dataclass, replace
from pathlib import Path

from verifier.compare.comparators.archives import KINDS
from verifier.compare.comparators.zipdir import (DIRECTORY_FIRST, METHODS, PREFIXED, Directory, Entry, data_start,
                                                 ends_with_zip, member_chunks, outside_members, read_directory, read_prefix,
                                                 stored_chunks)
from verifier.compare.difference import Difference
from verifier.compare.interface import CompareContext, Side
from verifier.compare.members import Key, Member, both, compare_members, keyed, list_both
from verifier.compare.modes import special_bits
from verifier.compare.regular import open_regular
from verifier.formats import sniff
from verifier.formats.reading import Budget


UNIX = 3  # create_system: the high 16 bits of external_attr are a unix st_mode


def _unix_fields(entry: Entry) -> dict[str, object]:
    """The member's type and special bits, from the unix mode in its external attributes:
    fields of their own, so the ``zip-metadata`` normaliser (which removes external_attr)
    never hides a member becoming a symlink or gaining a setuid bit."""
    mode = entry.external_attr >> 16 if entry.create_system == UNIX else 0
    kind = "dir" if entry.is_dir() else KINDS.get(stat.S_IFMT(mode), "reg")
    return {"type": kind, "special bits": special_bits(mode)}


def _meta(entry: Entry) -> dict[str, object]:
    attr = entry.external_attr
    return {**_unix_fields(entry),
        "date_time": "%04d-%02d-%02d %02d:%02d:%02d" % entry.date_time,
        "compression": METHODS.get(entry.method, str(entry.method)),
        "external_attr": oct(attr >> 16) if attr >> 16 else hex(attr),
        "create_system": entry.create_system, "extra": entry.extra.hex(),
        "comment": entry.comment.decode("utf-8", "replace"), "compressed_size": entry.compressed_size,
    }


def _directory(side: Side, ctx: CompareContext) -> Directory:
    limits = ctx.settings.unpack
    return read_directory(side, limits.max_members, limits.max_name_length)


def _stored_digest(f, entry: Entry, directory: Directory, side: Side) -> str:  # type: ignore[no-untyped-def]
    """sha256 of the member's method, encryption flag and stored bytes, read in place."""
    h = hashlib.sha256(struct.pack("<HH", entry.method, entry.flags & 1))
    for chunk in stored_chunks(f, entry, data_start(f, entry, directory.base, side), side):
        h.update(chunk)
    return h.hexdigest()


def _header(a: Side, b: Side, da: Directory, db: Directory) -> Difference | None:
    fields = [Difference.field("archive comment", da.comment.decode("utf-8", "replace"),
                               db.comment.decode("utf-8", "replace"), kind="header"),
              Difference.field("layout", da.layout, db.layout, kind="header")]
    return Difference.from_details(f"{a.label} (zip)", f"{b.label} (zip)", fields, kind="header")


def _times_note(left: list[Member], right: list[Member]) -> str:
    """How many of the entries both sides hold have other timestamps (a time zone moves them all)."""
    a, b = dict(zip(keyed(m.name for m in left), left)), dict(zip(keyed(m.name for m in right), right))
    common = [k for k in a if k in b]
    moved = sum(a[k].meta.get("date_time") != b[k].meta.get("date_time") for k in common)
    return f"{moved} of {len(common)} entries' timestamps differ" if moved else ""


def _note_times(members: Difference | None, note: str) -> Difference | None:
    """The note on the first differing ``date_time`` field: a leaf the timestamps normaliser
    removes, so the note never keeps a pair from being EQUIVALENT."""
    if members is None or not note:
        return members
    for i, node in enumerate(members.details):
        for j, found in enumerate(node.details if node.kind == "metadata" else ()):
            if found.source1 == "date_time":
                fields = (*node.details[:j], replace(found, comments=(*found.comments, note)), *node.details[j + 1:])
                return replace(members, details=(*members.details[:i], replace(node, details=fields),
                                                 *members.details[i + 1:]))
    return members


@dataclass(frozen=True)
class ZipComparator:
    name: str = "zip"

    def recognizes(self, head: bytes, side: Side) -> bool:
        return sniff.is_zip(head) or ends_with_zip(side.path)  # a stub in front (self-extracting): found from the end

    def _list(self, side: Side, directory: Directory, ctx: CompareContext) -> list[Member]:
        budget = Budget(side.path, side.label, ctx.settings.unpack, ctx.stop)
        for e in directory.entries:
            budget.admit(e.name, e.size)
        members = []
        with open_regular(side.path, side.label) as f:
            for e in directory.entries:
                budget.check()
                digest = None if e.is_dir() else _stored_digest(f, e, directory, side)
                members.append(Member(e.name, digest, e.size, _meta(e)))
        return members

    def _extract(self, side: Side, directory: Directory, keys: set[Key], ctx: CompareContext) -> dict[Key, Path]:
        out: dict[Key, Path] = {}
        budget = Budget(side.path, side.label, ctx.settings.unpack, ctx.stop)
        with open_regular(side.path, side.label) as f:
            for key, entry in zip(keyed(e.name for e in directory.entries), directory.entries):
                if key in keys:
                    out[key] = ctx.new_temp_file()
                    with open(out[key], "wb") as dest:
                        for chunk in member_chunks(f, entry, directory.base, side):
                            budget.grow(len(chunk))
                            dest.write(chunk)
        return out

    def _prefix(self, a: Side, b: Side, da: Directory, db: Directory, ctx: CompareContext) -> Difference | None:
        """What comes before the zip: a stub (compared as a file), or omni.ja's preload length."""
        if PREFIXED not in (da.layout, db.layout) and DIRECTORY_FIRST not in (da.layout, db.layout):
            return None

        def extract(side: Side, c: CompareContext) -> Side:
            dest = c.new_temp_file()
            read_prefix(side.path, da if side is a else db, dest)
            return Side(f"{side.label}::(data before the zip)", dest)

        return ctx.compare_files(*both(extract, a, b, ctx))

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        da, db = both(_directory, a, b, ctx)  # each central directory read once

        def of(side: Side) -> Directory:
            return da if side is a else db

        left, right = list_both(lambda side, c: self._list(side, of(side), c), a, b, ctx)
        members = compare_members(a, b, left, right, ctx, lambda side, names, c: self._extract(side, of(side), names, c))
        outside = Difference.field("bytes outside any member", outside_members(a, da), outside_members(b, db),
                                   kind="content")  # no normaliser removes it: hidden data keeps a pair DIFFERENT
        members = _note_times(members, _times_note(left, right))
        return Difference.from_details(a.label, b.label, [_header(a, b, da, db), self._prefix(a, b, da, db, ctx),
                                                          members, outside])
