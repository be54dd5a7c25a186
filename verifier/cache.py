"""The content-addressed cache: every entry is named by its sha256, written atomically.

Layout under the cache root:
    sha256/ab/abcdef…   entries, named by digest (never by anything an input says)
    partial/<sha256>     interrupted downloads, kept for resuming; never read as entries
    tmp/                 files being written; renamed into sha256/ only once verified
    urls/<sha256(url)>   the digest last fetched from a URL (for --offline manifests)
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from verifier.digests import CHUNK, FileDigest, digest_file, is_sha256
from verifier.errors import InfrastructureError, IntegrityError, where


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
        if not is_sha256(sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return self.root / "sha256" / sha256[:2] / sha256

    def partial_path(self, sha256: str) -> Path:
        return self._dir("partial") / sha256

    def _dir(self, name: str) -> Path:
        path = self.root / name
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InfrastructureError(where(path, f"cannot create cache directory: {exc.strerror}")) from None
        return path

    def has(self, sha256: str, size: int) -> bool:
        path = self.entry_path(sha256)
        return path.is_file() and path.stat().st_size == size

    def verified_path(self, sha256: str, size: int, label: str) -> Path:
        """The entry for a pin, re-hashed now; a corrupt entry is removed and reported."""
        path = self.entry_path(sha256)
        actual = digest_file(path)
        if (actual.sha256, actual.size) != (sha256, size):
            path.unlink(missing_ok=True)
            raise IntegrityError(where(label, f"cache entry corrupt (expected sha256 {sha256}, size {size}; "
                                              f"found sha256 {actual.sha256}, size {actual.size}); removed it, fetch again"))
        return path

    def commit(self, tmp: Path, expected: FileDigest) -> Path:
        """Move a fully written, verified temp file to its digest name."""
        final = self.entry_path(expected.sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
        return final

    @contextmanager
    def temp_file(self) -> Iterator[Path]:
        """A temp path under tmp/, removed unless it was committed."""
        fd, name = tempfile.mkstemp(dir=self._dir("tmp"), suffix=".part")
        os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
        finally:
            tmp.unlink(missing_ok=True)

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
            if self.has(digest.sha256, digest.size):
                return self.entry_path(digest.sha256), digest
            return self.commit(tmp, digest), digest

    def add_bytes(self, data: bytes) -> tuple[Path, FileDigest]:
        digest = FileDigest(hashlib.sha256(data).hexdigest(), len(data))
        if not self.has(digest.sha256, digest.size):
            with self.temp_file() as tmp:
                with open(tmp, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                self.commit(tmp, digest)
        return self.entry_path(digest.sha256), digest

    def remember_url(self, url: str, digest: FileDigest) -> None:
        key = hashlib.sha256(url.encode()).hexdigest()
        index = self._dir("urls") / key
        with self.temp_file() as tmp:
            tmp.write_text(f"{digest.sha256} {digest.size}\n")
            os.replace(tmp, index)

    def recall_url(self, url: str) -> FileDigest | None:
        key = hashlib.sha256(url.encode()).hexdigest()
        try:
            sha, size = (self.root / "urls" / key).read_text().split()
            return FileDigest(sha, int(size)) if is_sha256(sha) else None
        except (OSError, ValueError):
            return None

    def clear_partial(self, sha256: str) -> None:
        self.partial_path(sha256).unlink(missing_ok=True)
