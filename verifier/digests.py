"""Streaming digests. Nothing here reads a whole file into memory."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class FileDigest:
    sha256: str
    size: int


def digest_stream(stream: BinaryIO) -> FileDigest:
    h = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        h.update(chunk)
        size += len(chunk)
    return FileDigest(h.hexdigest(), size)


def digest_file(path: Path) -> FileDigest:
    with open(path, "rb", buffering=0) as f:
        return digest_stream(f)


def is_sha256(value: object) -> bool:
    return isinstance(value, str) and bool(SHA256_RE.match(value))
