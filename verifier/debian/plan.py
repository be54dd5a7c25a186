"""From ``SOURCE[=VERSION]`` or a .buildinfo to a typed plan: the source package and the
official binaries to verify (authenticated through the archive's signed chain), how to
build them like Debian's build daemons, and the environment to build them in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifier.debian.archive import Archive, BinaryEntry, SourceEntry
from verifier.debian.buildinfo import OfficialBuild
from verifier.errors import InputError, IntegrityError, where

SPEC = re.compile(r"^(?P<name>[a-z0-9][a-z0-9+.-]+)(=(?P<version>[0-9][A-Za-z0-9.+~:-]*))?$")
ALLOWED_VARIABLES = ("DEB_BUILD_OPTIONS", "DEB_BUILD_PROFILES")  # the others are fixed: LC_ALL, TZ, SOURCE_DATE_EPOCH
EXTRA = ("build-essential", "fakeroot")  # what sbuild adds to a build's dependencies


@dataclass(frozen=True)
class Target:
    source: str
    version: str | None


@dataclass(frozen=True)
class DebianPlan:
    source: SourceEntry
    binaries: tuple[BinaryEntry, ...]  # the official .debs to verify
    build_flag: str  # -b, -A or -B
    build_path: str  # the unpacked source tree
    source_date_epoch: int
    variables: tuple[tuple[str, str], ...]
    official: OfficialBuild | None
    pins: tuple[BinaryEntry, ...]  # the .buildinfo's packages as the archive has them: the lockfile
    extra: tuple[BinaryEntry, ...]  # build-essential, fakeroot when the pins lack them: the environment only
    missing: tuple[str, ...]  # NAME=VERSION of the .buildinfo the archive lacks

    @property
    def unavailable(self) -> tuple[str, ...]:
        """What the original build had and this rebuild cannot: package versions, binNMU entries."""
        binnmus = tuple(f"the binNMU changelog entry of {b.name} {b.version} (not applied: the rebuild is "
                        f"{self.source.version})" for b in self.binaries if b.version != self.source.version)
        return self.missing + binnmus

    @property
    def environment_origin(self) -> str:
        return "buildinfo" if self.official is not None else "re-resolved"


def parse_target(spec: str) -> Target:
    match = SPEC.match(spec)
    if match is None:
        raise InputError(f"{spec!r}: expected SOURCE or SOURCE=VERSION (a Debian source package name)")
    return Target(match["name"], match["version"])


def select_binaries(archive: Archive, source: SourceEntry, official: OfficialBuild | None,
                    wanted: tuple[str, ...]) -> tuple[BinaryEntry, ...]:
    available = archive.built_from(source)
    if official is not None:
        available = _checked_against_buildinfo(available, official, archive)
    if not available:
        raise InputError(where(f"{source.name} {source.version}", "the archive has no binary package of it for "
                                                                   f"{archive.architecture} or all"))
    if not wanted:
        return available
    by_name = {b.name: b for b in available}
    unknown = [w for w in wanted if w not in by_name]
    if unknown:
        raise InputError(where("--binary", f"{', '.join(unknown)}: not a binary package of {source.name} "
                                           f"{source.version} here (it has {', '.join(sorted(by_name))})"))
    return tuple(by_name[w] for w in dict.fromkeys(wanted))


def _checked_against_buildinfo(available: tuple[BinaryEntry, ...], official: OfficialBuild,
                               archive: Archive) -> tuple[BinaryEntry, ...]:
    """The archive's .debs the .buildinfo names; its Binary list and digests must agree with the archive."""
    names = {b.name for b in available}
    for binary in official.binaries:
        if binary not in names and not binary.endswith("-dbgsym"):
            raise InputError(where(official.place, f"field Binary: {binary} is not a binary package of "
                                                   f"{official.source} {official.version} in the archive"))
    by_file = {b.pin.name: b for b in available}
    chosen = []
    for name, sha256, size in official.files:
        if name.endswith(".dsc"):
            continue
        entry = by_file.get(name)
        if entry is None:
            continue  # -dbgsym, another architecture's .deb: not in this archive index
        if (entry.pin.sha256, entry.pin.size) != (sha256, size):
            raise IntegrityError(where(official.place, f"{name}: its sha256 in Checksums-Sha256 is not the one the "
                                                       "archive's signed index has"))
        chosen.append(entry)
    return tuple(chosen)


def check_dsc(source: SourceEntry, official: OfficialBuild) -> None:
    for name, sha256, size in official.files:
        if name.endswith(".dsc") and (name != source.dsc.name or (sha256, size) != (source.dsc.sha256, source.dsc.size)):
            raise IntegrityError(where(official.place, f"{name}: not the .dsc the archive's signed index has "
                                                       f"for {source.name} {source.version}"))


def build_flag(binaries: tuple[BinaryEntry, ...]) -> str:
    arches = {b.architecture == "all" for b in binaries}
    return "-A" if arches == {True} else "-B" if arches == {False} else "-b"


def default_build_path(source: SourceEntry) -> str:
    upstream = source.version.split(":", 1)[-1].rsplit("-", 1)[0] if "-" in source.version else \
        source.version.split(":", 1)[-1]
    return f"/build/reproducible-path/{source.name}-{upstream}"


def environment_pins(archive: Archive, official: OfficialBuild | None) -> tuple[tuple[BinaryEntry, ...], tuple[str, ...]]:
    """The .buildinfo's Installed-Build-Depends as the archive has them, and those it lacks
    (for which the archive's own version, when it has one, stands in)."""
    found, missing = [], []
    for pinned in official.installed if official else ():
        entry = archive.binary(pinned.name, pinned.version, pinned.architecture)
        if entry is None:
            missing.append(f"{pinned.name}={pinned.version}")
            entry = _newest(archive, pinned.name)
        if entry is not None:
            found.append(entry)
    return tuple(found), tuple(missing)


def extra_pins(archive: Archive, pins: tuple[BinaryEntry, ...]) -> tuple[BinaryEntry, ...]:
    """What the build needs beyond its dependencies (build-essential, fakeroot), as the
    archive has it today: in the environment, not in the lockfile (the official .buildinfo
    does not list them either)."""
    have = {b.name for b in pins}
    extra = []
    for name in EXTRA:
        if name in have:
            continue
        entry = _newest(archive, name)
        if entry is None:
            raise InputError(where(f"{archive.chain.url} {archive.chain.suite}", f"no package {name}"))
        extra.append(entry)
    return tuple(extra)


def _newest(archive: Archive, name: str) -> BinaryEntry | None:
    return archive.newest(name)


def variables(official: OfficialBuild | None) -> tuple[tuple[str, str], ...]:
    if official is None:
        return ()
    return tuple((k, v) for k, v in official.environment if k in ALLOWED_VARIABLES)
