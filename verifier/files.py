"""Reading local input files the user named (manifests, pins, lockfiles, reports, keys).

Every such file is opened without blocking and checked to be a regular file before a byte
is read: a FIFO, a device or a socket named as an input would otherwise hang the run (or
read forever); it is a one-line InputError naming the path instead.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from verifier.errors import InputError, LimitExceeded, where

_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
         (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def kind_of(mode: int) -> str:
    """What a file that is not a regular one is, in words."""
    return next((name for test, name in KINDS if test(mode)), "not a regular file")


def open_regular(path: Path, what: str, place: object | None = None, *,
                 missing: str | None = None, follow: bool = True) -> BinaryIO:
    """``path`` open for reading, checked to be a regular file (a FIFO is never waited on).
    ``what`` names the file in messages ("manifest"), ``missing`` replaces the message for a
    file that does not exist; ``follow=False`` refuses a symlink."""
    label = place if place is not None else path
    try:
        fd = os.open(path, _FLAGS | (0 if follow else os.O_NOFOLLOW))
    except FileNotFoundError:
        raise InputError(where(label, missing or f"no such {what} file")) from None
    except OSError as exc:
        raise InputError(where(label, _refusal(path, what, exc, follow))) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(where(label, f"is {kind_of(mode)}, not a regular file ({what})"))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _refusal(path: Path, what: str, exc: OSError, follow: bool) -> str:
    """The problem with a path ``os.open`` refused: a socket (ENXIO) or a symlink (ELOOP with
    O_NOFOLLOW) is named as such; anything else by its error."""
    try:
        mode = (os.stat if follow else os.lstat)(path).st_mode
    except OSError:
        mode = 0
    if stat.S_ISLNK(mode):
        return f"is a symlink (not followed), not a regular file ({what})"
    if stat.S_ISSOCK(mode):
        return f"is a socket, not a regular file ({what})"
    return f"cannot read the {what}: {exc.strerror}"


def read_limited(path: Path, limit: int, what: str, place: object | None = None) -> bytes:
    """The bytes of ``path``; one-line errors for a missing, unreadable, non-regular or
    oversized file."""
    label = place if place is not None else path
    with open_regular(path, what, place) as f:
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise InputError(where(label, f"cannot read the {what}: {exc.strerror}")) from None
    if len(data) > limit:
        raise LimitExceeded(where(label, f"{what} larger than {limit} bytes"))
    return data
