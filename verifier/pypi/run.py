"""``verify_pypi``: one Python release's wheels rebuilt from its sdist, as named steps
(docs/pypi.md). The sandbox, the auditor, the verdict and the report are the pipeline's own;
this module adds the index, the build packages as of the upload time and the policies."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from verifier.artifacts import auditor, compare_artifacts
from verifier.atomic import write_bytes
from verifier.cache import ContentCache
from verifier.compare.hints import BuildClock
from verifier.fetch import fetch_file
from verifier.manifest import PinnedFile, Source, manifest_bytes
from verifier.outcome import Verdict
from verifier.pipeline import StepClock, VerifyOutcome
from verifier.pypi import attempts as policy_results
from verifier.pypi import plan as planning
from verifier.pypi.environment import given_environment, python_environment
from verifier.pypi.hints import plugin_hints
from verifier.pypi.index import IndexFile, ProjectPage, default_index_url, normalise, read_page
from verifier.pypi.policies import Policy, policies
from verifier.pypi.release import ReleaseFiles, not_rebuilt, parse_requirement, select
from verifier.pypi.resolve import Resolution, resolve
from verifier.pypi.sdist import SdistInfo, read_sdist
from verifier.pypi.wheel import WheelInfo, read_wheel
from verifier.report.codec import dump_report
from verifier.report.document import ReportEvidence, build_report
from verifier.report.model import BuildPackage, FileRef, PypiRebuild
from verifier.sandbox.interface import Sandbox
from verifier.sandbox.rebuild import rebuild
from verifier.settings import Settings
from verifier.stages import (
    ArtifactResult, BuildStatus, CachedFile, FetchedInputs, PackageComparison, PackageStatus, PreparedEnvironment,
    RebuildResult, VerdictResult,
)
from verifier.verdict import decide

INSTALLER = "pip==24.2"  # installs the locked wheels inside the sandbox (run from its own wheel)
FRONTEND_NEEDS = 3  # frontend.py's exit status: the backend asked for packages not installed


@dataclass(frozen=True)
class PypiOptions:
    requirement: str  # NAME==VERSION
    wheels: tuple[str, ...] = ()  # --wheel FILENAME…
    index_url: str | None = None
    environment: Path | None = None  # the user's own rootfs archive with python3; default: built and cached
    explain: bool = True
    report_path: Path | None = None


@dataclass(frozen=True)
class Official:
    """The release's files in the cache, each checked against the index's sha256."""

    files: ReleaseFiles
    sdist: CachedFile
    pure: tuple[CachedFile, ...]
    not_rebuilt: tuple[str, ...]  # "NAME: reason" of wheels that cannot be rebuilt here (compiled, Python 2)


def _pin(f: IndexFile) -> PinnedFile:
    return PinnedFile(f.filename, f.url, f.sha256, f.size)


def step_index(options: PypiOptions, settings: Settings, cache: ContentCache) -> tuple[ProjectPage, ReleaseFiles]:
    name, version = parse_requirement(options.requirement)
    page = read_page(options.index_url or default_index_url(), normalise(name), settings, cache)
    return page, select(page, version, options.wheels)


def step_fetch(files: ReleaseFiles, settings: Settings, cache: ContentCache) -> Official:
    pure = tuple(fetch_file(_pin(w), cache, settings) for w in files.wheels if not_rebuilt(w.filename) is None)
    others = tuple(f"{w.filename}: {reason}" for w in files.wheels if (reason := not_rebuilt(w.filename)))
    sdist = files.sdist
    return Official(files, fetch_file(Source(sdist.filename, sdist.url, sdist.sha256, sdist.size, unpack=True), cache,
                                      settings),
                    pure, others)


def upload_horizon(files: ReleaseFiles) -> str | None:
    """The release's first upload (ISO 8601 UTC, the second after it): its build packages are
    resolved as of then."""
    times = [f.upload_time for f in (files.sdist, *files.wheels) if f.upload_time is not None]
    if not times:
        return None
    return (min(times).replace(microsecond=0) + timedelta(seconds=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def requirements(sdist: SdistInfo, wheel: WheelInfo, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """``[build-system] requires``, the Generator's backend at its version (unless the backend
    is the sdist's own code, ``backend-path``) and what ``get_requires_for_build_wheel`` added."""
    in_tree = bool(sdist.build_system.backend_path)
    pin = (wheel.backend_pin,) if wheel.backend_pin and not in_tree else ()
    return tuple(dict.fromkeys((*sdist.build_system.requires, *pin, *extra)))


