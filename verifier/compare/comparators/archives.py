"""tar, cpio and ar (and so .deb) containers, read with libarchive by explicit format name.
Member names are the headers' bytes (``verifier.formats.reading``): paired as bytes, shown escaped."""

from __future__ import annotations

import hashlib
import stat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import libarchive

from verifier.compare.comparators.cpio_end import trailer_node as cpio_trailer
from verifier.compare.comparators.libarchive_errors import reads_archive
from verifier.compare.comparators.tar_end import end_node, trailer_node
from verifier.compare.difference import Difference
from verifier.compare.entry_fields import entry_inode, entry_xattrs
from verifier.compare.interface import CompareContext, Side
from verifier.compare.members import Key, Member, compare_members, list_both
from verifier.compare.modes import mode_fields
from verifier.formats import sniff
from verifier.formats.reading import Budget, blocks, link_name, member_name, open_archive, owner_names, text
from verifier.formats.tar_scan import sparse_maps_of
from verifier.printable import name_text

KINDS = {stat.S_IFREG: "reg", stat.S_IFDIR: "dir", stat.S_IFLNK: "sym", stat.S_IFCHR: "chr",
         stat.S_IFBLK: "blk", stat.S_IFIFO: "fifo", stat.S_IFSOCK: "sock"}
RECOGNIZERS = {"tar": sniff.is_tar, "cpio": sniff.is_cpio, "ar": sniff.is_ar}


def _kind(entry: libarchive.entry.ArchiveEntry, fmt: str) -> str:
    """One call into libarchive (each is* property is another ctypes call). An ar member is
    always a file, though GNU ar's deterministic mode writes its mode without a file type."""
    if entry.islnk:
        return "lnk"
    if fmt == "ar":
        return "reg"
    return KINDS.get(entry.filetype & 0o170000, "unknown")


def _meta(entry: libarchive.entry.ArchiveEntry, fmt: str) -> dict[str, object]:
    kind = _kind(entry, fmt)
    meta: dict[str, object] = {"type": kind, **mode_fields(entry.mode), "mtime": entry.mtime}
    if fmt != "ar":
        uname, gname = owner_names(entry)
        meta.update(uid=entry.uid, gid=entry.gid, uname=uname, gname=gname)
    if kind in ("sym", "lnk"):
        meta["link"] = text(link_name(entry))  # Difference.field shows values escaped
    if kind in ("chr", "blk"):
        meta["device"] = f"{entry.rdevmajor},{entry.rdevminor}"
    if fmt == "cpio":
        meta.update(entry_inode(entry))
    for name, value in entry_xattrs(entry).items():
        meta[f"xattr {name_text(name)}"] = value
    return meta


def name_of(entry: libarchive.entry.ArchiveEntry) -> str:
    """The member's name (bytes, as a lossless str) without a leading ``./``."""
    return text(member_name(entry)).removeprefix("./") or "."


@dataclass(frozen=True)
class LibarchiveContainer:
    name: str
    format_name: str

    def recognizes(self, head: bytes, side: Side) -> bool:
        return RECOGNIZERS[self.format_name](head)

    @reads_archive
    def _list(self, side: Side, ctx: CompareContext) -> list[Member]:
        budget = Budget(side.path, side.label, ctx.settings.unpack, ctx.stop)
        if self.format_name == "tar":
            budget.declared_maps(sparse_maps_of(side.path))
        members = []
        with open_archive(side.path, self.format_name) as archive:
            for entry in archive:
                budget.member(entry)
                meta = _meta(entry, self.format_name)
                digest, size = None, entry.size or 0
                if meta["type"] == "reg":
                    h, size = hashlib.sha256(), 0
                    for block in blocks(entry, budget):
                        h.update(block)
                        size += len(block)
                    digest = h.hexdigest()
                members.append(Member(name_of(entry), digest, size, meta))
        return members

    @reads_archive
    def _extract(self, side: Side, keys: set[Key], ctx: CompareContext) -> dict[Key, Path]:
        """The regular members named by (name, occurrence): occurrences count every entry
        of a name, as the listing does."""
        budget = Budget(side.path, side.label, ctx.settings.unpack, ctx.stop)
        out: dict[Key, Path] = {}
        seen: Counter[str] = Counter()
        with open_archive(side.path, self.format_name) as archive:
            for entry in archive:
                name = name_of(entry)
                key = (name, seen[name])
                seen[name] += 1
                if key in keys and _kind(entry, self.format_name) == "reg":
                    path = ctx.new_temp_file()
                    with open(path, "wb") as f:
                        for block in blocks(entry, budget):
                            f.write(block)
                    out[key] = path
        return out

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        left, right = list_both(self._list, a, b, ctx)
        found = compare_members(a, b, left, right, ctx, self._extract, ordered=True)
        if self.format_name == "cpio":
            return Difference.from_details(a.label, b.label, [cpio_trailer(a, b), *(found.details if found else ())])
        if self.format_name != "tar":
            return found
        return Difference.from_details(a.label, b.label, [end_node(a, b), trailer_node(a, b),
                                                          *(found.details if found else ())])
