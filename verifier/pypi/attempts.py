"""What the sandbox's policy builds left: one attempt per policy, in order, the wheel that
matched (or the closest one, for the auditor to explain), the packages installed against
the lock, and what the build log says (packages the backend asked for, network attempts)."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from verifier.errors import InputError, where
from verifier.pypi.policies import Policy
from verifier.pypi.resolve import MACHINE, PYTHON, LockedWheel
from verifier.report.model import PolicyAttempt, RebuiltDigest
from verifier.stages import (
    CachedFile, InstalledPackage, PackageComparison, PackageCounts, PackageDrift, PackageStatus, RebuiltFile,
)

SEPARATOR = "--"  # outputs are named POLICY--WHEEL by the frontend
MAX_LOG_LINES = 20
NEEDS = re.compile(r"^verifier-pypi: needs (\S.{0,200})$", re.M)
NETWORK = re.compile(r"^verifier-pypi: network: (\S.{0,200})$", re.M)
NETWORK_ERRORS = ("Temporary failure in name resolution", "Network is unreachable", "Name or service not known",
                  "Could not resolve host", "No address associated with hostname")


@dataclass(frozen=True)
class Attempts:
    attempts: tuple[PolicyAttempt, ...]
    matched: str | None
    chosen: RebuiltFile | None  # the matched wheel, else the closest to the official one, named as it
    chosen_policy: str | None = None  # the policy that built ``chosen``


def outputs_by_policy(outputs: tuple[RebuiltFile, ...]) -> dict[str, RebuiltFile]:
    found = {}
    for o in outputs:
        policy, sep, wheel = o.name.partition(SEPARATOR)
        if sep:
            found[policy] = replace(o, name=wheel)
    return found


def read_attempts(policies: tuple[Policy, ...], outputs: tuple[RebuiltFile, ...],
                  official: dict[str, CachedFile]) -> Attempts:
    found = outputs_by_policy(outputs)
    built: dict[str, RebuiltFile] = {}  # only the wheels of policies the frontend ran: any other is no rebuild
    attempts, matched = [], None
    for p in policies:
        if not p.duplicate_of and matched is None and p.name in found:
            built[p.name] = found[p.name]
        attempts.append(_attempt(p, built.get(p.name), official, matched))
        if matched is None and attempts[-1].identical:
            matched = p.name
    chosen = built.get(matched) if matched else closest(list(built.values()), official)
    policy = next((name for name, wheel in built.items() if wheel is chosen), None)
    return Attempts(tuple(attempts), matched, chosen, policy)


def _attempt(p: Policy, wheel: RebuiltFile | None, official: dict[str, CachedFile], matched: str | None) -> PolicyAttempt:
    if p.duplicate_of:
        note = f"not run: the same settings as {p.duplicate_of}"
    elif matched:
        note = f"not run: {matched} already matched"
    elif wheel is None:
        note = "no wheel built (see the build log)"
    else:
        note = p.note
    digest = RebuiltDigest(wheel.sha256, wheel.size) if wheel else None
    twin = official.get(wheel.name) if wheel else None
    identical = twin is not None and wheel is not None and (twin.pin.sha256, twin.pin.size) == (wheel.sha256, wheel.size)
    if wheel is not None and twin is None:
        note = f"built {wheel.name}, which the release does not have"
    return PolicyAttempt(p.name, p.source_date_epoch, p.time_zone, digest, identical, note)


def _members(path: Path) -> set[tuple[str, int, tuple[int, ...]]]:
    try:
        with zipfile.ZipFile(path) as z:
            return {(i.filename, i.CRC, i.date_time) for i in z.infolist()[:100_000]}
    except (zipfile.BadZipFile, OSError, ValueError):
        return set()


def closest(wheels: list[RebuiltFile], official: dict[str, CachedFile]) -> RebuiltFile | None:
    """The wheel with the most members equal to the official's in name, CRC and time (ties:
    the earliest policy): the one whose remaining differences say the most."""
    candidates = [w for w in wheels if w.name in official]
    if not candidates:
        return wheels[0] if wheels else None
    scores = [len(_members(w.path) & _members(official[w.name].path)) for w in candidates]
    return candidates[scores.index(max(scores))]


def needed(log: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.strip() for m in NEEDS.findall(log)))


def applicable(requirements: tuple[str, ...]) -> tuple[str, ...]:
    """The requirements whose markers hold for the sandbox's python (the host's python3 is the
    same version: the resolution's PYTHON); one that does not parse is an input error."""
    kept = []
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            raise InputError(where("get_requires_for_build_wheel", f"not a requirement: {text[:100]!r}")) from None
        if req.marker is None or req.marker.evaluate({"python_version": PYTHON, "python_full_version": f"{PYTHON}.2",
                                                      "sys_platform": "linux", "platform_system": "Linux",
                                                      "platform_machine": MACHINE, "os_name": "posix",
                                                      "implementation_name": "cpython",
                                                      "platform_python_implementation": "CPython"}):
            kept.append(text)
    return tuple(kept)


def network_attempts(log: str) -> tuple[str, ...]:
    found = [m.strip() for m in NETWORK.findall(log)]
    found += [e for e in NETWORK_ERRORS if e in log]
    return tuple(dict.fromkeys(found))[:MAX_LOG_LINES]


def compare_packages(locked: tuple[LockedWheel, ...], installed: tuple[InstalledPackage, ...] | None) -> PackageComparison:
    if installed is None:
        return PackageComparison(PackageStatus.NOT_CHECKED, "the installed build packages could not be listed")
    have = {_norm(p.name): p.version for p in installed}
    drift = tuple(PackageDrift(w.name, w.version, have.get(_norm(w.name)), None)
                  for w in locked if have.get(_norm(w.name)) != w.version)
    counts = PackageCounts(len(locked), len(installed), max(0, len(installed) - len(locked)))
    if drift:
        names = ", ".join(f"{d.name} {d.lockfile} (installed: {d.installed or 'none'})" for d in drift[:5])
        return PackageComparison(PackageStatus.DRIFT, names, drift, counts)
    return PackageComparison(PackageStatus.MATCH, "", (), counts)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
