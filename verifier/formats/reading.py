"""Reading untrusted archives with libarchive: explicit format and filter names, member
names as the header's bytes, and the unpack budgets (expanded bytes, members, declared
sizes, sparse maps) that every reader shares.

A budget is checked before a member's content is read (its declared size, sparse holes
included, against what remains; its sparse-map entries against their own limit) and again
at every block. ``Budget.stop`` is an event set when the comparison is interrupted: the
block loop checks it, so a reader in a worker thread stops within one block.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ContextManager

import libarchive
import libarchive.entry
import libarchive.ffi
import libarchive.read

from verifier.errors import LimitExceeded, where
from verifier.printable import one_line
from verifier.settings import UnpackLimits

OPTION = "--unpack-limit"
BLOCK = 1 << 20
_lib = libarchive.ffi.libarchive
for _name, _type in (("archive_entry_sparse_count", ctypes.c_int),
                     ("archive_entry_pathname_utf8", ctypes.c_char_p)):
    getattr(_lib, _name).argtypes = [ctypes.c_void_p]
    getattr(_lib, _name).restype = _type


def message(exc: BaseException) -> str:
    """libarchive's own first line, without the errno/retcode noise libarchive-c appends."""
    said = str(getattr(exc, "msg", None) or exc).strip()
    return one_line((said.splitlines() or [type(exc).__name__])[0][:200])


def open_archive(path: Path, format_name: str, filter_name: str = "none") -> ContextManager[libarchive.read.ArchiveRead]:
    """libarchive with exactly this format and filter (never "all"). Its ArchiveError is left
    to the caller, who knows the words for it (the sandbox: an input error; the auditor:
    CorruptArchive/TruncatedArchive naming the place)."""
    return libarchive.file_reader(str(path), format_name=format_name, filter_name=filter_name)


def text(raw: bytes) -> str:
    """A name's bytes as a str that maps back to exactly those bytes (undecodable bytes
    become surrogates): pairing by this str is pairing by bytes. Show it with
    ``verifier.printable.one_line``, which prints such bytes as ``\\xNN``."""
    return raw.decode("utf-8", "surrogateescape")


def member_name(entry: libarchive.entry.ArchiveEntry) -> bytes:
    """The member's name as the header stores it (libarchive-c would give str or bytes)."""
    pointer = entry._entry_p
    raw = libarchive.ffi.entry_pathname(pointer) or _lib.archive_entry_pathname_utf8(pointer)
    if raw is None:
        wide = libarchive.ffi.entry_pathname_w(pointer)
        return (wide or "").encode("utf-8", "surrogateescape")
    return raw


def link_name(entry: libarchive.entry.ArchiveEntry) -> bytes:
    """A symlink's target or a hard link's other name, as bytes."""
    pointer = entry._entry_p
    if entry.issym:
        raw, wide = libarchive.ffi.entry_symlink(pointer), libarchive.ffi.entry_symlink_w
    else:
        raw, wide = libarchive.ffi.entry_hardlink(pointer), libarchive.ffi.entry_hardlink_w
    return raw if raw is not None else (wide(pointer) or "").encode("utf-8", "surrogateescape")


def owner_names(entry: libarchive.entry.ArchiveEntry) -> tuple[str, str]:
    pointer = entry._entry_p
    return (text(libarchive.ffi.entry_uname(pointer) or b""), text(libarchive.ffi.entry_gname(pointer) or b""))


def sparse_entries(entry: libarchive.entry.ArchiveEntry) -> int:
    return max(_lib.archive_entry_sparse_count(entry._entry_p), 0)


class Budget:
    """One archive's unpack budget; every message names the limit and the option raising it."""

    def __init__(self, path: Path, label: str, limits: UnpackLimits, stop: threading.Event | None = None) -> None:
        self.label, self.limits = label, limits
        by_ratio = max(path.stat().st_size, 1 << 20) * limits.max_ratio
        self.max_bytes = min(limits.max_expanded_bytes, by_ratio)
        self.bytes_limit = "max_expanded_bytes" if limits.max_expanded_bytes <= by_ratio else "max_ratio"
        self.bytes = self.declared = self.members = self.sparse = 0
        self.stop = stop or threading.Event()

    def exceeded(self, what: str, limit: str) -> LimitExceeded:
        value = getattr(self.limits, limit)
        return LimitExceeded(where(self.label, f"{what} (limit {limit}={value}; raise it with {OPTION} {limit}=N)"))

    def member(self, entry: libarchive.entry.ArchiveEntry) -> None:
        """Count a libarchive member and check what its header declares, before its content is read."""
        self.admit(member_name(entry), entry.size or 0, sparse_entries(entry))

    def admit(self, name: str | bytes, declared: int, sparse: int = 0) -> None:
        """Count a member of any format: its declared size (sparse holes included) must fit in
        what remains, its sparse-map entries in theirs."""
        self.members += 1
        if self.members > self.limits.max_members:
            raise self.exceeded(f"more than {self.limits.max_members} members", "max_members")
        self.sparse += sparse
        if self.sparse > self.limits.max_sparse_entries:
            raise self._too_many_maps(name, sparse)
        self.declared += max(declared, 0)  # a negative size must not buy room for the next member
        if self.declared > self.max_bytes:
            raise self.exceeded(f"member '{one_line(name)}' declares {declared} bytes, past the "
                                f"{self.max_bytes}-byte unpack budget", self.bytes_limit)

    def declared_maps(self, maps: Iterable[tuple[bytes, int]]) -> None:
        """Check the sparse maps a tar's headers declare (``tar_scan``) before libarchive
        builds them in memory; ``member`` counts them again as they are read."""
        total = 0
        for name, entries in maps:
            total += entries
            if total > self.limits.max_sparse_entries:
                raise self._too_many_maps(name, entries)

    def _too_many_maps(self, name: str | bytes, entries: int) -> LimitExceeded:
        return self.exceeded(f"more than {self.limits.max_sparse_entries} sparse-map entries (member "
                             f"'{one_line(name)}' has {entries})", "max_sparse_entries")

    def check(self) -> None:
        """Raise KeyboardInterrupt in a worker thread once the comparison was interrupted."""
        if self.stop.is_set():
            raise KeyboardInterrupt

    def grow(self, n: int) -> None:
        self.check()
        self.bytes += n
        if self.bytes > self.max_bytes:
            raise self.exceeded(f"expands past {self.max_bytes} bytes", self.bytes_limit)


def blocks(entry: libarchive.entry.ArchiveEntry, budget: Budget) -> Iterator[bytes]:
    """A member's content, block by block, within the budget (sparse holes read as zeros).
    libarchive-c copies its whole buffer per block: the buffer is sized to the member
    (a raw stream has no size: the largest buffer)."""
    size = entry.size
    for block in entry.get_blocks(BLOCK if size is None else min(BLOCK, max(4096, size + 1))):
        budget.grow(len(block))
        yield block
