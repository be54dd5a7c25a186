"""The verdict fails closed: REPRODUCIBLE only from complete, bit-identical evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifier.stages import (
    ArtifactResult,
    ArtifactStatus,
    BuildStatus,
    PackageComparison,
    PackageStatus,
    RebuildResult,
    SandboxLimits,
    SandboxRecord,
    Verdict,
)
from verifier.verdict import decide

OK_PACKAGES = PackageComparison(PackageStatus.MATCH)
UNCHECKED = PackageComparison(PackageStatus.NOT_CHECKED, reason="no lockfile")


SANDBOX = SandboxRecord("fake", "0", "runc", "test", "none", (), {}, "h", "0:0", "022", "/build", (),
                        SandboxLimits(60.0, "1g", 64, 64, 64, "1g", "1g"))


def build(status: BuildStatus = BuildStatus.SUCCEEDED) -> RebuildResult:
    return RebuildResult(status, 0, (), (), Path("log"), "", SANDBOX, 1.0, reason="boom")


def artifact(name: str, status: ArtifactStatus, normalizers: tuple[str, ...] = ()) -> ArtifactResult:
    digest = "a" * 64
    return ArtifactResult(name, status, digest, 1, digest, 1, normalizers=normalizers)


def test_all_identical_is_reproducible() -> None:
    v = decide(build(), [artifact("a", ArtifactStatus.IDENTICAL)], UNCHECKED, lockfile_declared=False)
    assert v.verdict == Verdict.REPRODUCIBLE


def test_no_artifacts_is_never_reproducible() -> None:
    v = decide(build(), [], UNCHECKED, lockfile_declared=False)
    assert v.verdict == Verdict.INCONCLUSIVE


def test_only_extra_outputs_is_inconclusive() -> None:
    v = decide(build(), [artifact("x", ArtifactStatus.EXTRA)], UNCHECKED, lockfile_declared=False)
    assert v.verdict == Verdict.INCONCLUSIVE


@pytest.mark.parametrize("status", [BuildStatus.FAILED, BuildStatus.TIMED_OUT, BuildStatus.LIMIT_EXCEEDED])
def test_failed_build_is_inconclusive(status: BuildStatus) -> None:
    v = decide(build(status), [artifact("a", ArtifactStatus.IDENTICAL)], UNCHECKED, lockfile_declared=False)
    assert v.verdict == Verdict.INCONCLUSIVE
    assert status.value in v.reasons[0]


def test_no_rebuild_is_inconclusive() -> None:
    assert decide(None, [], UNCHECKED, lockfile_declared=False).verdict == Verdict.INCONCLUSIVE


@pytest.mark.parametrize("status", [ArtifactStatus.DIFFERENT, ArtifactStatus.MISSING, ArtifactStatus.EXTRA])
def test_any_difference_is_different(status: ArtifactStatus) -> None:
    arts = [artifact("a", ArtifactStatus.IDENTICAL), artifact("b", status)]
    v = decide(build(), arts, UNCHECKED, lockfile_declared=False)
    assert v.verdict == Verdict.DIFFERENT
    assert v.reasons[0].startswith("b: ")


def test_equivalent_needs_opt_in() -> None:
    arts = [artifact("a", ArtifactStatus.EQUIVALENT, ("timestamps",))]
    assert decide(build(), arts, UNCHECKED, lockfile_declared=False).verdict == Verdict.DIFFERENT
    v = decide(build(), arts, UNCHECKED, lockfile_declared=False, accept_equivalent=True)
    assert v.verdict == Verdict.EQUIVALENT
    assert "timestamps" in v.reasons[0]


def test_package_drift_keeps_identical_artifacts_from_reproducible() -> None:
    drift = PackageComparison(PackageStatus.DRIFT, reason="gcc 12.2 != 12.3")
    v = decide(build(), [artifact("a", ArtifactStatus.IDENTICAL)], drift, lockfile_declared=True)
    assert v.verdict == Verdict.INCONCLUSIVE


def test_drift_is_named_as_a_cause_when_artifacts_differ() -> None:
    drift = PackageComparison(PackageStatus.DRIFT, reason="gcc 12.2 != 12.3")
    v = decide(build(), [artifact("a", ArtifactStatus.DIFFERENT)], drift, lockfile_declared=True)
    assert v.verdict == Verdict.DIFFERENT
    assert any("drifted" in r for r in v.reasons)


def test_unchecked_packages_with_a_lockfile_is_inconclusive() -> None:
    v = decide(build(), [artifact("a", ArtifactStatus.IDENTICAL)], UNCHECKED, lockfile_declared=True)
    assert v.verdict == Verdict.INCONCLUSIVE


def test_matching_packages_with_a_lockfile_is_reproducible() -> None:
    v = decide(build(), [artifact("a", ArtifactStatus.IDENTICAL)], OK_PACKAGES, lockfile_declared=True)
    assert v.verdict == Verdict.REPRODUCIBLE


def test_reasons_about_official_artifacts_come_before_extra_outputs() -> None:
    """Thousands of unlisted outputs compared first must not push the official artifacts' reasons down."""
    outputs = [artifact(f"obj/{i}.o", ArtifactStatus.EXTRA) for i in range(50)]
    v = decide(build(), [*outputs, artifact("out.bin", ArtifactStatus.MISSING)], UNCHECKED, lockfile_declared=False)
    assert v.verdict == Verdict.DIFFERENT and len(v.reasons) == 51
    assert v.reasons[0].startswith("out.bin: ") and v.reasons[1].startswith("obj/0.o: ")
