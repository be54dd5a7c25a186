"""The offline package repository: every package a lockfile names, fetched and checked by
its package manager, linked under synthetic names into a directory that the sandbox
mounts read-only and installs from with the network off.

The package managers are a registry of plain data: ``LockedEnvironment.package_manager``
names one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from verifier.cache import ContentCache
from verifier.errors import InputError, where
from verifier.packages.apt import APT
from verifier.packages.interface import LockedEnvironment, PackageManager, PlacedPackage
from verifier.packages.rpm import RPM
from verifier.settings import Settings
from verifier.stages import BuildPreparation, CachedFile

MANAGERS: dict[str, PackageManager] = {"apt": APT, "rpm": RPM}


def manager(locked: LockedEnvironment, place: str = "lockfile") -> PackageManager:
    found = MANAGERS.get(locked.package_manager)
    if found is None:
        raise InputError(where(place, f"package manager {locked.package_manager!r} is not supported "
                                      f"(supported: {', '.join(MANAGERS)})"))
    return found


def fetch_packages(locked: LockedEnvironment, cache: ContentCache, settings: Settings,
                   place: str = "lockfile") -> tuple[CachedFile, ...]:
    pm = manager(locked, place)
    return tuple(pm.fetch(package, cache, settings, place) for package in locked.packages)


def _place(entry: CachedFile, dest: Path, suffix: str) -> PlacedPackage:
    filename = f"{entry.pin.sha256}{suffix}"  # synthetic: lockfile names never become host paths
    try:
        os.link(entry.path, dest / filename)
    except OSError:
        shutil.copyfile(entry.path, dest / filename)
    return PlacedPackage(entry, filename)


def build_repository(locked: LockedEnvironment, cached: tuple[CachedFile, ...], dest: Path) -> BuildPreparation:
    pm = manager(locked)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    return pm.repository(locked, tuple(_place(entry, dest, pm.suffix) for entry in cached), dest)
