"""The offline package repository: every package a lockfile names, fetched and checked,
laid out as a flat apt repository that the sandbox installs from with the network off."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from verifier.cache import ContentCache
from verifier.errors import FetchError, InputError, IntegrityError, where
from verifier.fetch import fetch_file, fetch_unpinned
from verifier.packages.lockfile.interface import LockedEnvironment, LockedPackage
from verifier.manifest import PinnedFile
from verifier.settings import Settings
from verifier.stages import BuildPreparation, CachedFile, Mount

REPO_MOUNT = "/verifier/repo"
MAX_RPM_BYTES = 4 << 30
INSTALLED_QUERY = r"dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\n'"


def _pin(p: LockedPackage, place: str) -> PinnedFile:
    if not (p.url and p.sha256 and p.size is not None):
        raise InputError(where(place, f"package {p.name} {p.version} has no URL and digest: lock it first "
                                      "(`verifier lock`) to fetch it hermetically"))
    return PinnedFile(name=f"{p.name}_{p.version}_{p.architecture}.deb", url=p.url, sha256=p.sha256, size=p.size)


def control_fields(deb: Path, label: str) -> dict[str, str]:
    """The control paragraph of a .deb, read by dpkg-deb (bounded output)."""
    try:
        done = subprocess.run(["dpkg-deb", "--field", str(deb)], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(where(label, f"cannot read the package's control fields: {exc}")) from None
    if done.returncode != 0 or len(done.stdout) > 1 << 20:
        raise InputError(where(label, "not a valid Debian package (dpkg-deb --field failed)"))
    fields, key = {}, None
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        if line[:1] in (" ", "\t") and key:
            fields[key] += "\n" + line
        elif ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def _check_identity(p: LockedPackage, cached: CachedFile) -> dict[str, str]:
    fields = control_fields(cached.path, cached.pin.name)
    inside = (fields.get("Package"), fields.get("Version"), fields.get("Architecture"))
    if inside[:2] != (p.name, p.version) or inside[2] not in (p.architecture, "all"):
        raise IntegrityError(where(cached.pin.name, f"package says it is {inside[0]} {inside[1]} ({inside[2]}), "
                                                    f"the lockfile says {p.name} {p.version} ({p.architecture})"))
    return fields


def fetch_packages(locked: LockedEnvironment, cache: ContentCache, settings: Settings,
                   place: str = "lockfile") -> tuple[CachedFile, ...]:
    cached = []
    for package in locked.packages:
        if locked.package_manager == "rpm":
            cached.append(_fetch_rpm(package, cache, settings))
            continue
        entry = fetch_file(_pin(package, place), cache, settings)
        _check_identity(package, entry)
        cached.append(entry)
    return tuple(cached)


def _check_rpm(p: LockedPackage, path: Path, label: str) -> None:
    from verifier.packages.lockfile.mock import rpm_identity

    name, evr, arch, sigmd5 = rpm_identity(path, label)
    if sigmd5 != p.sigmd5:
        raise IntegrityError(where(label, f"SIGMD5 mismatch: the lockfile says {p.sigmd5}, the download has {sigmd5}"))
    if (name, evr, arch) != (p.name, p.version, p.architecture):
        raise IntegrityError(where(label, f"package says it is {name} {evr} ({arch}), "
                                          f"the lockfile says {p.name} {p.version} ({p.architecture})"))


def _fetch_rpm(p: LockedPackage, cache: ContentCache, settings: Settings) -> CachedFile:
    """RPMs pinned by SIGMD5 only (mock lockfiles): download, check SIGMD5 and identity, then
    store by sha256 and remember the URL so the next use needs no network."""
    label = f"{p.name}-{p.version}.{p.architecture}.rpm"
    known = cache.recall_url(p.url or "")
    if known and cache.has(known.sha256, known.size):
        path = cache.verified_path(known.sha256, known.size, label)
        _check_rpm(p, path, label)
        return CachedFile(PinnedFile(label, p.url or "", known.sha256, known.size), path)
    if settings.offline:
        raise FetchError(where(label, "not in the cache and --offline was given"))
    with cache.temp_file() as tmp:
        digest = fetch_unpinned(p.url or "", label, MAX_RPM_BYTES, tmp, settings)
        _check_rpm(p, tmp, label)
        entry = cache.commit(tmp, digest)
    cache.remember_url(p.url or "", digest)
    return CachedFile(PinnedFile(label, p.url or "", digest.sha256, digest.size), entry)


def _paragraph(fields: dict[str, str], filename: str, entry: CachedFile) -> str:
    lines = [f"{k}: {v}" for k, v in fields.items() if k not in ("Filename", "Size", "SHA256", "MD5sum")]
    lines += [f"Filename: ./{filename}", f"Size: {entry.pin.size}", f"SHA256: {entry.pin.sha256}"]
    return "\n".join(lines) + "\n"


def _place(entry: CachedFile, dest: Path) -> str:
    filename = f"{entry.pin.sha256}.deb"  # synthetic: lockfile names never become host paths
    target = dest / filename
    try:
        os.link(entry.path, target)
    except OSError:
        shutil.copyfile(entry.path, target)
    return filename


def install_script(locked: LockedEnvironment) -> str:
    wanted = " ".join(shlex.quote(f"{p.name}:{p.architecture}={p.version}" if p.architecture != "all"
                                  else f"{p.name}={p.version}") for p in locked.packages)
    apt = ("-o Dir::Etc::SourceList=/tmp/verifier-sources.list -o Dir::Etc::SourceParts=/nonexistent "
           "-o APT::Sandbox::User=root -o Acquire::Languages=none -o Debug::NoLocking=1")
    return "\n".join([
        "set -e",
        f"echo 'deb [trusted=yes] file:{REPO_MOUNT} ./' > /tmp/verifier-sources.list",
        f"apt-get {apt} update -q",
        f"apt-get {apt} install -y -q --no-install-recommends --allow-downgrades {wanted}",
    ])


RPM_INSTALLED_QUERY = r"rpm -qa --qf '%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\n'"


def _rpm_repository(cached: tuple[CachedFile, ...], dest: Path) -> BuildPreparation:
    """A plain directory of RPMs, installed in one transaction (untested here: this machine
    has no RPM-based environment to run it in)."""
    for entry in cached:
        target = dest / f"{entry.pin.sha256}.rpm"
        try:
            os.link(entry.path, target)
        except OSError:
            shutil.copyfile(entry.path, target)
    script = (f"if command -v dnf >/dev/null; then dnf -y --disablerepo='*' install {REPO_MOUNT}/*.rpm; "
              f"else rpm -Uvh --replacepkgs {REPO_MOUNT}/*.rpm; fi")
    return BuildPreparation(mounts=(Mount(dest, REPO_MOUNT),), install_script=script,
                            installed_query=RPM_INSTALLED_QUERY)


def build_repository(locked: LockedEnvironment, cached: tuple[CachedFile, ...], dest: Path) -> BuildPreparation:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if locked.package_manager == "rpm":
        return _rpm_repository(cached, dest)
    paragraphs = []
    for package, entry in zip(locked.packages, cached):
        fields = control_fields(entry.path, entry.pin.name)
        paragraphs.append(_paragraph(fields, _place(entry, dest), entry))
    (dest / "Packages").write_text("\n".join(paragraphs))
    return BuildPreparation(mounts=(Mount(dest, REPO_MOUNT),), install_script=install_script(locked),
                            installed_query=INSTALLED_QUERY)
