"""Collecting a build's outputs from the host side of its build directory, as plain files.

Outputs are matched against the manifest's globs one path segment at a time, never
through a symlink; only regular files are copied out, under synthetic names, and hashed
while copied. Everything matched but not collected is noted for the report.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

from verifier.cache import HashingWriter
from verifier.digests import CHUNK
from verifier.errors import InputError, LimitExceeded, where
from verifier.sandbox.interface import CollectedOutputs
from verifier.stages import RebuiltFile


def collect(workdir: Path, dest: Path, globs: tuple[str, ...], max_bytes: int) -> CollectedOutputs:
    found: dict[str, RebuiltFile] = {}
    unmatched, notes, total = [], [], 0
    for pattern in globs:
        matches = sorted(_glob(workdir, pattern))
        if not matches:
            unmatched.append(pattern)
        for rel in matches:
            path = workdir / rel
            if path.is_symlink() or not path.is_file():
                notes.append(f"{rel}: matched {pattern!r} but is not a regular file; not collected")
                continue
            name = path.name
            if name in found:
                raise InputError(where(pattern, f"two outputs share the file name {name!r}"))
            total += path.stat().st_size
            if total > max_bytes:
                raise LimitExceeded(where(pattern, f"outputs exceed {max_bytes} bytes (SandboxLimits.output_bytes)"))
            found[name] = _copy_out(path, dest / f"{len(found):04d}", name)
    return CollectedOutputs(tuple(found.values()), tuple(unmatched), tuple(notes))


def _glob(root: Path, pattern: str) -> list[str]:
    """Relative paths under ``root`` matching ``pattern`` segment by segment; never follows symlinks."""
    parts = [p for p in pattern.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return []
    current = [""]
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt = []
        for rel in current:
            base = root / rel if rel else root
            if base.is_symlink() or not base.is_dir():
                continue
            for entry in sorted(os.listdir(base)):
                if fnmatch.fnmatchcase(entry, part) and (last or not (base / entry).is_symlink()):
                    nxt.append(f"{rel}/{entry}" if rel else entry)
        current = nxt
    return current


def _copy_out(path: Path, dest: Path, name: str) -> RebuiltFile:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f, open(dest, "wb") as out:
        writer = HashingWriter(out)
        while chunk := f.read(CHUNK):
            writer.write(chunk)
    digest = writer.digest()
    return RebuiltFile(name=name, path=dest, sha256=digest.sha256, size=digest.size)
