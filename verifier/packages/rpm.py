"""rpm as a package manager: RPMs pinned by SIGMD5 (mock lockfiles carry no sha256),
downloaded size-capped, their SIGMD5 and name/EVR/arch checked, stored by sha256; a plain
directory of RPMs installed in one transaction.

The offline install (``dnf`` or ``rpm -U`` of the local files) has not been run here: this
machine has no RPM-based environment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rpmfile
from rpmfile.errors import RPMError

from verifier.cache import ContentCache
from verifier.errors import FetchError, IntegrityError, where
from verifier.fetch import fetch_unpinned
from verifier.manifest import PinnedFile
from verifier.packages.interface import REPO_MOUNT, LockedEnvironment, LockedPackage, PlacedPackage
from verifier.settings import Settings
from verifier.stages import BuildPreparation, CachedFile, Mount

MAX_RPM_BYTES = 4 << 30
INSTALLED_QUERY = r"rpm -qa --qf '%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\n'"
INSTALL_SCRIPT = (f"if command -v dnf >/dev/null; then dnf -y --disablerepo='*' install {REPO_MOUNT}/*.rpm; "
                  f"else rpm -Uvh --replacepkgs {REPO_MOUNT}/*.rpm; fi")


def rpm_version(epoch: Any, version: str, release: str) -> str:
    """The EVR string compared with `rpm -q --qf '%{EPOCHNUM}:%{VERSION}-%{RELEASE}'`."""
    return f"{int(epoch or 0)}:{version}-{release}"


def rpm_identity(path: Path, label: str) -> tuple[str, str, str, str]:
    """(name, EVR, arch, sigmd5 computed over header+payload) of an RPM file."""
    try:
        with open(path, "rb") as f, rpmfile.RPMFile(fileobj=f) as rpm:
            h, start = rpm.headers, rpm.header_range[0]
            ident = [h.get(k) for k in ("name", "version", "release", "arch")]
            epoch = h.get("epoch")
    except (RPMError, AssertionError, ValueError, KeyError, IndexError, TypeError, EOFError, OSError) as exc:
        raise IntegrityError(where(label, f"not a readable RPM ({type(exc).__name__})")) from None
    name, version, release, arch = (v.decode() if isinstance(v, bytes) else str(v) for v in ident)
    md5 = hashlib.md5()
    with open(path, "rb") as f:
        f.seek(start)
        while chunk := f.read(1 << 20):
            md5.update(chunk)
    return name, rpm_version(epoch, version, release), arch, md5.hexdigest()


def _check(p: LockedPackage, path: Path, label: str) -> None:
    name, evr, arch, sigmd5 = rpm_identity(path, label)
    if sigmd5 != p.sigmd5:
        raise IntegrityError(where(label, f"SIGMD5 mismatch: the lockfile says {p.sigmd5}, the download has {sigmd5}"))
    if (name, evr, arch) != (p.name, p.version, p.architecture):
        raise IntegrityError(where(label, f"package says it is {name} {evr} ({arch}), "
                                          f"the lockfile says {p.name} {p.version} ({p.architecture})"))


@dataclass(frozen=True)
class Rpm:
    name: str = "rpm"
    suffix: str = ".rpm"

    def fetch(self, package: LockedPackage, cache: ContentCache, settings: Settings, place: str) -> CachedFile:
        """Download, check SIGMD5 and identity, then store by sha256 and remember the URL
        so that the next use needs no network."""
        p, url = package, package.url or ""
        label = f"{p.name}-{p.version}.{p.architecture}.rpm"
        known = cache.recall_url(url)
        if known and cache.has(known.sha256, known.size):
            path = cache.verified_path(known.sha256, known.size, label)
            _check(p, path, label)
            return CachedFile(PinnedFile(label, url, known.sha256, known.size), path)
        if settings.offline:
            raise FetchError(where(label, "not in the cache and --offline was given"))
        with cache.temp_file() as tmp:
            digest = fetch_unpinned(url, label, MAX_RPM_BYTES, tmp, settings)
            _check(p, tmp, label)
            entry = cache.commit(tmp, digest)
        cache.remember_url(url, digest)
        return CachedFile(PinnedFile(label, url, digest.sha256, digest.size), entry)

    def repository(self, locked: LockedEnvironment, placed: tuple[PlacedPackage, ...], dest: Path) -> BuildPreparation:
        return BuildPreparation(mounts=(Mount(dest, REPO_MOUNT),), install_script=INSTALL_SCRIPT,
                                installed_query=INSTALLED_QUERY)


RPM = Rpm()
