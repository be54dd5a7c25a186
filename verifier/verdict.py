"""The one place where a release's verdict is decided, from complete evidence, failing closed.

REPRODUCIBLE needs: a successful build, at least one official artifact, every official
artifact with a bit-identical rebuilt twin, no extra outputs, and, when the release has a
lockfile, installed packages that match it. Anything missing or skipped is INCONCLUSIVE;
any difference is DIFFERENT.

With ``--rebuild-env`` the published environment is rebuilt from its lock first: an
environment that rebuilds DIFFERENT makes the verdict DIFFERENT whatever the artifacts say
(the release published an environment that is not what it claims; artifacts rebuilt in it
prove nothing), its reason first; an environment that could not be checked (NOT-CHECKED)
turns REPRODUCIBLE or EQUIVALENT into INCONCLUSIVE (the check asked for is missing).
"""

from __future__ import annotations

from collections.abc import Sequence

from verifier.stages import (
    ArtifactResult,
    ArtifactStatus,
    BuildStatus,
    EnvironmentCheck,
    EnvironmentStatus,
    PackageComparison,
    PackageStatus,
    RebuildResult,
    Verdict,
    VerdictResult,
)


def decide(
    rebuild: RebuildResult | None,
    artifacts: Sequence[ArtifactResult],
    packages: PackageComparison,
    *,
    lockfile_declared: bool,
    accept_equivalent: bool = False,
    environment: EnvironmentCheck | None = None,
    unavailable: Sequence[str] = (),
    unverifiable: Sequence[str] = (),
) -> VerdictResult:
    base = _with_environment(_decide_release(rebuild, artifacts, packages, lockfile_declared, accept_equivalent),
                             environment)
    return _with_unverifiable(_with_unavailable(base, unavailable), unverifiable)


def _with_unverifiable(base: VerdictResult, unverifiable: Sequence[str]) -> VerdictResult:
    """Official artifacts that cannot be rebuilt here, each with its reason (`verifier pypi`:
    a compiled wheel): a verdict that would pass is INCONCLUSIVE; DIFFERENT stays DIFFERENT."""
    if not unverifiable:
        return base
    if base.verdict == Verdict.DIFFERENT:
        return VerdictResult(base.verdict, (*base.reasons, *unverifiable))
    if base.reasons == ("no rebuild was run",):
        return VerdictResult(Verdict.INCONCLUSIVE, tuple(unverifiable))
    return VerdictResult(Verdict.INCONCLUSIVE, (*unverifiable, *base.reasons))


def _with_unavailable(base: VerdictResult, unavailable: Sequence[str]) -> VerdictResult:
    """Packages of the original build environment that could not be had (`verifier debian`:
    a .buildinfo's versions the archive lacks): the verdict is INCONCLUSIVE, never DIFFERENT."""
    if not unavailable:
        return base
    shown = ", ".join(unavailable[:20]) + (f" and {len(unavailable) - 20} more" if len(unavailable) > 20 else "")
    reason = f"the original build environment could not be had: the archive lacks {shown}"
    return VerdictResult(Verdict.INCONCLUSIVE, (reason, *base.reasons))


def _with_environment(base: VerdictResult, check: EnvironmentCheck | None) -> VerdictResult:
    """The environment check's say: None (not asked) and REBUILT-IDENTICAL change nothing."""
    if check is None or check.status == EnvironmentStatus.REBUILT_IDENTICAL:
        return base
    if check.status == EnvironmentStatus.DIFFERENT:
        return VerdictResult(Verdict.DIFFERENT, (environment_reason(check), *base.reasons))
    reason = f"the environment was not rebuilt from its lock (--rebuild-env): {check.reason}"
    if base.verdict in (Verdict.REPRODUCIBLE, Verdict.EQUIVALENT):
        return VerdictResult(Verdict.INCONCLUSIVE, (reason, *base.reasons))
    return VerdictResult(base.verdict, (*base.reasons, reason))


def environment_reason(check: EnvironmentCheck) -> str:
    first = check.files[0] if check.files else None
    named = f"; first: {first.name} [package: {first.package}] {first.change}" if first else ""
    return (f"the published environment is not what its lock rebuilds: {len(check.files)} file(s) of the rootfs "
            f"differ{named}")


def _decide_release(rebuild: RebuildResult | None, artifacts: Sequence[ArtifactResult], packages: PackageComparison,
                    lockfile_declared: bool, accept_equivalent: bool) -> VerdictResult:
    if rebuild is None:
        return VerdictResult(Verdict.INCONCLUSIVE, ("no rebuild was run",))
    if rebuild.status not in (BuildStatus.SUCCEEDED, BuildStatus.NO_OUTPUTS):
        return VerdictResult(Verdict.INCONCLUSIVE, (f"rebuild {rebuild.status.value}: {rebuild.reason}",))
    official = [a for a in artifacts if a.status != ArtifactStatus.EXTRA]
    if not official:
        return VerdictResult(Verdict.INCONCLUSIVE, ("the release lists no artifacts",))
    differences = _artifact_differences(artifacts, accept_equivalent)
    drift = _package_problems(packages, lockfile_declared)
    if differences:
        if packages.status == PackageStatus.DRIFT:
            differences.append("the build environment drifted from the lockfile first: " + packages.reason)
        return VerdictResult(Verdict.DIFFERENT, tuple(differences))
    if drift:
        return VerdictResult(Verdict.INCONCLUSIVE, tuple(drift))
    if any(a.status == ArtifactStatus.EQUIVALENT for a in artifacts):
        names = sorted({n for a in artifacts for n in a.normalizers})
        return VerdictResult(Verdict.EQUIVALENT, (f"identical only after normalisers: {', '.join(names)}",))
    count = len(official)
    return VerdictResult(Verdict.REPRODUCIBLE, (f"all {count} official artifact(s) rebuilt bit-for-bit",))


def _artifact_differences(artifacts: Sequence[ArtifactResult], accept_equivalent: bool) -> list[str]:
    """One reason per artifact that is not identical: the official artifacts' first, the extra
    outputs' last (thousands of unlisted outputs must not push an official artifact's reason
    out of a capped summary)."""
    reasons = []
    for a in sorted(artifacts, key=lambda a: a.status == ArtifactStatus.EXTRA):
        if a.status == ArtifactStatus.IDENTICAL:
            continue
        if a.status == ArtifactStatus.EQUIVALENT and accept_equivalent:
            continue
        reasons.append(artifact_reason(a.name, a.status))
    return reasons


def artifact_reason(name: str, status: ArtifactStatus) -> str:
    """The reason given for an artifact that is not identical (presenters recognise the extra
    outputs' reasons by it, to summarise them in one line)."""
    return f"{name}: {_describe(status)}"


def _describe(status: ArtifactStatus) -> str:
    return {
        ArtifactStatus.DIFFERENT: "rebuilt bytes differ from the official artifact",
        ArtifactStatus.EQUIVALENT: "identical only after normalisers (not accepted; see --accept-equivalent)",
        ArtifactStatus.MISSING: "the rebuild did not produce this official artifact",
        ArtifactStatus.EXTRA: "the rebuild produced an output the release does not list",
    }[status]


def _package_problems(packages: PackageComparison, lockfile_declared: bool) -> list[str]:
    if packages.status == PackageStatus.DRIFT:
        return [f"installed packages drifted from the lockfile: {packages.reason}"]
    if packages.status == PackageStatus.NOT_CHECKED and lockfile_declared:
        return [f"the release has a lockfile but installed packages were not checked: {packages.reason}"]
    return []
