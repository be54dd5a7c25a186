"""`verifier env check ENV_ARCHIVE ENV_LOCK`: rebuild an environment from its lock and
compare digests. Equal: IDENTICAL. Else DIFFERENT, explained: every member of the rootfs
that differs (both archives read as data, never unpacked), the package that owns it
(``var/lib/dpkg/info/*.list`` of the rebuilt rootfs, else of the published one), the
published rootfs's installed packages against the lock, and the auditor's tree.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from verifier.cache import ContentCache
from verifier.compare.api import compare_paths
from verifier.compare.difference import Difference
from verifier.environments.build import BuiltEnvironment, PackageCache, build
from verifier.environments.lock import EnvLock, EnvRequest, InstalledPackage, Pin, load_lock
from verifier.environments.release import sha256_file
from verifier.environments.rootfs import Member, Rootfs, altered_files, read_rootfs
from verifier.errors import InputError, where
from verifier.outcome import CompareStatus
from verifier.settings import Settings
from verifier.stages import EnvironmentPackage

SETUID = 0o6000


@dataclass(frozen=True)
class FileDifference:
    name: str  # member name without "./"
    package: str  # who owns it, or "no package (…)"
    what: str  # content differs | only in the published archive (…) | mode 4755 -> 0755 (published -> rebuilt) | …


@dataclass(frozen=True)
class EnvCheck:
    status: CompareStatus  # IDENTICAL or DIFFERENT
    published_sha256: str
    rebuilt_sha256: str
    locked_sha256: str
    files: tuple[FileDifference, ...] = ()
    packages: tuple[EnvironmentPackage, ...] = ()  # the published rootfs's dpkg status against the lock
    rebuild_drift: tuple[EnvironmentPackage, ...] = ()  # what the rebuild installed against the lock
    explanation: Difference | None = None


class Builder(Protocol):
    """``build.build``'s signature: the seam a fast test replaces (mmdebstrap takes ~20 s)."""

    def __call__(self, request: EnvRequest, out: Path, lock_path: Path, settings: Settings, *,
                 versions: tuple[Pin, ...] = (), packages_from: PackageCache | None = None,
                 locked: tuple[InstalledPackage, ...] = ()) -> BuiltEnvironment: ...


@dataclass(frozen=True)
class Published:
    """The published archive, read as data before anything is rebuilt."""

    path: Path
    label: str
    rootfs: Rootfs
    sha256: str


def read_published(archive: Path, settings: Settings, label: str | None = None) -> Published:
    """A file that is no rootfs is refused (exit 2) before any rebuild."""
    if not archive.is_file():
        raise InputError(where(label or archive, "no such environment archive (a regular file)"))
    return Published(archive, label or archive.name, read_rootfs(archive, settings.unpack, label), sha256_file(archive))


SHOWN_ALTERED = 3  # files named per altered package; the count says how many in all


def installed_against_lock(published: Published, lock: EnvLock) -> tuple[EnvironmentPackage, ...]:
    """The published rootfs's own package manifest (``var/lib/dpkg/status``, read from the
    archive as data: no binary inside it runs) against the lock, then the installed packages
    whose files differ from their dpkg md5sums (altered after installation)."""
    installed = dpkg_status(published.rootfs.status)
    version = {p.name: p for p in installed}
    altered = []
    for package, files in altered_files(published.rootfs).items():
        p = version.get(package)
        shown = ", ".join(files[:SHOWN_ALTERED]) + (f", … ({len(files)} in all)" if len(files) > SHOWN_ALTERED else "")
        altered.append(EnvironmentPackage(package, p.architecture if p else "", p.version if p else None,
                                          p.version if p else None, f"files differ from its dpkg md5sums: {shown}"))
    return package_changes(lock.packages, installed) + tuple(altered)


def check_environment(archive: Path, lock_path: Path, settings: Settings, mirror: str | None = None,
                      builder: Builder = build, label: str | None = None,
                      cache: ContentCache | None = None) -> EnvCheck:
    lock = load_lock(lock_path)
    return check_published(read_published(archive, settings, label), lock, settings, mirror, builder, cache)


def check_published(published: Published, lock: EnvLock, settings: Settings, mirror: str | None = None,
                    builder: Builder = build, cache: ContentCache | None = None) -> EnvCheck:
    """Rebuild ``lock`` (every package at its locked version) and compare with ``published``."""
    installed = installed_against_lock(published, lock)
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="env-check-", dir=settings.work_dir) as tmp:
        request = lock.request if mirror is None else replace(lock.request, archive=mirror.rstrip("/"))
        packages = PackageCache(cache, lock.packages) if cache is not None else None
        rebuilt = builder(request, Path(tmp) / "env.tar.zst", Path(tmp) / "env.lock.json", settings,
                          packages_from=packages, locked=lock.packages)
        drift = package_changes(lock.packages, rebuilt.lock.packages)
        if published.sha256 == rebuilt.lock.env_sha256:
            return EnvCheck(CompareStatus.IDENTICAL, published.sha256, rebuilt.lock.env_sha256, lock.env_sha256,
                            packages=installed, rebuild_drift=drift)
        return _explain(published, rebuilt.archive, lock, rebuilt.lock.env_sha256, installed, drift, settings)


