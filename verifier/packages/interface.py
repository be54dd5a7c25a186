"""The packages family's interface: what a lockfile promises, and a package manager
(apt, rpm) that fetches those packages and lays them out for an offline install.

Lockfile formats (``lockfile/``) read files into a ``LockedEnvironment``; the package
manager named by ``LockedEnvironment.package_manager`` does the rest (see the registry in
``repository.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from verifier.cache import ContentCache
from verifier.settings import Settings
from verifier.stages import BuildPreparation, CachedFile

REPO_MOUNT = "/verifier/repo"  # where the offline repository is mounted, read-only


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str  # apt: the Debian version; rpm: EPOCH:VERSION-RELEASE
    architecture: str
    url: str | None = None  # absolute; None when the format names no location (buildinfo)
    size: int | None = None
    sha256: str | None = None
    sigmd5: str | None = None  # RPM header+payload MD5 (mock lockfiles carry no sha256)

    @property
    def key(self) -> tuple[str, str]:
        return self.name, self.architecture


@dataclass(frozen=True)
class LockedEnvironment:
    package_manager: str  # a key of repository.MANAGERS: apt | rpm
    packages: tuple[LockedPackage, ...]


@dataclass(frozen=True)
class PlacedPackage:
    """A fetched package linked into the offline repository under a synthetic name."""

    entry: CachedFile
    filename: str  # <sha256><suffix>: lockfile names never become host paths


class PackageManager(Protocol):
    name: str
    suffix: str  # of the package files in the repository: .deb, .rpm

    def fetch(self, package: LockedPackage, cache: ContentCache, settings: Settings, place: str) -> CachedFile:
        """The package's file in the cache, its pin and its identity (name, version,
        architecture as the file itself says) checked against the lockfile."""

    def repository(self, locked: LockedEnvironment, placed: tuple[PlacedPackage, ...], dest: Path) -> BuildPreparation:
        """Index the packages placed in ``dest`` (mounted at ``REPO_MOUNT``) if the package
        manager needs it, and say how to install them offline and list what is installed."""
