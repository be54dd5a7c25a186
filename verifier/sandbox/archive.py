"""Reading untrusted tar archives with libarchive: explicit formats, safe names, budgets.

Used to check an environment archive before import and to unpack source archives into a
build directory. Member names are checked (no absolute paths, no ``..``); nothing is
extracted by libarchive itself: we create directories and regular files, and symlinks
only when their target stays inside the destination.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import libarchive
import libarchive.exception

from verifier.errors import InputError, LimitExceeded, where
from verifier.settings import UnpackLimits

MAGIC_FILTERS = (
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bzip2"),
)


def filter_of(path: Path) -> str | None:
    with open(path, "rb") as f:
        head = f.read(8)
    return next((name for magic, name in MAGIC_FILTERS if head.startswith(magic)), None)


@contextmanager
def open_tar(path: Path, label: str) -> Iterator[libarchive.read.ArchiveRead]:
    filt = filter_of(path)
    try:
        with libarchive.file_reader(str(path), format_name="tar", filter_name=filt or "none") as archive:
            yield archive
    except libarchive.exception.ArchiveError as exc:
        raise InputError(where(label, f"not a readable tar archive: {_msg(exc)}")) from None


def _msg(exc: BaseException) -> str:
    return str(getattr(exc, "msg", None) or exc).strip().splitlines()[0][:200]


def safe_member_name(name: str, archive: str, limits: UnpackLimits) -> PurePosixPath | None:
    """The member's relative path, or None for the archive root; refuses escaping names."""
    if len(name) > limits.max_name_length:
        raise LimitExceeded(where(archive, f"member name longer than {limits.max_name_length} characters"))
    if "\x00" in name:
        raise InputError(where(archive, "member name contains a NUL byte"))
    p = PurePosixPath(name)
    if p.is_absolute() or name.startswith("/"):
        raise InputError(where(archive, f"member {name!r} has an absolute path"))
    parts = [part for part in p.parts if part not in (".", "")]
    if ".." in parts:
        raise InputError(where(archive, f"member {name!r} escapes the archive root"))
    return PurePosixPath(*parts) if parts else None


class Budget:
    def __init__(self, path: Path, archive: str, limits: UnpackLimits) -> None:
        compressed = path.stat().st_size
        self.archive, self.limits = archive, limits
        self.max_bytes = min(limits.max_expanded_bytes, max(compressed, 1 << 20) * limits.max_ratio)
        self.bytes = self.members = 0

    def member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise LimitExceeded(where(self.archive, f"more than {self.limits.max_members} members (UnpackLimits.max_members)"))

    def grow(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.max_bytes:
            raise LimitExceeded(where(self.archive, f"expands past {self.max_bytes} bytes (budget from UnpackLimits.max_ratio/max_expanded_bytes)"))


def check_archive(path: Path, label: str, limits: UnpackLimits) -> int:
    """Walk every member (streaming), checking names and budgets; returns the member count."""
    budget = Budget(path, label, limits)
    try:
        with open_tar(path, label) as archive:
            for entry in archive:
                budget.member()
                safe_member_name(entry.pathname, label, limits)
                for block in entry.get_blocks():
                    budget.grow(len(block))
    except libarchive.exception.ArchiveError as exc:
        raise InputError(where(label, f"corrupt archive: {_msg(exc)}")) from None
    if budget.members == 0:
        raise InputError(where(label, "archive has no members"))
    return budget.members


def unpack(path: Path, label: str, dest: Path, limits: UnpackLimits) -> int:
    """Unpack a tar archive into ``dest`` safely; returns the member count."""
    budget = Budget(path, label, limits)
    try:
        with open_tar(path, label) as archive:
            for entry in archive:
                budget.member()
                name = safe_member_name(entry.pathname, label, limits)
                if name is not None:
                    _place(entry, dest, name, label, budget)
    except libarchive.exception.ArchiveError as exc:
        raise InputError(where(label, f"corrupt archive: {_msg(exc)}")) from None
    return budget.members


def _place(entry: libarchive.entry.ArchiveEntry, dest: Path, name: PurePosixPath, archive: str, budget: Budget) -> None:
    target = dest / name
    _check_parents(dest, target, archive)
    mode = entry.mode & 0o777 & ~0o022 | (0o200 if entry.isdir or entry.isreg else 0)
    if entry.isdir:
        target.mkdir(parents=True, exist_ok=True)
        os.chmod(target, mode | 0o700)
    elif entry.isreg and not entry.islnk:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            for block in entry.get_blocks():
                budget.grow(len(block))
                out.write(block)
        os.chmod(target, mode)
        os.utime(target, (entry.mtime or 0, entry.mtime or 0))
    elif entry.issym:
        _symlink(dest, target, entry.linkpath, archive)
    elif entry.islnk:
        linked = safe_member_name(entry.linkpath, archive, budget.limits)
        source = dest / linked if linked else None
        if source is None or not source.is_file() or source.is_symlink():
            raise InputError(where(archive, f"hard link {str(name)!r} points at {entry.linkpath!r}, not an earlier file"))
        os.link(source, target)
    else:
        raise InputError(where(archive, f"member {str(name)!r} is a device, FIFO or socket; refused"))


def _check_parents(dest: Path, target: Path, archive: str) -> None:
    """No member may be written through a symlinked directory."""
    current = dest
    for part in target.relative_to(dest).parts[:-1]:
        current = current / part
        if current.is_symlink():
            raise InputError(where(archive, f"member path goes through the symlink {str(current.relative_to(dest))!r}"))


def _symlink(dest: Path, target: Path, link: str, archive: str) -> None:
    resolved = os.path.normpath(os.path.join(os.path.dirname(target), link))
    if link.startswith("/") or not (resolved + os.sep).startswith(str(dest) + os.sep):
        raise InputError(where(archive, f"symlink {str(target.relative_to(dest))!r} -> {link!r} points outside the archive"))
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        if stat.S_ISDIR(target.lstat().st_mode):
            raise InputError(where(archive, f"symlink {str(target.relative_to(dest))!r} replaces a directory"))
        target.unlink()
    os.symlink(link, target)
