"""Atomic file writes: a temp name in the destination directory, fsync, then rename.

A killed run never leaves a half-written file under a final name. Files are created
0644: what verifier writes (reports, releases) is meant to be read by others.

A destination that already exists and is not a regular file or directory (``/dev/null``,
``/dev/stdout``, a FIFO) is written into as it is: renaming over it would replace the device
node or the link with a regular file (as root, ``--output /dev/null`` once turned the
machine's /dev/null into a file).
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from verifier.errors import InfrastructureError, InputError, VerifierError, where

CHUNK = 1 << 20


def _is_stream(path: Path) -> bool:
    """Whether ``path`` (links followed) is a device, FIFO or socket rather than a file."""
    try:
        kind = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False
    return not (stat.S_ISREG(kind) or stat.S_ISDIR(kind))


_DISK = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG})  # the machine failed: exit 5


def output_error(path: Path, exc: OSError) -> VerifierError:
    """The one-line error for an output path that cannot be written: a full disk or an I/O
    error is the machine's (exit 5); anything else (a directory, a missing or read-only
    parent, no permission) is the path the user chose (exit 2)."""
    if exc.errno in _DISK:
        return InfrastructureError(where(path, f"cannot write: {exc.strerror}"))
    if isinstance(exc, IsADirectoryError):
        return InputError(where(path, "cannot write: is a directory"))
    return InputError(where(path, f"cannot write: {exc.strerror or exc}"))


@contextmanager
def atomic_writer(path: Path, mode: int = 0o644) -> Iterator[BinaryIO]:
    """A file to write ``path``'s new content into; an output path that cannot be written is
    a one-line error naming it (``output_error``), never a traceback. Errors raised by the
    caller's own code inside the block pass through, but for a full disk or an I/O error."""
    own = False  # an OSError raised by the caller's block, not by writing ``path``
    try:
        with _writer(path, mode) as f:
            try:
                yield f
            except OSError as exc:
                if exc.errno in _DISK:
                    raise output_error(path, exc) from None
                own = True
                raise
    except OSError as exc:
        if own or exc.errno is None:
            raise
        raise output_error(path, exc) from None


@contextmanager
def _writer(path: Path, mode: int) -> Iterator[BinaryIO]:
    if _is_stream(path):
        with open(path, "wb") as stream:  # O_TRUNC is ignored by devices and FIFOs
            yield stream
        return
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file where a parent directory should be
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path.parent)) from None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_writer(path) as f:
        f.write(data)


def copy_file(src: Path, dest: Path) -> None:
    with atomic_writer(dest) as out, open(src, "rb") as f:
        shutil.copyfileobj(f, out, CHUNK)
