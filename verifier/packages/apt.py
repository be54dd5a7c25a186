"""apt as a package manager: .deb files pinned by sha256, identity from their control
fields, a flat repository with a ``Packages`` index verifier writes itself, installed in
one ``apt-get install`` transaction with no other apt source."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from verifier.cache import ContentCache
from verifier.errors import InputError, IntegrityError, where
from verifier.fetch import fetch_file
from verifier.manifest import PinnedFile
from verifier.packages.deb import control_fields, identity
from verifier.packages.interface import REPO_MOUNT, LockedEnvironment, LockedPackage, PlacedPackage
from verifier.settings import Settings
from verifier.stages import BuildPreparation, CachedFile, Mount

INSTALLED_QUERY = r"dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\n'"
APT_OPTIONS = ("-o Dir::Etc::SourceList=/tmp/verifier-sources.list -o Dir::Etc::SourceParts=/nonexistent "
               "-o APT::Sandbox::User=root -o Acquire::Languages=none -o Debug::NoLocking=1")


def _pin(p: LockedPackage, place: str) -> PinnedFile:
    if not (p.url and p.sha256 and p.size is not None):
        raise InputError(where(place, f"package {p.name} {p.version} has no URL and digest: lock it first "
                                      "(`verifier lock`) to fetch it hermetically"))
    return PinnedFile(name=f"{p.name}_{p.version}_{p.architecture}.deb", url=p.url, sha256=p.sha256, size=p.size)


def _check_identity(p: LockedPackage, cached: CachedFile) -> None:
    inside = identity(control_fields(cached.path, cached.pin.name), cached.pin.name)
    if inside[:2] != (p.name, p.version) or inside[2] not in (p.architecture, "all"):
        raise IntegrityError(where(cached.pin.name, f"package says it is {inside[0]} {inside[1]} ({inside[2]}), "
                                                    f"the lockfile says {p.name} {p.version} ({p.architecture})"))


def _paragraph(placed: PlacedPackage) -> str:
    entry = placed.entry
    fields = control_fields(entry.path, entry.pin.name)
    lines = [f"{k}: {v}" for k, v in fields.items() if k not in ("Filename", "Size", "SHA256", "MD5sum")]
    lines += [f"Filename: ./{placed.filename}", f"Size: {entry.pin.size}", f"SHA256: {entry.pin.sha256}"]
    return "\n".join(lines) + "\n"


def install_script(locked: LockedEnvironment) -> str:
    wanted = " ".join(shlex.quote(f"{p.name}:{p.architecture}={p.version}" if p.architecture != "all"
                                  else f"{p.name}={p.version}") for p in locked.packages)
    return "\n".join([
        "set -e",
        f"echo 'deb [trusted=yes] file:{REPO_MOUNT} ./' > /tmp/verifier-sources.list",
        f"apt-get {APT_OPTIONS} update -q",
        f"apt-get {APT_OPTIONS} install -y -q --no-install-recommends --allow-downgrades {wanted}",
    ])


@dataclass(frozen=True)
class Apt:
    name: str = "apt"
    suffix: str = ".deb"

    def fetch(self, package: LockedPackage, cache: ContentCache, settings: Settings, place: str) -> CachedFile:
        entry = fetch_file(_pin(package, place), cache, settings)
        _check_identity(package, entry)
        return entry

    def repository(self, locked: LockedEnvironment, placed: tuple[PlacedPackage, ...], dest: Path) -> BuildPreparation:
        (dest / "Packages").write_text("\n".join(_paragraph(p) for p in placed))
        return BuildPreparation(mounts=(Mount(dest, REPO_MOUNT),), install_script=install_script(locked),
                                installed_query=INSTALLED_QUERY)


APT = Apt()