def step_rebuild(official: Official, sdist: SdistInfo, policy_list: tuple[Policy, ...], resolution: Resolution,
                 installer: Resolution | None, env: PreparedEnvironment, inputs: FetchedInputs, sandbox: Sandbox,
                 run_dir: Path, check_requires: bool = True) -> RebuildResult:
    run = tuple(p for p in policy_list if not p.duplicate_of)
    expected = {c.pin.name: c.pin.sha256 for c in official.pure}
    pip = installer.wheels[0] if installer else None
    with tempfile.TemporaryDirectory(prefix="sandbox-files-", dir=run_dir) as files:  # concurrent runs: one each
        mount = planning.write_mount(Path(files), sdist.root, run, expected, pip, resolution.wheels, check_requires)
        return rebuild(sandbox, env, inputs, planning.preparation(mount, pip))


def step_resolve(reqs: tuple[str, ...], horizon: str | None, index_url: str, settings: Settings,
                 cache: ContentCache) -> tuple[Resolution, Resolution | None]:
    """The build packages, and pip to install them (only when there is something to install)."""
    resolution = resolve(reqs, horizon, index_url, settings, cache)
    installer = resolve((INSTALLER,), None, index_url, settings, cache) if resolution.wheels else None
    return resolution, installer


def network_reason(result: RebuildResult) -> RebuildResult:
    """A failed build that tried to reach the network says so in its reason."""
    if result.status == BuildStatus.SUCCEEDED:
        return result
    log = result.log_path.read_text(errors="replace") if result.log_path.exists() else result.log_tail
    tried = policy_results.network_attempts(log)
    if not tried:
        return result
    reason = f"the build needed the network (the sandbox has none): {'; '.join(tried[:3])}"
    return dataclasses.replace(result, reason=reason)


def network_note(verdict: VerdictResult, result: RebuildResult | None) -> VerdictResult:
    """A build that succeeded after a network attempt it survived (a backend that falls back
    when a download fails) and whose wheel differs: the reasons say what it tried."""
    if result is None or result.status != BuildStatus.SUCCEEDED or verdict.verdict != Verdict.DIFFERENT:
        return verdict
    log = result.log_path.read_text(errors="replace") if result.log_path.exists() else result.log_tail
    tried = policy_results.network_attempts(log)
    if not tried:
        return verdict
    note = f"the build tried to reach the network (the sandbox has none): {'; '.join(tried[:3])}"
    return dataclasses.replace(verdict, reasons=(*verdict.reasons, note))


@dataclass(frozen=True)
class Prepared:
    """The release laid out as the pipeline's inputs: the generated manifest and the image."""

    inputs: FetchedInputs
    environment: PreparedEnvironment | None  # None: nothing to build (compiled wheels only)


@dataclass(frozen=True)
class Built:
    """The rebuild under the policies, with the build packages it installed (all None: no build)."""

    policies: tuple[Policy, ...] = ()
    result: RebuildResult | None = None
    resolution: Resolution | None = None
    installer: Resolution | None = None


def step_environment(files: ReleaseFiles, official: Official, sdist: SdistInfo, options: PypiOptions,
                     settings: Settings, cache: ContentCache, sandbox: Sandbox, run_dir: Path) -> Prepared:
    """The environment, and the manifest of this rebuild written beside the report."""
    python_env = given_environment(options.environment) if options.environment else python_environment(settings, cache)
    env_cached = fetch_file(python_env.pin, cache, settings)
    m = planning.manifest(files.project, files.version, python_env.pin, official.sdist.pin,
                          tuple(c.pin for c in official.pure), sdist.pkg_info_mtime, str(run_dir / "release.json"))
    data = manifest_bytes(m)
    write_bytes(run_dir / "release.json", data)
    if python_env.lock is not None:
        write_bytes(run_dir / "env.lock.json", python_env.lock)
    inputs = planning.fetched(m, _digest(data), env_cached, official.sdist, official.pure)
    return Prepared(inputs, sandbox.import_environment(env_cached) if official.pure else None)


def step_build(official: Official, sdist: SdistInfo, wheel: WheelInfo, env: PreparedEnvironment,
               inputs: FetchedInputs, index_url: str, horizon: str | None, settings: Settings, cache: ContentCache,
               sandbox: Sandbox, run_dir: Path, clock: StepClock) -> Built:
    """Resolve, rebuild under every policy; when the backend asks for more packages, resolve
    those whose markers hold and rebuild once more."""
    policy_list = policies(sdist, wheel)
    with clock.step("resolve"):
        resolution, installer = step_resolve(requirements(sdist, wheel), horizon, index_url, settings, cache)
    with clock.step("rebuild"):
        def build(check_requires: bool = True) -> RebuildResult:
            return step_rebuild(official, sdist, policy_list, resolution, installer, env, inputs, sandbox, run_dir,
                                check_requires)

        result = build()
        if result.exit_status == FRONTEND_NEEDS:
            extra = policy_results.applicable(policy_results.needed(result.log_path.read_text(errors="replace")))
            resolution, installer = step_resolve(requirements(sdist, wheel, extra), horizon, index_url, settings, cache)
            result = build(check_requires=False)
    return Built(policy_list, network_reason(result), resolution, installer)


