"""tar, cpio and ar (and so .deb) containers, read with libarchive by explicit format name."""

from __future__ import annotations

import hashlib
import stat
from dataclasses import dataclass
from pathlib import Path

import libarchive

from verifier.compare.difference import Difference
from verifier.compare.comparators.libarchive_errors import reads_archive
from verifier.compare.comparators.tar_end import end_node
from verifier.compare.interface import CompareContext, Side
from verifier.compare.members import Member, compare_members, list_both
from verifier.compare.entry_fields import entry_inode, entry_xattrs
from verifier.errors import LimitExceeded


def _tar_magic(head: bytes) -> bool:
    return len(head) > 262 and head[257:262] == b"ustar"


def _cpio_magic(head: bytes) -> bool:
    return head[:6] in (b"070701", b"070702", b"070707") or head[:2] in (b"\xc7\x71", b"\x71\xc7")


def _ar_magic(head: bytes) -> bool:
    return head.startswith(b"!<arch>\n")


BLOCK = 1 << 20
KINDS = {stat.S_IFREG: "reg", stat.S_IFDIR: "dir", stat.S_IFLNK: "sym", stat.S_IFCHR: "chr",
         stat.S_IFBLK: "blk", stat.S_IFIFO: "fifo", stat.S_IFSOCK: "sock"}


def _block_size(entry: libarchive.entry.ArchiveEntry) -> int:
    """libarchive-c allocates, zeroes and copies a whole buffer per read: size it to the member."""
    return min(BLOCK, max(4096, (entry.size or 0) + 1))


def _kind(entry: libarchive.entry.ArchiveEntry) -> str:
    """One call into libarchive (each is* property is another ctypes call)."""
    if entry.islnk:
        return "lnk"
    return KINDS.get(entry.filetype & 0o170000, "unknown")


def _meta(entry: libarchive.entry.ArchiveEntry, fmt: str) -> dict[str, object]:
    kind = _kind(entry)
    meta: dict[str, object] = {"type": kind, "mode": oct(stat.S_IMODE(entry.mode)), "mtime": entry.mtime}
    if fmt != "ar":
        meta.update(uid=entry.uid, gid=entry.gid, uname=entry.uname or "", gname=entry.gname or "")
    if kind in ("sym", "lnk"):
        meta["link"] = entry.linkpath
    if kind in ("chr", "blk"):
        meta["device"] = f"{entry.rdevmajor},{entry.rdevminor}"
    if fmt == "cpio":
        meta.update(entry_inode(entry))
    for name, value in entry_xattrs(entry).items():
        meta[f"xattr {name}"] = value
    return meta


@dataclass(frozen=True)
class LibarchiveContainer:
    name: str
    format_name: str

    def recognizes(self, head: bytes, side: Side) -> bool:
        return {"tar": _tar_magic, "cpio": _cpio_magic, "ar": _ar_magic}[self.format_name](head)

    def _open(self, path: Path):
        return libarchive.file_reader(str(path), format_name=self.format_name, filter_name="none")

    @reads_archive
    def _list(self, side: Side, ctx: CompareContext) -> list[Member]:
        limits = ctx.settings.unpack
        members, total = [], 0
        with self._open(side.path) as archive:
            for entry in archive:
                if len(members) >= limits.max_members:
                    raise LimitExceeded(f"{side.label}: more than {limits.max_members} members")
                meta = _meta(entry, self.format_name)
                digest, size = None, entry.size or 0
                if meta["type"] == "reg":
                    h, size = hashlib.sha256(), 0
                    for block in entry.get_blocks(_block_size(entry)):
                        h.update(block)
                        size += len(block)
                    digest, total = h.hexdigest(), total + size
                    if total > limits.max_expanded_bytes:
                        raise LimitExceeded(f"{side.label}: expands past {limits.max_expanded_bytes} bytes")
                name = (entry.pathname or "").removeprefix("./") or "."
                members.append(Member(name, digest, size, meta))
        return members

    @reads_archive
    def _extract(self, side: Side, names: set[str], ctx: CompareContext) -> dict[str, Path]:
        out: dict[str, Path] = {}
        with self._open(side.path) as archive:
            for entry in archive:
                name = (entry.pathname or "").removeprefix("./") or "."
                if name in names and name not in out and entry.isreg:
                    path = ctx.new_temp_file()
                    with open(path, "wb") as f:
                        for block in entry.get_blocks(_block_size(entry)):
                            f.write(block)
                    out[name] = path
        return out

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        left, right = list_both(self._list, a, b, ctx)
        found = compare_members(a, b, left, right, ctx, self._extract, ordered=True)
        if self.format_name != "tar":
            return found
        return Difference.from_details(a.label, b.label, [end_node(a, b), *(found.details if found else ())])
