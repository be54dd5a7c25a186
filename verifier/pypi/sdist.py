"""What the rebuild needs to know of an sdist, read on the host as data (never unpacked
here): its files' times, its ``PKG-INFO`` time and its ``pyproject.toml`` build system.
Names, links and budgets follow the sandbox's archive rules (verifier/sandbox/archive.py)."""

from __future__ import annotations

import posixpath
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import libarchive.entry

from verifier.errors import InputError, where
from verifier.formats.reading import Budget, blocks, link_name, member_name, text
from verifier.printable import one_line
from verifier.sandbox.archive import open_tar, safe_member_name
from verifier.settings import UnpackLimits

MAX_META_BYTES = 1 << 20
LEGACY_BACKEND = "setuptools.build_meta:__legacy__"  # PEP 517's default without [build-system]
LEGACY_REQUIRES = ("setuptools>=40.8.0",)


@dataclass(frozen=True)
class BuildSystem:
    requires: tuple[str, ...]
    backend: str
    backend_path: tuple[str, ...]


@dataclass(frozen=True)
class SdistInfo:
    root: str  # the one top-level directory
    mtimes: dict[str, int]  # file path below the root -> mtime
    pkg_info_mtime: int
    build_system: BuildSystem


def read_sdist(path: Path, label: str, limits: UnpackLimits) -> SdistInfo:
    budget = Budget(path, label, limits)
    mtimes: dict[str, int] = {}
    texts: dict[str, bytes] = {}
    roots: set[str] = set()
    with open_tar(path, label) as archive:
        for entry in archive:
            budget.member(entry)
            name = safe_member_name(member_name(entry), label, limits)
            if name is None:
                continue
            _check_kind(entry, name, label, limits)
            roots.add(name.parts[0])
            inner = "/".join(name.parts[1:])
            if entry.isreg and inner:
                mtimes[inner] = int(entry.mtime or 0)
            data = b"".join(blocks(entry, budget)) if entry.isreg and inner in ("PKG-INFO", "pyproject.toml") else b""
            if data and len(data) <= MAX_META_BYTES:
                texts[inner] = data
    if len(roots) != 1:
        raise InputError(where(label, f"an sdist has one top-level directory, not {len(roots)}"))
    if "PKG-INFO" not in mtimes:
        raise InputError(where(label, "not an sdist: no PKG-INFO in its top-level directory"))
    return SdistInfo(roots.pop(), mtimes, mtimes["PKG-INFO"], _build_system(texts.get("pyproject.toml"), label))


def _check_kind(entry: libarchive.entry.ArchiveEntry, name: PurePosixPath, label: str, limits: UnpackLimits) -> None:
    """Regular files, directories and links that stay inside the sdist; nothing else."""
    if entry.issym:
        target = text(link_name(entry))
        resolved = posixpath.normpath(posixpath.join(str(name.parent), target))
        if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
            raise InputError(where(label, f"symlink {one_line(str(name))!r} points outside the sdist"))
    elif entry.islnk:
        safe_member_name(link_name(entry), label, limits)
    elif not (entry.isreg or entry.isdir):
        raise InputError(where(label, f"member {one_line(str(name))!r} is not a file, directory or link"))


def _build_system(data: bytes | None, label: str) -> BuildSystem:
    if data is None:
        return BuildSystem(LEGACY_REQUIRES, LEGACY_BACKEND, ())
    try:
        doc = tomllib.loads(data.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(where(label, f"pyproject.toml is not valid TOML: {exc}")) from None
    table = doc.get("build-system")
    if not isinstance(table, dict):
        return BuildSystem(LEGACY_REQUIRES, LEGACY_BACKEND, ())
    requires, backend, paths = table.get("requires", []), table.get("build-backend", LEGACY_BACKEND), table.get("backend-path", [])
    if not _strings(requires) or not isinstance(backend, str) or not _strings(paths):
        raise InputError(where(label, "pyproject.toml: [build-system] requires, build-backend or backend-path "
                                      "has the wrong type"))
    return BuildSystem(tuple(requires), backend, tuple(paths))


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)
