"""Debian .buildinfo files as lockfiles, read with python-debian's BuildInfo.

``Installed-Build-Depends`` pins every package of the build environment by exact version
(no location and no digest: those come from the apt archive's signed indexes when the
packages are fetched). ``Environment`` and ``Build-Path`` are not read: the release
manifest's build section sets SOURCE_DATE_EPOCH, the variables and the directory.
``Build-Date`` is read only as the hints' official build time (``build_date``). A
clear-signed buildinfo is accepted; its signature is not checked.
"""

from __future__ import annotations

import logging
from email.utils import parsedate_to_datetime
from pathlib import Path

from debian.deb822 import BuildInfo

from verifier.errors import InputError, where
from verifier.files import read_limited
from verifier.packages.interface import LockedEnvironment, LockedPackage

MAX_BYTES = 16 << 20
FIELD = "installed-build-depends"
# python-debian logs an unparsable relation ("returning it raw") on stderr; _packages refuses
# it in its own one-line error, so the library's second line is not wanted
logging.getLogger("debian.deb822").setLevel(logging.ERROR)


def _packages(info: BuildInfo, place: str, default_arch: str) -> tuple[LockedPackage, ...]:
    packages, seen = [], set()
    for alternatives in info.relations.get(FIELD) or []:
        if len(alternatives) != 1:
            raise InputError(where(place, f"field Installed-Build-Depends: alternatives are not pins: {alternatives}"))
        rel = alternatives[0]
        version = rel.get("version")
        if not version or version[0] != "=":
            raise InputError(where(place, f"field Installed-Build-Depends: {rel['name']} has no exact version"))
        arch = rel.get("archqual") or default_arch
        if (rel["name"], arch) in seen:
            raise InputError(where(place, f"field Installed-Build-Depends: duplicate entry for package {rel['name']}"))
        seen.add((rel["name"], arch))
        packages.append(LockedPackage(rel["name"], version[1], arch))
    if not packages:
        raise InputError(where(place, "field Installed-Build-Depends: missing or empty"))
    return tuple(packages)


def parse(text: str, place: str) -> LockedEnvironment:
    try:
        info = BuildInfo(text.splitlines(keepends=True))
    except (ValueError, KeyError, AttributeError, TypeError) as exc:
        raise InputError(where(place, f"not a valid buildinfo: {exc}")) from None
    if not info.get("Source"):
        raise InputError(where(place, "field Source: missing (is this a .buildinfo file?)"))
    arch = (info.get("Build-Architecture") or "amd64").strip()
    return LockedEnvironment("apt", _packages(info, place, arch))


def build_date(path: Path, place: str) -> int | None:
    """The official build's ``Build-Date`` in epoch seconds, for the hints' build clock (None
    when absent or unreadable: a hint's input, never evidence)."""
    try:
        text = read_limited(path, MAX_BYTES, "buildinfo", place).decode("utf-8")
        value = BuildInfo(text.splitlines(keepends=True)).get("Build-Date")
        return int(parsedate_to_datetime(value).timestamp()) if value else None
    except (InputError, UnicodeDecodeError, ValueError, KeyError, AttributeError, TypeError):
        return None


def load(path: Path, place: str) -> LockedEnvironment:
    data = read_limited(path, MAX_BYTES, "buildinfo", place)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(where(place, f"not UTF-8 text (byte {exc.start})")) from None
    return parse(text, place)
