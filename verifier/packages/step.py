"""The pipeline step for a release's lockfile: fetch its pinned packages, lay out the
offline repository the sandbox installs from, and afterwards compare what was installed
with what was promised. A release without a lockfile skips all of it, and says so."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from verifier.cache import ContentCache
from verifier.packages.installed import compare_packages, write_manifest
from verifier.packages.interface import LockedEnvironment
from verifier.packages.lockfile import buildinfo, load_lockfile
from verifier.packages.repository import build_repository, fetch_packages
from verifier.settings import Settings
from verifier.stages import BuildPreparation, FetchedInputs, InstalledPackage, PackageComparison, PackageStatus

PACKAGES_MANIFEST = "installed-packages.txt"


@dataclass(frozen=True)
class LockEvidence:
    locked: LockedEnvironment | None
    preparation: BuildPreparation | None
    reason: str = ""  # why packages will not be checked
    official: LockedEnvironment | None = None  # the official build's buildinfo


def prefetch(inputs: FetchedInputs, settings: Settings, cache: ContentCache) -> int:
    """Fetch (and check) every package the lockfile names, for offline use; returns the count."""
    if inputs.lockfile is None:
        return 0
    pin = inputs.lockfile.pin
    locked = load_lockfile(inputs.lockfile.path, pin.format, pin.name, base_url=pin.url)
    return len(fetch_packages(locked, cache, settings, place=pin.name))


def prepare(inputs: FetchedInputs, settings: Settings, cache: ContentCache, run_dir: Path) -> LockEvidence:
    if inputs.lockfile is None:
        return LockEvidence(None, None, "the release has no lockfile")
    pin = inputs.lockfile.pin
    locked = load_lockfile(inputs.lockfile.path, pin.format, pin.name, base_url=pin.url)
    cached = fetch_packages(locked, cache, settings, place=pin.name)
    preparation = build_repository(locked, cached, run_dir / "repository")
    official = None
    if inputs.official_buildinfo is not None:
        official = buildinfo.load(inputs.official_buildinfo.path, inputs.official_buildinfo.pin.name)
    return LockEvidence(locked, preparation, official=official)


def compare_installed(
    lock: LockEvidence, installed: tuple[InstalledPackage, ...] | None, run_dir: Path
) -> tuple[PackageComparison, str | None]:
    """Compare installed packages with the lockfile; write the installed-packages manifest."""
    manifest_file = None
    if installed is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_manifest(installed, run_dir / PACKAGES_MANIFEST)
        manifest_file = PACKAGES_MANIFEST
    if lock.locked is None:
        return PackageComparison(PackageStatus.NOT_CHECKED, reason=lock.reason), manifest_file
    return compare_packages(lock.locked, installed, lock.official), manifest_file
