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

from verifier.compare.api import compare_paths
from verifier.compare.difference import Difference
from verifier.environments.build import build
from verifier.environments.lock import EnvLock, InstalledPackage, load_lock
from verifier.environments.release import sha256_file
from verifier.environments.rootfs import Member, Rootfs, read_rootfs
from verifier.errors import InputError, where
from verifier.outcome import CompareStatus
from verifier.settings import Settings

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
    packages: tuple[str, ...] = ()  # the published rootfs's dpkg status against the lock
    rebuild_drift: tuple[str, ...] = ()  # what the rebuild installed against the lock
    explanation: Difference | None = None


def check_environment(archive: Path, lock_path: Path, settings: Settings, mirror: str | None = None) -> EnvCheck:
    if not archive.is_file():
        raise InputError(where(archive, "no such environment archive (a regular file)"))
    lock = load_lock(lock_path)
    theirs = read_rootfs(archive, settings.unpack)  # a file that is no rootfs is refused before the rebuild
    published = sha256_file(archive)
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="env-check-", dir=settings.work_dir) as tmp:
        request = lock.request if mirror is None else replace(lock.request, archive=mirror.rstrip("/"))
        rebuilt = build(request, Path(tmp) / "env.tar.zst", Path(tmp) / "env.lock.json", settings)
        drift = package_drift(lock.packages, rebuilt.lock.packages, "the rebuild")
        if published == rebuilt.lock.env_sha256:
            return EnvCheck(CompareStatus.IDENTICAL, published, rebuilt.lock.env_sha256, lock.env_sha256,
                            rebuild_drift=drift)
        return _explain(archive, theirs, rebuilt.archive, lock, published, rebuilt.lock.env_sha256, drift, settings)


def _explain(archive: Path, theirs: Rootfs, rebuilt: Path, lock: EnvLock, published: str, rebuilt_sha: str,
             drift: tuple[str, ...], settings: Settings) -> EnvCheck:
    ours = read_rootfs(rebuilt, settings.unpack)
    files = tuple(file_differences(theirs, ours))
    installed = package_drift(lock.packages, dpkg_status(theirs.status), "the published rootfs")
    comparison = compare_paths(archive, rebuilt, settings, labels=(archive.name, "rebuilt from the lock"))
    return EnvCheck(CompareStatus.DIFFERENT, published, rebuilt_sha, lock.env_sha256, files, installed, drift,
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


def package_drift(locked: tuple[InstalledPackage, ...], found: tuple[InstalledPackage, ...], where_: str) -> tuple[str, ...]:
    """Packages added, removed or at another version (or digest, when both sides know it)."""
    want = {(p.name, p.architecture): p for p in locked}
    have = {(p.name, p.architecture): p for p in found}
    lines = []
    for key in sorted(want.keys() | have.keys()):
        w, h = want.get(key), have.get(key)
        if w is None:
            lines.append(f"{h.name}={h.version} ({h.architecture}): in {where_}, not in the lock")
        elif h is None:
            lines.append(f"{w.name}={w.version} ({w.architecture}): in the lock, not in {where_}")
        elif w.version != h.version:
            lines.append(f"{w.name} ({w.architecture}): the lock says {w.version}, {where_} has {h.version}")
        elif w.sha256 and h.sha256 and w.sha256 != h.sha256:
            lines.append(f"{w.name}={w.version} ({w.architecture}): the .deb's sha256 differs from the lock's")
    return tuple(lines)
