"""Collecting a build's outputs from the host side of its build directory, as plain files.

Outputs are matched against the manifest's globs one path segment at a time, never
through a symlink. Only regular files are collected: each is opened without following a
link and without blocking (a FIFO swapped in after the check cannot stall us), checked
again on the open descriptor, copied out under a synthetic name with mode 0644 (setuid,
setgid and sticky bits are never carried over) and hashed while copied. Symlinks,
directories, devices, FIFOs and sockets that match a glob are refused, and every refusal
or dropped bit is a one-line note in the report (``sandbox.output_notes``).

Memory does not grow with what the build leaves behind: directories are scanned as
streams, a directory holding nothing the pattern can match is not listed into memory,
and the collected list is bounded by ``SandboxLimits.max_outputs``.
"""

from __future__ import annotations

import fnmatch
import itertools
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from verifier.cache import HashingWriter
from verifier.digests import CHUNK
from verifier.errors import InputError, LimitExceeded, where
from verifier.printable import one_line
from verifier.sandbox.interface import CollectedOutputs
from verifier.settings import SandboxLimits
from verifier.stages import RebuiltFile

SPECIAL_BITS = stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX
MAX_NOTES = 100  # notes kept for the report; the count of the rest is said in one more note
KINDS = ((stat.S_ISLNK, "a symlink (not followed)"), (stat.S_ISDIR, "a directory"),
         (stat.S_ISCHR, "a character device (refused)"), (stat.S_ISBLK, "a block device (refused)"),
         (stat.S_ISFIFO, "a FIFO (refused)"), (stat.S_ISSOCK, "a socket (refused)"))


class _Notes:
    def __init__(self) -> None:
        self.kept: list[str] = []
        self.dropped = 0

    def add(self, note: str) -> None:
        if len(self.kept) < MAX_NOTES:
            self.kept.append(note)
        else:
            self.dropped += 1

    def result(self) -> tuple[str, ...]:
        more = (f"… and {self.dropped} more outputs not collected or changed",) if self.dropped else ()
        return (*self.kept, *more)


def collect(workdir: Path, dest: Path, globs: tuple[str, ...], limits: SandboxLimits) -> CollectedOutputs:
    found: dict[str, RebuiltFile] = {}
    unmatched: list[str] = []
    notes, total = _Notes(), 0
    for pattern in globs:
        matched = False
        for rel in _glob(workdir, pattern, limits.max_outputs):
            matched = True
            collected = _collect_one(workdir, rel, pattern, dest / f"{len(found):06d}", notes)
            if collected is None:
                continue
            if collected.name in found:
                collected.path.unlink()
                raise InputError(where(pattern, f"two outputs share the file name {one_line(collected.name)!r}"))
            found[collected.name] = collected
            total += collected.size
            if total > limits.output_bytes:
                raise LimitExceeded(where(pattern, f"outputs exceed {limits.output_bytes} bytes (SandboxLimits.output_bytes)"))
            if len(found) > limits.max_outputs:
                raise LimitExceeded(where(pattern, f"more than {limits.max_outputs} outputs (SandboxLimits.max_outputs)"))
        if not matched:
            unmatched.append(pattern)
    return CollectedOutputs(tuple(found.values()), tuple(unmatched), notes.result())


def _collect_one(workdir: Path, rel: str, pattern: str, dest: Path, notes: _Notes) -> RebuiltFile | None:
    """Copies one matched path out if it is a regular file; anything else is only noted (a
    device, FIFO or socket is never even opened)."""
    shown, path = one_line(rel), workdir / rel
    if not stat.S_ISREG(_lstat_mode(path)):
        notes.add(f"{shown}: matched {pattern!r} but is {_kind_of(_lstat_mode(path))}; not collected")
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        notes.add(f"{shown}: matched {pattern!r} but cannot be opened ({exc.strerror}); not collected")
        return None
    with os.fdopen(fd, "rb") as source:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            notes.add(f"{shown}: matched {pattern!r} but is {_kind_of(mode)}; not collected")
            return None
        os.set_blocking(fd, True)
        if mode & SPECIAL_BITS:
            notes.add(f"{shown}: setuid/setgid/sticky bits ({stat.filemode(mode)}) dropped; collected as a plain file")
        return _copy_out(source, dest, os.path.basename(rel))


def _lstat_mode(path: Path) -> int:
    try:
        return os.lstat(path).st_mode
    except OSError:
        return 0


def _kind_of(mode: int) -> str:
    if mode == 0:
        return "gone"
    return next((what for test, what in KINDS if test(mode)), "not a regular file")


def _glob(root: Path, pattern: str, cap: int) -> Iterator[str]:
    """Relative paths under ``root`` matching ``pattern`` segment by segment, in name order
    within each directory; never goes through a symlink. More than ``cap`` matches in one
    directory is a LimitExceeded before they are sorted (memory stays bounded)."""
    parts = [p for p in pattern.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return
    yield from _walk(root, "", parts, pattern, cap)


def _walk(root: Path, rel: str, parts: list[str], pattern: str, cap: int) -> Iterator[str]:
    part, rest = parts[0], parts[1:]
    base = root / rel if rel else root
    if not _has_magic(part):
        names = [part] if os.path.lexists(base / part) else []
    else:
        names = list(itertools.islice(_matching(base, part), cap + 1))
        if len(names) > cap:
            raise LimitExceeded(where(pattern, f"more than {cap} outputs (SandboxLimits.max_outputs)"))
        names.sort()
    for name in names:
        child = f"{rel}/{name}" if rel else name
        if not rest:
            yield child
        elif os.path.isdir(root / child) and not os.path.islink(root / child):
            yield from _walk(root, child, rest, pattern, cap)


def _matching(base: Path, part: str) -> Iterator[str]:
    try:
        with os.scandir(base) as entries:
            for entry in entries:
                if fnmatch.fnmatchcase(entry.name, part):
                    yield entry.name
    except (NotADirectoryError, FileNotFoundError, PermissionError):
        return


def _has_magic(part: str) -> bool:
    return any(c in part for c in "*?[")


def _copy_out(source: BinaryIO, dest: Path, name: str) -> RebuiltFile:
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as out:
        writer = HashingWriter(out)
        while chunk := source.read(CHUNK):
            writer.write(chunk)
    os.chmod(dest, 0o644)
    digest = writer.digest()
    return RebuiltFile(name=name, path=dest, sha256=digest.sha256, size=digest.size)
