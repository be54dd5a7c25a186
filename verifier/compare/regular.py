"""Opening a file the comparison reads: regular files only, never through a symlink.

Every file the engine and its comparators read is opened here with ``O_NONBLOCK`` (a FIFO
or a device swapped in between listing and opening neither blocks nor streams forever)
and ``O_NOFOLLOW``, then checked with ``fstat`` to be a regular file before a byte is read.
Anything else is ``UnreadableInput`` naming the side and what it is.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from verifier.compare.interface import UnreadableInput
from verifier.printable import name_text

FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
KINDS = ((stat.S_ISLNK, "symlink"), (stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "FIFO"),
         (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
         (stat.S_ISREG, "regular file"))


def kind_of(mode: int) -> str:
    """What a file is, in words, from its ``st_mode``."""
    return next((word for test, word in KINDS if test(mode)), "file of unknown type")


def open_regular(path: Path, label: str | None = None) -> BinaryIO:
    """``path`` opened for reading as bytes, once it is known to be a regular file."""
    shown = label or name_text(str(path))
    try:
        fd = os.open(path, FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnreadableInput(shown, "a symlink, not followed") from exc
        raise UnreadableInput(shown, exc.strerror or str(exc)) from exc
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise UnreadableInput(shown, exc.strerror or str(exc)) from exc
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise UnreadableInput(shown, f"not a regular file (a {kind_of(mode)}); its content is not read")
    return os.fdopen(fd, "rb")


def read_regular(path: Path, label: str | None = None) -> bytes:
    with open_regular(path, label) as f:
        return f.read()
