"""Lockfile formats (a plug-in family): each reads a file into a LockedEnvironment.

The registry is plain data: format name -> loader. Every parse error names the file and
the field; unknown format versions are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from verifier.errors import InputError, where
from verifier.packages.lockfile import buildinfo, mock, native
from verifier.packages.interface import LockedEnvironment, LockedPackage

Loader = Callable[[Path, str, str | None], LockedEnvironment]

FORMATS: dict[str, Loader] = {
    "verifier": lambda path, place, base: native.load(path, place, base),
    "buildinfo": lambda path, place, base: buildinfo.load(path, place),
    "mock": lambda path, place, base: mock.load(path, place, base),
}


def load_lockfile(path: Path, fmt: str, place: str, base_url: str | None = None) -> LockedEnvironment:
    loader = FORMATS.get(fmt)
    if loader is None:
        raise InputError(where(place, f"lockfile format {fmt!r} is not supported (supported: {', '.join(FORMATS)})"))
    return loader(path, place, base_url)


__all__ = ["FORMATS", "LockedEnvironment", "LockedPackage", "load_lockfile"]
