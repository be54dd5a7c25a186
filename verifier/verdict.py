"""The one place where a release's verdict is decided, from complete evidence, failing closed.

REPRODUCIBLE needs: a successful build, at least one official artifact, every official
artifact with a bit-identical rebuilt twin, no extra outputs, and, when the release has a
lockfile, installed packages that match it. Anything missing or skipped is INCONCLUSIVE;
any difference is DIFFERENT.
"""

from __future__ import annotations

from collections.abc import Sequence

from verifier.stages import (
    ArtifactResult,
    ArtifactStatus,
    BuildStatus,
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
) -> VerdictResult:
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