def _explain(published: Published, rebuilt: Path, lock: EnvLock, rebuilt_sha: str,
             installed: tuple[EnvironmentPackage, ...], drift: tuple[EnvironmentPackage, ...],
             settings: Settings) -> EnvCheck:
    ours = read_rootfs(rebuilt, settings.unpack)
    files = tuple(file_differences(published.rootfs, ours))
    comparison = compare_paths(published.path, rebuilt, settings, labels=(published.label, "rebuilt from the lock"))
    return EnvCheck(CompareStatus.DIFFERENT, published.sha256, rebuilt_sha, lock.env_sha256, files, installed, drift,
                    comparison.difference)


def file_differences(published: Rootfs, rebuilt: Rootfs) -> list[FileDifference]:
    found = []
    for name in sorted(published.members.keys() | rebuilt.members.keys()):
        a, b = published.members.get(name), rebuilt.members.get(name)
        what = _what(a, b)
        if what:
            owner = rebuilt.owners.get("/" + name.rstrip("/")) or published.owners.get("/" + name.rstrip("/"))
            found.append(FileDifference(name, ", ".join(owner) if owner else "no package (made while installing)",
                                        what))
    return found


def _what(a: Member | None, b: Member | None) -> str:
    if a is None or b is None:
        m = a or b
        assert m is not None
        side = "published archive" if b is None else "rebuilt rootfs"
        special = " setuid/setgid" if m.mode & SETUID else ""
        return f"only in the {side} ({m.kind}{special}, mode {m.mode:04o})"
    changes = []
    if a.kind != b.kind:
        changes.append(f"type {a.kind} -> {b.kind}")
    if a.sha256 != b.sha256 or a.size != b.size:
        changes.append("content differs")
    if a.link != b.link:
        changes.append(f"link target {a.link!r} -> {b.link!r}")
    if a.mode != b.mode:
        changes.append(f"mode {a.mode:04o} -> {b.mode:04o}" + (" (setuid/setgid)" if a.mode & SETUID else ""))
    if (a.uid, a.gid) != (b.uid, b.gid):
        changes.append(f"owner {a.uid}:{a.gid} -> {b.uid}:{b.gid}")
    if a.mtime != b.mtime:
        changes.append(f"mtime {a.mtime} -> {b.mtime}")
    return ", ".join(changes)


def dpkg_status(raw: bytes) -> tuple[InstalledPackage, ...]:
    """Installed packages of a dpkg status file (no digests: the file does not keep them)."""
    found = []
    for stanza in raw.decode("utf-8", "replace").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and not line[0].isspace())
        if fields.get("Status", "").endswith(" installed") and "Package" in fields:
            found.append(InstalledPackage(fields["Package"], fields.get("Version", ""),
                                          fields.get("Architecture", ""), ""))
    return tuple(found)


DIGEST_DIFFERS = "the .deb's sha256 differs from the lock's"


def package_changes(locked: tuple[InstalledPackage, ...],
                    found: tuple[InstalledPackage, ...]) -> tuple[EnvironmentPackage, ...]:
    """Packages added, removed or at another version (or digest, when both sides know it)."""
    want = {(p.name, p.architecture): p for p in locked}
    have = {(p.name, p.architecture): p for p in found}
    changes = []
    for key in sorted(want.keys() | have.keys()):
        w, h = want.get(key), have.get(key)
        if w is None or h is None or w.version != h.version:
            changes.append(EnvironmentPackage(key[0], key[1], w.version if w else None, h.version if h else None))
        elif w.sha256 and h.sha256 and w.sha256 != h.sha256:
            changes.append(EnvironmentPackage(key[0], key[1], w.version, h.version, DIGEST_DIFFERS))
    return tuple(changes)


def describe(change: EnvironmentPackage, where_: str) -> str:
    c = change
    if c.lock is None:
        return f"{c.name}={c.installed} ({c.architecture}): in {where_}, not in the lock"
    if c.installed is None:
        return f"{c.name}={c.lock} ({c.architecture}): in the lock, not in {where_}"
    if c.lock != c.installed:
        return f"{c.name} ({c.architecture}): the lock says {c.lock}, {where_} has {c.installed}"
    return f"{c.name}={c.lock} ({c.architecture}): {c.note}"


def package_drift(locked: tuple[InstalledPackage, ...], found: tuple[InstalledPackage, ...], where_: str) -> tuple[str, ...]:
    """``package_changes`` as lines naming ``where_``."""
    return tuple(describe(c, where_) for c in package_changes(locked, found))
