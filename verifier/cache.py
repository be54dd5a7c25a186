"""The content-addressed cache: every entry is named by its sha256, written atomically.

Layout under the cache root:
    sha256/ab/abcdef…      entries, named by digest (never by anything an input says)
    partial/<sha256>        a download that broke off, kept for resuming; never read as an entry
    partial/<sha256>.lock   held (flock) by the one process downloading that digest
    tmp/                    files being written; linked into sha256/ only once verified
    urls/<sha256(url)>      the digest last fetched from a URL (for --offline manifests)

The root may be a symlink (the user chose it); nothing under it is followed through one
(``verifier/cache_fs.py``): a symlink, or a file of the wrong type, is a tampered cache and
stops the run (``CacheTampered``, exit 4) naming the path.

Many processes share one cache. A download holds the digest's lock, so a peer fetching
the same pin waits and then finds the entry. Commits are hard links to the digest name,
which never replace anything: when a peer committed the digest first, its entry is
re-hashed and used (or reported as corrupt), and our copy is dropped.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from verifier import cache_fs as fs
from verifier.cache_fs import CacheTampered
from verifier.digests import CHUNK, FileDigest, digest_stream, is_sha256
from verifier.errors import FetchError, InfrastructureError, IntegrityError, where
from verifier.files import open_regular

__all__ = ["CacheTampered", "ContentCache", "HashingWriter"]


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


@dataclass(frozen=True)
class ContentCache:
    root: Path

    def entry_path(self, sha256: str) -> Path:
        return self.root / "sha256" / _shard(sha256) / sha256

    def partial_path(self, sha256: str) -> Path:
        """Where a broken-off download of ``sha256`` waits to be resumed (the directory exists)."""
        with fs.directory(self.root, "partial"):
            return self.root / "partial" / _checked(sha256)

    def _shard_dir(self, sha256: str, create: bool = False) -> AbstractContextManager[int | None]:
        return fs.directory(self.root, "sha256", _shard(sha256), create=create)

    # -- entries ---------------------------------------------------------------------------

    def has(self, sha256: str, size: int | None = None) -> bool:
        """Whether anything lies under the digest name (size and content unchecked:
        ``verified_path`` checks them, and reports and removes a corrupt entry)."""
        with self._shard_dir(sha256) as fd:
            return fd is not None and fs.exists(fd, sha256, self.entry_path(sha256))

    def lookup(self, sha256: str, size: int, label: str) -> Path | None:
        """The verified entry for a pin, None when absent; IntegrityError when corrupt."""
        return self.verified_path(sha256, size, label) if self.has(sha256) else None

    def verified_path(self, sha256: str, size: int, label: str) -> Path:
        """The entry for a pin, re-hashed now; a corrupt entry is removed and reported."""
        path = self.entry_path(sha256)
        with self._shard_dir(sha256) as fd:
            if fd is None:
                raise InfrastructureError(where(path, "cache entry vanished"))
            found, ino = _hash_entry(fd, sha256, path, size)
            if found != FileDigest(sha256, size):
                fs.unlink_if_same(fd, sha256, ino)
                seen = f"size {found.size}" if found.size != size else f"sha256 {found.sha256}"
                raise IntegrityError(where(label, f"cache entry corrupt: {path} (expected sha256 {sha256}, "
                                                  f"size {size}; found {seen}); removed it, fetch again"))
        return path

    def read_verified(self, sha256: str, size: int, label: str) -> bytes:
        """A small entry's bytes (a manifest), checked against its digest."""
        path = self.verified_path(sha256, size, label)
        with self._shard_dir(sha256) as fd:
            if fd is None:
                raise InfrastructureError(where(path, "cache entry vanished"))
            with fs.open_file(fd, sha256, path, os.O_RDONLY) as f:
                data = f.read(size + 1)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError(where(label, f"cache entry {path} changed while read"))
        return data

    def commit(self, tmp: Path, expected: FileDigest) -> Path:
        """Give a fully written, fsynced, verified file under tmp/ or partial/ its digest name.

        Never replaces an entry: when a peer committed the same digest first, its entry is
        re-hashed (IntegrityError when corrupt) and ``tmp`` is dropped."""
        final = self.entry_path(expected.sha256)
        with self._shard_dir(expected.sha256, create=True) as fd:
            try:
                fs.link_new(tmp, expected.sha256, fd)
            except FileExistsError:
                self.verified_path(expected.sha256, expected.size, final.name)
            finally:
                fs.remove(tmp)
            fs.fsync_dir(fd)
        return final

    @contextmanager
    def temp_file(self) -> Iterator[Path]:
        """A new empty file under tmp/, removed unless it was committed (a killed run's
        are removed by a later one, once a day old)."""
        with fs.directory(self.root, "tmp") as fd:
            fs.sweep_stale(fd)
        try:
            handle, name = tempfile.mkstemp(dir=self.root / "tmp", suffix=".part")
        except OSError as exc:
            raise fs.failed(self.root / "tmp", exc) from None
        os.close(handle)
        tmp = Path(name)
        try:
            yield tmp
        finally:
            fs.remove(tmp)

    def add_file(self, source: Path) -> tuple[Path, FileDigest]:
        """Copy a local file in (hashing as it goes); returns the entry and its digest."""
        with self.temp_file() as tmp:
            with open_regular(source, "input") as f, open(tmp, "wb") as out:
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
    def download_slot(self, sha256: str, label: str, wait: float) -> Iterator[BinaryIO]:
        """Hold the lock on ``sha256`` and yield its partial file, open for reading and
        writing (a previous run's bytes still in it, to resume). Peers wait here, at most
        ``wait`` seconds (then a FetchError naming ``label`` and the lock).

        The caller commits it (``commit_partial``) or removes it (``clear_partial``), or
        leaves it for a later resume; on leaving, the lock is released and its file removed.
        A partial file with other names (a hard link) is never written into: it begins afresh."""
        name = _checked(sha256)
        path = self.root / "partial" / name
        with fs.directory(self.root, "partial") as fd:
            lock = self._lock(fd, path.with_name(f"{name}.lock"), label, wait)
            try:
                fs.drop_if_shared(fd, name)
                with fs.open_file(fd, name, path, os.O_RDWR | os.O_CREAT) as f:
                    if os.fstat(f.fileno()).st_nlink != 1:
                        raise fs.tampered(path, "has other names (hard links) again")
                    try:
                        yield f
                    finally:
                        fs.drop_if_empty(fd, name, f)
            finally:
                fs.release(fd, f"{name}.lock", lock)

    @staticmethod
    def _lock(dir_fd: int | None, path: Path, label: str, wait: float) -> int:
        try:
            return fs.acquire(dir_fd, path.name, path, wait)
        except TimeoutError:
            raise FetchError(where(label, f"another verifier process has been downloading it for over {wait:g} s "
                                          f"(it holds {path}); try again later")) from None

    def commit_partial(self, sha256: str, expected: FileDigest) -> Path:
        """Commit the (complete, fsynced, verified) partial file of ``sha256``."""
        return self.commit(self.root / "partial" / _checked(sha256), expected)

    def clear_partial(self, sha256: str) -> None:
        with fs.directory(self.root, "partial", create=False) as fd:
            if fd is not None:
                fs.remove(Path(_checked(sha256)), fd)

    # -- URL index -------------------------------------------------------------------------

    def remember_url(self, url: str, digest: FileDigest) -> None:
        key = hashlib.sha256(url.encode()).hexdigest()
        with self.temp_file() as tmp:
            with open(tmp, "w") as out:
                out.write(f"{digest.sha256} {digest.size}\n")
                out.flush()
                os.fsync(out.fileno())
            with fs.directory(self.root, "urls") as fd:
                fs.replace(tmp, key, fd, self.root / "urls" / key)

    def recall_url(self, url: str) -> FileDigest | None:
        key = hashlib.sha256(url.encode()).hexdigest()
        with fs.directory(self.root, "urls", create=False) as fd:
            if fd is None:
                return None
            try:
                with fs.open_file(fd, key, self.root / "urls" / key, os.O_RDONLY) as f:
                    sha, size = f.read(200).decode("ascii").split()
            except (InfrastructureError, ValueError, UnicodeDecodeError):
                return None
        return FileDigest(sha, int(size)) if is_sha256(sha) and size.isdigit() else None


def _hash_entry(dir_fd: int, name: str, path: Path, size: int) -> tuple[FileDigest, int]:
    """The entry's digest and inode; not hashed when its size is already wrong."""
    with fs.open_file(dir_fd, name, path, os.O_RDONLY) as f:
        try:
            info = os.fstat(f.fileno())
            if info.st_size != size:
                return FileDigest("", info.st_size), info.st_ino
            return digest_stream(f), info.st_ino
        except OSError as exc:
            raise fs.failed(path, exc) from None


def _checked(sha256: str) -> str:
    if not is_sha256(sha256):
        raise ValueError(f"not a sha256 digest: {sha256!r}")
    return sha256


def _shard(sha256: str) -> str:
    return _checked(sha256)[:2]
