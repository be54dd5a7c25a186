"""The cache's file operations: below its root, relative to the parent directory's
descriptor, never through a symlink.

A symlink, a file where a directory belongs (or the reverse), or a FIFO or device where a
file belongs means someone changed the cache's layout: ``CacheTampered`` (exit 4) names the
path, and nothing is read or written through it. Any other OS error is an
InfrastructureError naming the path (exit 5). Only the root itself may be a symlink: the
user chose it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from verifier.errors import InfrastructureError, IntegrityError, where

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a planted FIFO must not hang us
_TAMPERED = (errno.ELOOP, errno.ENOTDIR, errno.EISDIR)
_NO_HARD_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK)
STALE_TMP_SECONDS = 24 * 3600


class CacheTampered(IntegrityError):
    """Something under the cache root is a symlink or of the wrong type: someone changed the
    layout. Nothing is written through it; the user inspects and removes it."""


def tampered(path: Path, what: str) -> CacheTampered:
    return CacheTampered(where(path, f"cache layout tampered with: {what}; "
                                     "inspect it and remove it (or the whole cache) before running again"))


def failed(path: Path, exc: OSError) -> InfrastructureError:
    return InfrastructureError(where(path, f"cache: {exc.strerror or type(exc).__name__}"))


@contextmanager
def directory(root: Path, *parts: str, create: bool = True) -> Iterator[int | None]:
    """A descriptor on root/parts, each part opened without following links (and made when
    missing, if ``create``); None when missing and not ``create``."""
    fd = _open_root(root, create)
    path = root
    try:
        for part in parts:
            path = path / part
            if fd is not None:
                parent, fd = fd, None  # _open_child closes it, whatever happens
                fd = _open_child(parent, part, path, create)
        yield fd
    finally:
        if fd is not None:
            os.close(fd)


def _open_root(root: Path, create: bool) -> int | None:
    try:
        if create:
            root.mkdir(parents=True, exist_ok=True)
        return os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        if create:
            raise InfrastructureError(where(root, "cache: cannot create the cache directory")) from None
        return None
    except NotADirectoryError:
        raise InfrastructureError(where(root, "cache directory is not a directory")) from None
    except OSError as exc:
        raise failed(root, exc) from None


def _open_child(parent: int, name: str, path: Path, create: bool) -> int | None:
    try:
        for _ in range(2):
            try:
                return os.open(name, _DIR_FLAGS, dir_fd=parent)
            except FileNotFoundError:
                if not create:
                    return None
                try:
                    os.mkdir(name, 0o755, dir_fd=parent)
                except FileExistsError:
                    pass  # a peer made it: open it
        raise tampered(path, "keeps changing")
    except OSError as exc:
        if exc.errno in _TAMPERED:
            raise tampered(path, "a symlink or a file where a directory belongs") from None
        raise failed(path, exc) from None
    finally:
        os.close(parent)


def exists(dir_fd: int, name: str, path: Path) -> bool:
    """Whether anything (a link included) has this name."""
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise failed(path, exc) from None
    return True


@contextmanager
def open_file(dir_fd: int | None, name: str, path: Path, flags: int, mode: int = 0o644) -> Iterator[BinaryIO]:
    """dir/name as a binary file (``r+b`` with O_RDWR), refused unless a regular file."""
    try:
        fd = os.open(name, flags | _FILE_FLAGS, mode, dir_fd=dir_fd)
    except FileNotFoundError:
        raise InfrastructureError(where(path, "cache entry vanished")) from None
    except OSError as exc:
        if exc.errno in _TAMPERED:
            raise tampered(path, "a symlink or a directory where a file belongs") from None
        raise failed(path, exc) from None
    _require_regular(fd, path)
    os.set_blocking(fd, True)
    with os.fdopen(fd, "r+b" if flags & os.O_RDWR else "rb") as f:
        yield f


def _require_regular(fd: int, path: Path) -> None:
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise tampered(path, "not a regular file")


def link_new(src: Path, name: str, dir_fd: int | None) -> None:
    """Give ``src`` a second name dir/name, never replacing one (FileExistsError). Where the
    file system has no hard links: a rename, which may replace a peer's entry with the
    same bytes (both were verified against the same digest)."""
    try:
        os.link(src, name, dst_dir_fd=dir_fd, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise failed(src, exc) from None
        try:
            os.rename(src, name, dst_dir_fd=dir_fd)
        except OSError as exc2:
            raise failed(src, exc2) from None


def replace(src: Path, name: str, dir_fd: int | None, path: Path) -> None:
    """Rename ``src`` to dir/name (replacing the name itself, never following it)."""
    try:
        os.rename(src, name, dst_dir_fd=dir_fd)
    except IsADirectoryError:
        raise tampered(path, "a directory where a file belongs") from None
    except OSError as exc:
        raise failed(path, exc) from None


def remove(path: Path, dir_fd: int | None = None) -> None:
    try:
        os.unlink(path, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno != errno.EISDIR:
            raise failed(path, exc) from None
        raise tampered(path, "a directory where a file belongs") from None


def unlink_if_same(dir_fd: int | None, name: str, ino: int) -> None:
    """Remove dir/name if it is still the file we examined (a peer may have replaced it)."""
    try:
        if os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_ino == ino:
            os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass


def fsync_dir(dir_fd: int | None) -> None:
    if dir_fd is None:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass  # some file systems refuse fsync on directories; the rename is still atomic


def acquire(dir_fd: int | None, name: str, path: Path, wait: float) -> int:
    """An exclusive flock on dir/name, on the file that still has that name once locked
    (the holder removes it when done, so a waiter may have locked a removed file).
    TimeoutError when a peer holds it for more than ``wait`` seconds."""
    give_up = time.monotonic() + wait
    while True:
        fd = _open_lock(dir_fd, name, path)
        try:
            _lock(fd, give_up)
            current = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            current = None
        except BaseException:
            os.close(fd)
            raise
        if current is not None and current.st_ino == os.fstat(fd).st_ino:
            return fd
        os.close(fd)


def _open_lock(dir_fd: int | None, name: str, path: Path) -> int:
    try:
        fd = os.open(name, os.O_RDWR | os.O_CREAT | _FILE_FLAGS, 0o644, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in _TAMPERED:
            raise tampered(path, "a symlink or a directory where a lock file belongs") from None
        raise failed(path, exc) from None
    _require_regular(fd, path)
    return fd


def _lock(fd: int, give_up: float) -> None:
    """Poll for the lock (so the wait is bounded and Ctrl-C is seen at once)."""
    pause = 0.02
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= give_up:
                raise TimeoutError from None
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


def release(dir_fd: int | None, name: str, fd: int) -> None:
    """Remove the lock's name, then unlock (closing)."""
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    finally:
        os.close(fd)


def sweep_stale(dir_fd: int | None) -> None:
    """Remove *.part files a killed run left, untouched for a day (no live run writes one
    that long: a download's total deadline is an hour)."""
    if dir_fd is None:
        return
    now = time.time()
    with os.scandir(dir_fd) as entries:
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # a peer committed or removed it meanwhile
            if entry.name.endswith(".part") and now - info.st_mtime > STALE_TMP_SECONDS:
                unlink_if_same(dir_fd, entry.name, info.st_ino)


def drop_if_shared(dir_fd: int | None, name: str) -> None:
    """A file with other names is not ours to write into (a hard link planted to a file
    outside the cache would be changed through it; a run killed inside a commit leaves a
    partial file shared with its entry): drop this name."""
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
        unlink_if_same(dir_fd, name, info.st_ino)


def drop_if_empty(dir_fd: int | None, name: str, f: BinaryIO) -> None:
    """An empty partial file resumes nothing: never leave one behind."""
    f.flush()
    info = os.fstat(f.fileno())
    if info.st_size == 0:
        unlink_if_same(dir_fd, name, info.st_ino)
