"""``publish``: run the official build in the sandbox and write the release manifest.

The release directory it writes holds everything a verifier needs, under fixed
sub-directories, and ``release.json`` naming each file by a relative URL:

    release.json  environment/<env> [environment/<env.lock.json>]  sources/<src>…  lockfile/<lock>
    artifacts/<artifact>…

With an environment lock (``env.lock.json``, docs/environments.md) the lock goes beside the
environment and into the manifest's ``environment.lock``, so ``verify --rebuild-env`` can
rebuild the environment; the lock must record the environment's own sha256.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from verifier.packages import step as lockfile_step
from verifier.atomic import copy_file, write_bytes
from verifier.cache import ContentCache
from verifier.environments.build import BuiltEnvironment, build_environment
from verifier.environments.lock import load_lock, parse_pins
from verifier.errors import BuildFailed, InputError, where
from verifier.manifest import (
    BuildSpec, Environment, Lockfile, PinnedFile, ReleaseManifest, Source, manifest_bytes, parse,
)
from verifier.sandbox.interface import Sandbox
from verifier.sandbox.rebuild import rebuild
from verifier.settings import Settings
from verifier.stages import BuildStatus, CachedFile, FetchedInputs, RebuildResult
from verifier.status import StatusLine

MANIFEST_NAME = "release.json"


@dataclass(frozen=True)
class PublishRequest:
    name: str
    version: str
    environment: Path
    sources: tuple[Path, ...]
    command: str
    outputs: tuple[str, ...]
    source_date_epoch: int
    out_dir: Path
    environment_format: str = "rootfs"
    copied_sources: tuple[Path, ...] = ()  # placed in the workdir as they are, not unpacked
    workdir: str = "/build/src"
    variables: dict[str, str] = field(default_factory=dict)
    lockfile: Path | None = None
    lockfile_format: str = "verifier"
    environment_lock: Path | None = None  # the environment's env.lock.json


@dataclass(frozen=True)
class PublishOutcome:
    manifest_path: Path
    manifest: ReleaseManifest
    rebuild: RebuildResult


def _cached(cache: ContentCache, path: Path, subdir: str, cls: type = PinnedFile, **extra: object) -> CachedFile:
    if not path.is_file():
        raise InputError(where(path, "no such file"))
    entry, digest = cache.add_file(path)
    pin = cls(name=path.name, url=f"{subdir}/{path.name}", sha256=digest.sha256, size=digest.size, **extra)
    return CachedFile(pin=pin, path=entry)


def _environment_lock(request: PublishRequest, cache: ContentCache, env_sha256: str) -> CachedFile | None:
    """The environment's lock, checked: a lock (exit 2 otherwise) that records this environment."""
    path = request.environment_lock
    if path is None:
        return None
    lock = load_lock(path)
    if lock.env_sha256 != env_sha256:
        raise InputError(where(path, f"records environment sha256 {lock.env_sha256}, not {request.environment.name}'s "
                                     f"({env_sha256})"))
    if path.name == request.environment.name:
        raise InputError(where(path, "the environment and its lock share one file name"))
    return _cached(cache, path, "environment")


def _inputs(request: PublishRequest, cache: ContentCache) -> FetchedInputs:
    env = _cached(cache, request.environment, "environment", Environment, format=request.environment_format)
    env_lock = _environment_lock(request, cache, env.pin.sha256)
    if env_lock is not None:
        env = CachedFile(replace(env.pin, lock=env_lock.pin), env.path)
    sources = tuple(_cached(cache, p, "sources", Source, unpack=True) for p in request.sources)
    sources += tuple(_cached(cache, p, "sources", Source, unpack=False) for p in request.copied_sources)
    lock = _cached(cache, request.lockfile, "lockfile", Lockfile, format=request.lockfile_format) if request.lockfile else None
    names = [s.pin.name for s in sources]
    if len(set(names)) != len(names):
        raise InputError(where(request.out_dir, "two sources share one file name"))
    manifest = ReleaseManifest(
        name=request.name, version=request.version, environment=env.pin,
        lockfile=lock.pin if lock else None, sources=tuple(s.pin for s in sources),
        build=BuildSpec(request.command, request.workdir, request.outputs, request.source_date_epoch,
                        dict(request.variables)),
        artifacts=(), location=str(request.out_dir / MANIFEST_NAME),
    )
    return FetchedInputs(manifest, "", 0, env, lock, sources, (), environment_lock=env_lock)


def _official_build(inputs: FetchedInputs, settings: Settings, sandbox: Sandbox, cache: ContentCache,
                    run_dir: Path) -> RebuildResult:
    status = StatusLine(settings.progress)
    with status.step("preparing the build environment"):
        env = sandbox.import_environment(inputs.environment)
    lock = lockfile_step.prepare(inputs, settings, cache, run_dir)
    with status.step("running the official build") as line:
        result = rebuild(sandbox, env, inputs, lock.preparation, line.detail)
    if result.status != BuildStatus.SUCCEEDED:
        tail = result.log_tail.strip().splitlines()[-1:] or [""]
        raise BuildFailed(
            where(inputs.manifest.build.command, f"official build {result.status.value}: {result.reason} "
                  f"(log: {result.log_path}; last line: {tail[0][:200]})"))
    return result


def _write_release(inputs: FetchedInputs, result: RebuildResult, out: Path) -> ReleaseManifest:
    artifacts = tuple(
        PinnedFile(name=o.name, url=f"artifacts/{o.name}", sha256=o.sha256, size=o.size)
        for o in sorted(result.outputs, key=lambda o: o.name)
    )
    for cached in (inputs.environment, inputs.environment_lock, inputs.lockfile, *inputs.sources):
        if cached is not None:
            copy_file(cached.path, out / cached.pin.url)
    for output, pin in zip(sorted(result.outputs, key=lambda o: o.name), artifacts):
        copy_file(output.path, out / pin.url)
    draft = inputs.manifest
    data = manifest_bytes(ReleaseManifest(
        draft.name, draft.version, draft.environment, draft.lockfile, draft.sources, draft.build,
        artifacts, draft.location))
    manifest_path = out / MANIFEST_NAME
    write_bytes(manifest_path, data)
    return parse(data, str(manifest_path))


def environment_from_packages(packages: str, source_date_epoch: int, settings: Settings, *, suite: str = "bookworm",
                              archive: str | None = None) -> BuiltEnvironment:
    """``publish --env-packages``: the environment built by `env build` (minbase + exact pins,
    the build's SOURCE_DATE_EPOCH) under the work directory, with its lock."""
    out = settings.work_dir / f"publish-env-{source_date_epoch}" / "env.tar.zst"
    return build_environment(parse_pins(packages, "--env-packages"), out, settings,
                             source_date_epoch=source_date_epoch, suite=suite, archive=archive)


def publish(request: PublishRequest, settings: Settings, sandbox: Sandbox, cache: ContentCache) -> PublishOutcome:
    inputs = _inputs(request, cache)
    run_dir = settings.work_dir / f"publish-{request.name}-{request.version}"
    result = _official_build(inputs, settings, sandbox, cache, run_dir)
    if result.unmatched_globs:
        raise InputError(where(request.out_dir, f"output glob(s) matched nothing: {', '.join(result.unmatched_globs)}"))
    request.out_dir.mkdir(parents=True, exist_ok=True)
    manifest = _write_release(inputs, result, request.out_dir)
    return PublishOutcome(request.out_dir / MANIFEST_NAME, manifest, result)