def verify_pypi(options: PypiOptions, settings: Settings, sandbox: Sandbox, cache: ContentCache) -> VerifyOutcome:
    clock, started = StepClock(), datetime.now(UTC)
    with clock.step("fetch"):
        page, files = step_index(options, settings, cache)
        official = step_fetch(files, settings, cache)
    run_dir = settings.work_dir / f"{files.project}-{files.version}"
    run_dir.mkdir(parents=True, exist_ok=True)
    sdist = read_sdist(official.sdist.path, files.sdist.filename, settings.unpack)
    planning.check_root(sdist.root, files.sdist.filename)
    wheel = read_wheel(official.pure[0].path, official.pure[0].pin.name) if official.pure else None
    with clock.step("environment"):
        prepared = step_environment(files, official, sdist, options, settings, cache, sandbox, run_dir)
    horizon = upload_horizon(files)
    built = Built()
    if wheel is not None and prepared.environment is not None:
        built = step_build(official, sdist, wheel, prepared.environment, prepared.inputs, page.index_url, horizon,
                           settings, cache, sandbox, run_dir, clock)
    with clock.step("compare"):
        found = policy_results.read_attempts(built.policies, built.result.outputs if built.result else (),
                                             {c.pin.name: c for c in official.pure})
        artifacts = _compare(official, found, settings, options, built.result, built.resolution, wheel)
        packages = (policy_results.compare_packages(built.resolution.wheels, built.result.installed_packages)
                    if built.resolution and built.result else PackageComparison(PackageStatus.NOT_CHECKED, "no build ran"))
    verdict = network_note(decide(built.result, artifacts, packages, lockfile_declared=built.resolution is not None,
                                  unverifiable=official.not_rebuilt), built.result)
    evidence = ReportEvidence(
        manifest=prepared.inputs.manifest, manifest_sha256=prepared.inputs.manifest_sha256,
        manifest_size=prepared.inputs.manifest_size, inputs=prepared.inputs, environment=prepared.environment,
        rebuild=built.result, artifacts=artifacts, packages=packages, packages_manifest=None,
        verdict=verdict, timings=clock.total(), started=started, finished=datetime.now(UTC))
    pypi = PypiRebuild(
        index_url=page.index_url, project=files.project, upload_time=horizon or "",
        generator=wheel.generator if wheel else "", build_backend=sdist.build_system.backend,
        sdist=FileRef(files.sdist.url, files.sdist.sha256, files.sdist.size),
        policies=found.attempts, matched_policy=found.matched,
        build_packages=_build_packages(built.resolution, built.installer), lock=_write_lock(built, run_dir))
    report = dataclasses.replace(build_report(evidence), pypi=pypi)
    report_path = options.report_path or run_dir / "report.json"
    dump_report(report, report_path)
    return VerifyOutcome(report, verdict, report_path)


def _write_lock(built: Built, run_dir: Path) -> str | None:
    if built.resolution is None:
        return None
    write_bytes(run_dir / "pylock.toml", built.resolution.lock_text)
    return str(run_dir / "pylock.toml")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _compare(official: Official, found: policy_results.Attempts, settings: Settings, options: PypiOptions,
             result: RebuildResult | None, resolution: Resolution | None,
             wheel: WheelInfo | None) -> tuple[ArtifactResult, ...]:
    if result is None or wheel is None:
        return ()
    chosen_policy = next((a for a in found.attempts if a.name == found.chosen_policy), None)  # its clock
    clock = BuildClock(chosen_policy.source_date_epoch if chosen_policy else None,
                       int(result.started_at) if result.started_at else None,
                       int(result.started_at + result.seconds) + 1 if result.started_at else None)
    explain = auditor(settings, (), clock) if options.explain else None
    outputs = (found.chosen,) if found.chosen else ()
    artifacts = compare_artifacts(official.pure, outputs, explain)
    pinned = _norm(wheel.backend_pin.split("==")[0]) if wheel.backend_pin else ""
    unpinned = [w for w in (resolution.wheels if resolution else ()) if _norm(w.name) != pinned]
    rebuilt = read_wheel(found.chosen.path, found.chosen.name).generator if found.chosen else ""
    return plugin_hints(artifacts, unpinned, (wheel.generator, rebuilt))


def _build_packages(resolution: Resolution | None, installer: Resolution | None) -> tuple[BuildPackage, ...]:
    wheels = (*(resolution.wheels if resolution else ()), *(installer.wheels if installer else ()))
    return tuple(BuildPackage(w.name, w.version, FileRef(w.cached.pin.url, w.cached.pin.sha256, w.cached.pin.size))
                 for w in wheels)


def _digest(data: bytes) -> tuple[str, int]:
    return hashlib.sha256(data).hexdigest(), len(data)
