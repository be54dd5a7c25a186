"""``verify``: the whole check of one release, as a list of named steps.

Each step is a function of the previous steps' typed results (verifier/stages.py), so each
can be run and tested on its own; ``verify`` only sequences them and times them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from verifier.packages import step as lockfile_step
from verifier.packages.lockfile import buildinfo
from verifier.artifacts import auditor, compare_artifacts
from verifier.cache import ContentCache
from verifier.compare.hints import BuildClock
from verifier.environments.build import build as build_environment
from verifier.environments.check import Builder
from verifier.environments.step import EnvCheckOptions, check_release_environment
from verifier.fetch import LoadedManifest, fetch_inputs, load_manifest, scoped_settings
from verifier.manifest import ReleaseManifest
from verifier.report.codec import dump_report
from verifier.report.document import ReportEvidence, build_report
from verifier.report.model import Report
from verifier.sandbox.interface import LineCallback, Sandbox
from verifier.sandbox.rebuild import rebuild
from verifier.settings import Settings
from verifier.stages import (
    ArtifactResult,
    EnvironmentCheck,
    FetchedInputs,
    PackageComparison,
    PreparedEnvironment,
    RebuildResult,
    VerdictResult,
)
from verifier.status import StatusLine, StepStatus
from verifier.verdict import decide


@dataclass(frozen=True)
class VerifyOptions:
    normalizers: tuple[str, ...] = ()
    accept_equivalent: bool = False
    explain: bool = True  # ask the auditor why differing artifacts differ
    report_path: Path | None = None  # default: <work dir>/<name>-<version>/report.json
    unavailable: tuple[str, ...] = ()  # original build packages that could not be had: INCONCLUSIVE
    rebuild_env: EnvCheckOptions | None = None  # --rebuild-env: rebuild the environment from its lock first


@dataclass(frozen=True)
class VerifyOutcome:
    report: Report
    verdict: VerdictResult
    report_path: Path


@dataclass
class StepClock:
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        t0 = time.monotonic()
        try:
            yield
        finally:
            self.timings[name] = time.monotonic() - t0

    def total(self) -> dict[str, float]:
        return {**self.timings, "total": time.monotonic() - self.started}


def step_fetch(loaded: LoadedManifest, settings: Settings, cache: ContentCache) -> FetchedInputs:
    return fetch_inputs(loaded, cache, settings)


def step_environment_check(inputs: FetchedInputs, settings: Settings, options: VerifyOptions,
                           builder: Builder, cache: ContentCache) -> EnvironmentCheck | None:
    if options.rebuild_env is None:
        return None
    return check_release_environment(inputs, settings, options.rebuild_env, builder, cache)


def step_environment(inputs: FetchedInputs, sandbox: Sandbox) -> PreparedEnvironment:
    return sandbox.import_environment(inputs.environment)


def step_rebuild(
    env: PreparedEnvironment, inputs: FetchedInputs, settings: Settings, sandbox: Sandbox, cache: ContentCache,
    run_dir: Path, on_line: LineCallback | None = None,
) -> tuple[RebuildResult, lockfile_step.LockEvidence]:
    lock = lockfile_step.prepare(inputs, settings, cache, run_dir)
    result = rebuild(sandbox, env, inputs, lock.preparation, on_line)
    return result, lock


def build_clock(inputs: FetchedInputs, result: RebuildResult) -> BuildClock:
    """What the hints may know of time: the manifest's SOURCE_DATE_EPOCH, the rebuild's run,
    and the official build's Build-Date when its .buildinfo is pinned."""
    started = int(result.started_at) if result.started_at is not None else None
    finished = int(result.started_at + result.seconds) + 1 if result.started_at is not None else None
    official = inputs.official_buildinfo
    built = buildinfo.build_date(official.path, official.pin.name) if official is not None else None
    return BuildClock(inputs.manifest.build.source_date_epoch, started, finished, built)


def step_compare(inputs: FetchedInputs, result: RebuildResult, settings: Settings,
                 options: VerifyOptions, status: StepStatus | None = None) -> tuple[ArtifactResult, ...]:
    clock, progress = build_clock(inputs, result), status.member if status else None
    explain = auditor(settings, options.normalizers, clock, progress) if options.explain else None
    return compare_artifacts(inputs.artifacts, result.outputs, explain)


def step_packages(lock: lockfile_step.LockEvidence, result: RebuildResult,
                  report_dir: Path) -> tuple[PackageComparison, str | None]:
    return lockfile_step.compare_installed(lock, result.installed_packages, report_dir)


def step_verdict(result: RebuildResult, artifacts: tuple[ArtifactResult, ...], packages: PackageComparison,
                 manifest: ReleaseManifest, options: VerifyOptions,
                 environment: EnvironmentCheck | None = None) -> VerdictResult:
    return decide(result, artifacts, packages, lockfile_declared=manifest.lockfile is not None,
                  accept_equivalent=options.accept_equivalent, unavailable=tuple(dict.fromkeys(options.unavailable + manifest.unavailable)),
                  environment=environment)


def run_dir_for(manifest: ReleaseManifest, settings: Settings) -> Path:
    return settings.work_dir / f"{manifest.name}-{manifest.version}"


def verify(location: str, settings: Settings, sandbox: Sandbox, cache: ContentCache,
           options: VerifyOptions = VerifyOptions(), env_builder: Builder = build_environment) -> VerifyOutcome:
    """Check one release: builds run in ``sandbox``, pinned files live in ``cache``; with
    ``options.rebuild_env`` the environment is first rebuilt from its lock by ``env_builder``."""
    clock, started, status = StepClock(), datetime.now(UTC), StatusLine(settings.progress)
    with clock.step("fetch"):
        loaded = load_manifest(location, settings, cache)
        settings = scoped_settings(loaded, settings)  # a manifest from a private address may name such addresses
        inputs = step_fetch(loaded, settings, cache)
    run_dir = run_dir_for(inputs.manifest, settings)
    report_path = options.report_path or run_dir / "report.json"
    env_check = None
    if options.rebuild_env is not None:  # timed only when asked: reports without it keep their timings
        with clock.step("environment_check"), status.step("rebuilding the environment from its lock"):
            env_check = step_environment_check(inputs, settings, options, env_builder, cache)
    with clock.step("environment"), status.step("preparing the build environment"):
        env = step_environment(inputs, sandbox)
    with clock.step("rebuild"), status.step("rebuilding") as line:
        result, lock = step_rebuild(env, inputs, settings, sandbox, cache, run_dir, line.detail)
    with clock.step("compare"), status.step("comparing artifacts") as line:
        artifacts = step_compare(inputs, result, settings, options, line)
        packages, packages_file = step_packages(lock, result, report_path.parent)
    verdict = step_verdict(result, artifacts, packages, inputs.manifest, options, env_check)
    evidence = ReportEvidence(
        manifest=inputs.manifest, manifest_sha256=inputs.manifest_sha256,
        manifest_size=inputs.manifest_size, inputs=inputs, environment=env, rebuild=result,
        artifacts=artifacts, packages=packages, packages_manifest=packages_file, verdict=verdict,
        timings=clock.total(), started=started, finished=datetime.now(UTC), environment_check=env_check,
    )
    report = build_report(evidence)
    dump_report(report, report_path)
    return VerifyOutcome(report, verdict, report_path)
