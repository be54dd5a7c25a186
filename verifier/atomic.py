"""Atomic file writes: a temp name in the destination directory, fsync, then rename.

A killed run never leaves a half-written file under a final name. Files are created
0644: what verifier writes (reports, releases) is meant to be read by others.

A destination that already exists and is not a regular file or directory (``/dev/null``,
``/dev/stdout``, a FIFO) is written into as it is: renaming over it would replace the device
node or the link with a regular file (as root, ``--output /dev/null`` once turned the
machine's /dev/null into a file).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


def _is_stream(path: Path) -> bool:
    """Whether ``path`` (links followed) is a device, FIFO or socket rather than a file."""
    try:
        kind = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False
    return not (stat.S_ISREG(kind) or stat.S_ISDIR(kind))


@contextmanager
def atomic_writer(path: Path, mode: int = 0o644) -> Iterator[BinaryIO]:
    if _is_stream(path):
        with open(path, "wb") as stream:  # O_TRUNC is ignored by devices and FIFOs
            yield stream
        return
    path.parent.mkdir(parents=True, exist_ok=True)
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
