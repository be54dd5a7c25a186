"""Build the verify report (``Report``, verifier/report/model.py) from the stages' results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from verifier import TOOL_ID, __version__
from verifier.manifest import ReleaseManifest
from verifier.report.model import (
    Artifact,
    Build,
    EnvironmentInfo,
    FileRef,
    Inputs,
    Packages,
    RebuiltDigest,
    Release,
    Report,
    Tool,
)
from verifier.stages import (
    ArtifactResult,
    EnvironmentCheck,
    FetchedInputs,
    PackageComparison,
    PreparedEnvironment,
    RebuildResult,
    VerdictResult,
)


@dataclass(frozen=True)
class ReportEvidence:
    """Everything one verify run learned, as handed to ``build_report``."""

    manifest: ReleaseManifest
    manifest_sha256: str
    manifest_size: int
    inputs: FetchedInputs | None
    environment: PreparedEnvironment | None
    rebuild: RebuildResult | None
    artifacts: tuple[ArtifactResult, ...]
    packages: PackageComparison
    packages_manifest: str | None  # file name of the installed-packages manifest, beside the report
    verdict: VerdictResult
    timings: Mapping[str, float]
    started: datetime
    finished: datetime
    environment_check: EnvironmentCheck | None = None  # verify --rebuild-env


def _whole_second(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _environment(env: PreparedEnvironment | None) -> EnvironmentInfo | None:
    if env is None:
        return None
    return EnvironmentInfo(env.image, env.image_id, env.reused, env.runtime, env.podman_version)


def _build(m: ReleaseManifest, result: RebuildResult | None) -> Build:
    spec = m.build
    planned = Build(command=spec.command, workdir=spec.workdir, outputs=tuple(spec.outputs),
                    source_date_epoch=spec.source_date_epoch, variables=dict(sorted(spec.variables.items())))
    if result is None:
        return planned
    return Build(
        command=planned.command, workdir=planned.workdir, outputs=planned.outputs,
        source_date_epoch=planned.source_date_epoch, variables=planned.variables,
        status=result.status, exit_status=result.exit_status, reason=result.reason, log=str(result.log_path),
        log_tail=result.log_tail, seconds=round(result.seconds, 3), unmatched_globs=tuple(result.unmatched_globs),
        log_errors=result.log_errors,
    )


def _artifact(a: ArtifactResult, urls: Mapping[str, str]) -> Artifact:
    url = urls.get(a.name)
    official = None
    if url is not None and a.official_sha256 is not None and a.official_size is not None:
        official = FileRef(url, a.official_sha256, a.official_size)
    rebuilt = RebuiltDigest(a.rebuilt_sha256, a.rebuilt_size) if a.rebuilt_sha256 and a.rebuilt_size is not None else None
    return Artifact(a.name, a.status, official, rebuilt, a.difference, a.comments, a.normalizers)


def build_report(e: ReportEvidence) -> Report:
    m = e.manifest
    urls = {a.name: a.url for a in m.artifacts}
    p = e.packages
    return Report(
        tool=Tool(TOOL_ID, __version__),
        release=Release(m.name, m.version, FileRef(m.location, e.manifest_sha256, e.manifest_size)),
        verdict=e.verdict.verdict,
        reasons=e.verdict.reasons,
        inputs=Inputs(m.environment, m.lockfile, m.sources, m.official_buildinfo),
        environment=_environment(e.environment),
        build=_build(m, e.rebuild),
        sandbox=e.rebuild.sandbox if e.rebuild else None,
        artifacts=tuple(_artifact(a, urls) for a in e.artifacts),
        packages=Packages(p.status, p.reason, p.counts, p.drift, e.packages_manifest),
        timings={k: round(v, 3) for k, v in e.timings.items()},
        started=_whole_second(e.started),
        finished=_whole_second(e.finished),
        environment_check=e.environment_check,
    )
