"""The content-addressed cache: every entry is named by its sha256, written atomically.

Layout under the cache root:
    sha256/ab/abcdef…      entries, named by digest (never by anything an input says)
    partial/<sha256>        a download that broke off, kept for resuming; never read as an entry
    partial/<sha256>.lock   held (flock) by the one process downloading that digest
    tmp/                    files being written; linked into sha256/ only once verified
    urls/<sha256(url)>      the digest last fetched from a URL (for --offline manifests)

The root may be a symlink (the user chose it); nothing under it is followed through one.
Every directory and file below the root is opened relative to its parent's descriptor with
``O_NOFOLLOW``: a symlink, or a file where a directory belongs (or the reverse), is a
tampered cache and stops the run (``CacheTampered``, exit 4) naming the path.

Many processes share one cache. A download holds the digest's lock, so a peer fetching
the same pin waits and then finds the entry. Commits are hard links to the digest name,
which never replace anything: when a peer committed the digest first, its entry is
re-hashed and used (or reported as corrupt), and our copy is dropped.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from verifier.digests import CHUNK, FileDigest, digest_stream, is_sha256
from verifier.errors import InfrastructureError, IntegrityError, where

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a planted FIFO must not hang us
_TAMPERED = (errno.ELOOP, errno.ENOTDIR, errno.EISDIR)
_NO_HARD_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK)
STALE_TMP_SECONDS = 24 * 3600


class CacheTampered(IntegrityError):
    """Something under the cache root is a symlink or of the wrong type: someone changed the
    layout. Nothing is written through it; the user inspects and removes it."""


class HashingWriter:
    """A file being written, hashed on the way, with its size counted."""

    def __init__(self, file: BinaryIO, initial_size: int = 0) -> None:
        self.file = file
        self.hash = hashlib.sha256()
        self.size = initial_size

    def write(self, data: bytes | memoryview) -> None:
        self.hash.update(data)
        self.file.write(data)
        self.size += len(data)

    def digest(self) -> FileDigest:
        return FileDigest(self.hash.hexdigest(), self.size)


def _tampered(path: Path, what: str) -> CacheTampered:
    return CacheTampered(where(path, f"cache layout tampered with: {what}; "
                                     "inspect it and remove it (or the whole cache) before running again"))


def _failed(path: Path, exc: OSError) -> InfrastructureError:
    return InfrastructureError(where(path, f"cache: {exc.strerror or type(exc).__name__}"))


def _require_regular(fd: int, path: Path) -> None:
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _tampered(path, "not a regular file")


@dataclass(frozen=True)
class ContentCache:
    root: Path

    # -- paths and directories -------------------------------------------------------------

    def entry_path(self, sha256: str) -> Path:
        return self.root / "sha256" / _shard(sha256) / sha256

    def partial_path(self, sha256: str) -> Path:
        """Where a broken-off download of ``sha256`` waits to be resumed (the directory exists)."""
        with self._dir("partial"):
            return self.root / "partial" / _checked(sha256)

    @contextmanager
    def _dir(self, *parts: str, create: bool = True) -> Iterator[int | None]:
        """A descriptor on root/parts, each part opened without following links; None when
        missing and ``create`` is false."""
        fd = self._open_root(create)
        path = self.root
        try:
            for part in parts:
                path = path / part
                if fd is not None:
                    parent, fd = fd, None  # _open_child closes it, whatever happens
                    fd = self._open_child(parent, part, path, create)
            yield fd
        finally:
            if fd is not None:
                os.close(fd)

    def _open_root(self, create: bool) -> int | None:
        try:
            if create:
                self.root.mkdir(parents=True, exist_ok=True)
            return os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            if create:
                raise InfrastructureError(where(self.root, "cache: cannot create the cache directory")) from None
            return None
        except NotADirectoryError:
            raise InfrastructureError(where(self.root, "cache directory is not a directory")) from None
        except OSError as exc:
            raise _failed(self.root, exc) from None

    @staticmethod
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
            raise _tampered(path, "keeps changing")
        except OSError as exc:
            if exc.errno in _TAMPERED:
                raise _tampered(path, "a symlink or a file where a directory belongs") from None
            raise _failed(path, exc) from None
        finally:
            os.close(parent)

    # -- entries ---------------------------------------------------------------------------

    def has(self, sha256: str, size: int | None = None) -> bool:
        """Whether anything lies under the digest name (size and content unchecked:
        ``verified_path`` checks them, and reports and removes a corrupt entry)."""
        with self._dir("sha256", _shard(sha256), create=False) as fd:
            if fd is None:
                return False
            try:
                os.stat(sha256, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                return False
            except OSError as exc:
                raise _failed(self.entry_path(sha256), exc) from None
            return True

    def lookup(self, sha256: str, size: int, label: str) -> Path | None:
        """The verified entry for a pin, None when absent; IntegrityError when corrupt."""
        return self.verified_path(sha256, size, label) if self.has(sha256) else None

    def verified_path(self, sha256: str, size: int, label: str) -> Path:
        """The entry for a pin, re-hashed now; a corrupt entry is removed and reported."""
        path = self.entry_path(sha256)
        with self._dir("sha256", _shard(sha256), create=False) as fd:
            if fd is None:
                raise InfrastructureError(where(path, "cache entry vanished"))
            found, ino = self._hash_entry(fd, sha256, path, size)
            if found != FileDigest(sha256, size):
                _unlink_if_same(fd, sha256, ino)
                seen = f"size {found.size}" if found.size != size else f"sha256 {found.sha256}"
                raise IntegrityError(where(label, f"cache entry corrupt: {path} (expected sha256 {sha256}, "
                                                  f"size {size}; found {seen}); removed it, fetch again"))
        return path

    def read_verified(self, sha256: str, size: int, label: str) -> bytes:
        """A small entry's bytes (a manifest), checked against its digest."""
        path = self.verified_path(sha256, size, label)
        with self._dir("sha256", _shard(sha256), create=False) as fd:
            with self._open_file(fd, sha256, path, os.O_RDONLY) as f:
                data = f.read(size + 1)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError(where(label, f"cache entry {path} changed while read"))
        return data

    def _hash_entry(self, dir_fd: int | None, name: str, path: Path, size: int) -> tuple[FileDigest, int]:
        """The entry's digest and inode; not hashed when its size is already wrong."""
        with self._open_file(dir_fd, name, path, os.O_RDONLY) as f:
            try:
                info = os.fstat(f.fileno())
                if info.st_size != size:
                    return FileDigest("", info.st_size), info.st_ino
                return digest_stream(f), info.st_ino
            except OSError as exc:
                raise _failed(path, exc) from None

    @staticmethod
    @contextmanager
    def _open_file(dir_fd: int | None, name: str, path: Path, flags: int, mode: int = 0o644) -> Iterator[BinaryIO]:
        try:
            fd = os.open(name, flags | _FILE_FLAGS, mode, dir_fd=dir_fd)
        except FileNotFoundError:
            raise InfrastructureError(where(path, "cache entry vanished")) from None
        except OSError as exc:
            if exc.errno in _TAMPERED:
                raise _tampered(path, "a symlink or a directory where a file belongs") from None
            raise _failed(path, exc) from None
        _require_regular(fd, path)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "r+b" if flags & os.O_RDWR else "rb") as f:
            yield f

    def commit(self, tmp: Path, expected: FileDigest) -> Path:
        """Give a fully written, fsynced, verified file under tmp/ or partial/ its digest name.

        Never replaces an entry: when a peer committed the same digest first, its entry is
        re-hashed (IntegrityError when corrupt) and ``tmp`` is dropped."""
        final = self.entry_path(expected.sha256)
        with self._dir("sha256", _shard(expected.sha256)) as fd:
            try:
                self._link(tmp, expected.sha256, fd)
            except FileExistsError:
                self.verified_path(expected.sha256, expected.size, final.name)
            finally:
                _remove(tmp)
            _fsync_dir(fd)
        return final

    @staticmethod
    def _link(tmp: Path, name: str, dir_fd: int | None) -> None:
        try:
            os.link(tmp, name, dst_dir_fd=dir_fd, follow_symlinks=False)
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise _failed(tmp, exc) from None
            _rename_without_links(tmp, name, dir_fd)

    @contextmanager
    def temp_file(self) -> Iterator[Path]:
        """A new empty file under tmp/, removed unless it was committed (a killed run's
        are removed by a later one, once a day old)."""
        with self._dir("tmp") as fd:
            _sweep_stale(fd)
        try:
            handle, name = tempfile.mkstemp(dir=self.root / "tmp", suffix=".part")
        except OSError as exc:
            raise _failed(self.root / "tmp", exc) from None
        os.close(handle)
        tmp = Path(name)
        try:
            yield tmp
        finally:
            _remove(tmp)

    def add_file(self, source: Path) -> tuple[Path, FileDigest]:
        """Copy a local file in (hashing as it goes); returns the entry and its digest."""
        with self.temp_file() as tmp:
            with open(source, "rb") as f, open(tmp, "wb") as out:
                writer = HashingWriter(out)
                while chunk := f.read(CHUNK):
                    writer.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            digest = writer.digest()
            return self.commit(tmp, digest), digest

    def add_bytes(self, data: bytes) -> tuple[Path, FileDigest]:
        digest = FileDigest(hashlib.sha256(data).hexdigest(), len(data))
        if self.lookup(digest.sha256, digest.size, self.entry_path(digest.sha256).name) is None:
            with self.temp_file() as tmp:
                with open(tmp, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                self.commit(tmp, digest)
        return self.entry_path(digest.sha256), digest

    # -- downloads: one process per digest, resumable partial files ------------------------

    @contextmanager
    def download_slot(self, sha256: str) -> Iterator[BinaryIO]:
        """Hold the lock on ``sha256`` and yield its partial file, open for reading and
        writing (a previous run's bytes still in it, to resume). Peers wait here.

        The caller commits it (``commit_partial``) or removes it (``clear_partial``), or
        leaves it for a later resume; on leaving, the lock is released and its file removed."""
        name = _checked(sha256)
        with self._dir("partial") as fd:
            lock = _acquire(fd, f"{name}.lock", self.root / "partial" / f"{name}.lock")
            try:
                path = self.root / "partial" / name
                _drop_if_shared(fd, name)
                with self._open_file(fd, name, path, os.O_RDWR | os.O_CREAT) as f:
                    if os.fstat(f.fileno()).st_nlink != 1:
                        raise _tampered(path, "has other names (hard links) again")
                    try:
                        yield f
                    finally:
                        _drop_if_empty(fd, name, f)
            finally:
                _release(fd, f"{name}.lock", lock)

    def commit_partial(self, sha256: str, expected: FileDigest) -> Path:
        """Commit the (complete, fsynced, verified) partial file of ``sha256``."""
        return self.commit(self.root / "partial" / _checked(sha256), expected)

    def clear_partial(self, sha256: str) -> None:
        with self._dir("partial", create=False) as fd:
            if fd is not None:
                _remove(Path(_checked(sha256)), fd)

    # -- URL index -------------------------------------------------------------------------

    def remember_url(self, url: str, digest: FileDigest) -> None:
        key = hashlib.sha256(url.encode()).hexdigest()
        with self.temp_file() as tmp:
            with open(tmp, "w") as out:
                out.write(f"{digest.sha256} {digest.size}\n")
                out.flush()
                os.fsync(out.fileno())
            with self._dir("urls") as fd:
                try:
                    os.rename(tmp, key, dst_dir_fd=fd)
                except IsADirectoryError:
                    raise _tampered(self.root / "urls" / key, "a directory where a file belongs") from None
                except OSError as exc:
                    raise _failed(self.root / "urls" / key, exc) from None

    def recall_url(self, url: str) -> FileDigest | None:
        key = hashlib.sha256(url.encode()).hexdigest()
        with self._dir("urls", create=False) as fd:
            if fd is None:
                return None
            try:
                with self._open_file(fd, key, self.root / "urls" / key, os.O_RDONLY) as f:
                    sha, size = f.read(200).decode("ascii").split()
            except InfrastructureError:
                return None
            except (ValueError, UnicodeDecodeError):
                return None
        return FileDigest(sha, int(size)) if is_sha256(sha) and size.isdigit() else None


def _checked(sha256: str) -> str:
    if not is_sha256(sha256):
        raise ValueError(f"not a sha256 digest: {sha256!r}")
    return sha256


def _shard(sha256: str) -> str:
    return _checked(sha256)[:2]


def _acquire(dir_fd: int | None, name: str, path: Path) -> int:
    """An exclusive flock on dir/name, on the file that still has that name once locked
    (the holder removes it when done, so a waiter may have locked a removed file)."""
    while True:
        try:
            fd = os.open(name, os.O_RDWR | os.O_CREAT | _FILE_FLAGS, 0o644, dir_fd=dir_fd)
            _require_regular(fd, path)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                current = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                current = None
        except OSError as exc:
            if exc.errno in _TAMPERED:
                raise _tampered(path, "a symlink or a directory where a lock file belongs") from None
            raise _failed(path, exc) from None
        if current is not None and current.st_ino == os.fstat(fd).st_ino:
            return fd
        os.close(fd)


def _release(dir_fd: int | None, name: str, fd: int) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    finally:
        os.close(fd)


def _remove(path: Path, dir_fd: int | None = None) -> None:
    try:
        os.unlink(path, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno != errno.EISDIR:
            raise _failed(path, exc) from None
        raise _tampered(path, "a directory where a file belongs") from None


def _unlink_if_same(dir_fd: int | None, name: str, ino: int) -> None:
    """Remove dir/name if it is still the file we examined (a peer may have replaced it)."""
    try:
        if os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_ino == ino:
            os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass


def _sweep_stale(dir_fd: int | None) -> None:
    """Remove tmp/*.part files a killed run left, untouched for a day (no live run writes
    one that long: a download's total deadline is an hour)."""
    if dir_fd is None:
        return
    now = time.time()
    with os.scandir(dir_fd) as entries:
        for entry in entries:
            info = entry.stat(follow_symlinks=False)
            if entry.name.endswith(".part") and now - info.st_mtime > STALE_TMP_SECONDS:
                _unlink_if_same(dir_fd, entry.name, info.st_ino)


def _drop_if_shared(dir_fd: int | None, name: str) -> None:
    """A partial file with other names is not ours to write into (a hard link planted to a
    file outside the cache would be changed through it; a run killed inside ``commit``
    leaves one shared with its entry): drop this name, the download begins afresh."""
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
        _unlink_if_same(dir_fd, name, info.st_ino)


def _drop_if_empty(dir_fd: int | None, name: str, f: BinaryIO) -> None:
    """An empty partial file resumes nothing: never leave one behind."""
    f.flush()
    info = os.fstat(f.fileno())
    if info.st_size == 0:
        _unlink_if_same(dir_fd, name, info.st_ino)


def _rename_without_links(tmp: Path, name: str, dir_fd: int | None) -> None:
    """For file systems without hard links: a rename, which may replace a peer's entry
    with the same bytes (both were verified against the same digest)."""
    try:
        os.rename(tmp, name, dst_dir_fd=dir_fd)
    except OSError as exc:
        raise _failed(tmp, exc) from None


def _fsync_dir(dir_fd: int | None) -> None:
    if dir_fd is None:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass  # some file systems refuse fsync on directories; the rename is still atomic
