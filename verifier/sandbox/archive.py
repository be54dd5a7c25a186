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
from verifier.formats.reading import Budget, blocks, link_name, member_name, message, open_archive, text
from verifier.formats.sniff import compression_of
from verifier.formats.tar_scan import sparse_maps_of
from verifier.printable import one_line
from verifier.settings import UnpackLimits


def _budget(path: Path, label: str, limits: UnpackLimits) -> Budget:
    """The archive's budget, its sparse maps checked from the headers first when it is a
    plain tar (a compressed one is counted as libarchive reads it)."""
    budget = Budget(path, label, limits)
    if compression_of(path) is None:
        budget.declared_maps(sparse_maps_of(path))
    return budget


@contextmanager
def open_tar(path: Path, label: str) -> Iterator[libarchive.read.ArchiveRead]:
    """The tar (compressed or not), read by explicit format and filter; libarchive's errors
    (on opening or on any later read) become one-line input errors."""
    try:
        with open_archive(path, "tar", compression_of(path) or "none") as archive:
            yield archive
    except libarchive.exception.ArchiveError as exc:
        raise InputError(where(label, f"not a readable tar archive: {message(exc)}")) from None


def safe_member_name(raw: bytes, archive: str, limits: UnpackLimits) -> PurePosixPath | None:
    """The member's relative path, or None for the archive root; refuses escaping names.
    Names are bytes; undecodable ones map back to the same bytes on the host (surrogateescape)."""
    if len(raw) > limits.max_name_length:
        raise LimitExceeded(where(archive, f"member name longer than {limits.max_name_length} bytes "
                                           f"(limit max_name_length; raise it with --unpack-limit max_name_length=N)"))
    name = text(raw)
    if "\x00" in name:
        raise InputError(where(archive, "member name contains a NUL byte"))
    p = PurePosixPath(name)
    if p.is_absolute() or name.startswith("/"):
        raise InputError(where(archive, f"member '{one_line(name)}' has an absolute path"))
    parts = [part for part in p.parts if part not in (".", "")]
    if ".." in parts:
        raise InputError(where(archive, f"member '{one_line(name)}' escapes the archive root"))
    return PurePosixPath(*parts) if parts else None


def check_archive(path: Path, label: str, limits: UnpackLimits) -> int:
    """Walk every member (streaming), checking names and budgets; returns the member count."""
    budget = _budget(path, label, limits)
    with open_tar(path, label) as archive:
        for entry in archive:
            budget.member(entry)
            safe_member_name(member_name(entry), label, limits)
            for _ in blocks(entry, budget):
                pass
    if budget.members == 0:
        raise InputError(where(label, "archive has no members"))
    return budget.members


def unpack(path: Path, label: str, dest: Path, limits: UnpackLimits) -> int:
    """Unpack a tar archive into ``dest`` safely; returns the member count."""
    budget = _budget(path, label, limits)
    with open_tar(path, label) as archive:
        for entry in archive:
            budget.member(entry)
            name = safe_member_name(member_name(entry), label, limits)
            if name is not None:
                _place(entry, dest, name, label, budget)
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
            for block in blocks(entry, budget):
                out.write(block)
        os.chmod(target, mode)
        os.utime(target, (entry.mtime or 0, entry.mtime or 0))
    elif entry.issym:
        _symlink(dest, target, text(link_name(entry)), archive)
    elif entry.islnk:
        link = link_name(entry)
        linked = safe_member_name(link, archive, budget.limits)
        source = dest / linked if linked else None
        if source is None or not source.is_file() or source.is_symlink():
            raise InputError(where(archive, f"hard link '{one_line(str(name))}' points at '{one_line(link)}', "
                                            "not an earlier file"))
        os.link(source, target)
    else:
        raise InputError(where(archive, f"member '{one_line(str(name))}' is a device, FIFO or socket; refused"))


def _check_parents(dest: Path, target: Path, archive: str) -> None:
    """No member may be written through a symlinked directory."""
    current = dest
    for part in target.relative_to(dest).parts[:-1]:
        current = current / part
        if current.is_symlink():
            raise InputError(where(archive, f"member path goes through the symlink '{one_line(str(current.relative_to(dest)))}'"))


def _symlink(dest: Path, target: Path, link: str, archive: str) -> None:
    resolved = os.path.normpath(os.path.join(os.path.dirname(target), link))
    if link.startswith("/") or not (resolved + os.sep).startswith(str(dest) + os.sep):
        raise InputError(where(archive, f"symlink '{one_line(str(target.relative_to(dest)))}' -> '{one_line(link)}' "
                                        "points outside the archive"))
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        if stat.S_ISDIR(target.lstat().st_mode):
            raise InputError(where(archive, f"symlink '{one_line(str(target.relative_to(dest)))}' replaces a directory"))
        target.unlink()
    os.symlink(link, target)
