"""Package manifests: what was installed in the sandbox, compared with what was promised.

Packages are matched by name. Drift is a locked package that is missing or installed at
another version (or, for the official buildinfo, a package whose version differs there).
Packages installed but not locked (the base environment's own) are counted, not drift:
the environment archive pins them by digest.
"""

from __future__ import annotations

from pathlib import Path

from verifier.atomic import write_bytes
from verifier.packages.interface import LockedEnvironment
from verifier.stages import InstalledPackage, PackageComparison, PackageCounts, PackageDrift, PackageStatus

MAX_DRIFT = 500


def write_manifest(installed: tuple[InstalledPackage, ...], path: Path) -> None:
    lines = [f"{p.name}\t{p.version}\t{p.architecture}\n" for p in sorted(installed, key=lambda p: p.name)]
    write_bytes(path, "".join(lines).encode())


def compare_packages(locked: LockedEnvironment | None, installed: tuple[InstalledPackage, ...] | None,
                     official: LockedEnvironment | None = None) -> PackageComparison:
    if locked is None:
        return PackageComparison(PackageStatus.NOT_CHECKED, reason="the release has no lockfile")
    if installed is None:
        return PackageComparison(PackageStatus.NOT_CHECKED, reason="installed packages could not be read")
    have = {p.name: p.version for p in installed}
    theirs = {p.name: p.version for p in official.packages} if official else {}
    drift: list[PackageDrift] = []
    for p in locked.packages:
        got = have.get(p.name)
        if got != p.version or (official and theirs.get(p.name) != p.version):
            drift.append(PackageDrift(p.name, p.version, got, theirs.get(p.name) if official else None))
    counts = PackageCounts(lockfile=len(locked.packages), installed=len(installed),
                           installed_not_locked=len(set(have) - {p.name for p in locked.packages}))
    if drift:
        first = drift[0]
        reason = (f"{len(drift)} package(s) differ from the lockfile, e.g. {first.name}: "
                  f"locked {first.lockfile}, installed {first.installed or 'nothing'}")
        return PackageComparison(PackageStatus.DRIFT, reason=reason, drift=tuple(drift[:MAX_DRIFT]), counts=counts)
    return PackageComparison(PackageStatus.MATCH, reason=f"all {len(locked.packages)} locked packages installed "
                                                         "at their locked versions", counts=counts)
