"""``publish``: run the official build in the sandbox and write the release manifest.

The release directory it writes holds everything a verifier needs, under fixed
sub-directories, and ``release.json`` naming each file by a relative URL:

    release.json  environment/<env>  sources/<src>…  lockfile/<lock>  artifacts/<artifact>…
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from verifier.packages import step as lockfile_step
from verifier.atomic import copy_file, write_bytes
from verifier.cache import ContentCache
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


def _inputs(request: PublishRequest, cache: ContentCache) -> FetchedInputs:
    env = _cached(cache, request.environment, "environment", Environment, format=request.environment_format)
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
    return FetchedInputs(manifest, "", 0, env, lock, sources, ())


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
    for cached in (inputs.environment, inputs.lockfile, *inputs.sources):
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


def publish(request: PublishRequest, settings: Settings, sandbox: Sandbox, cache: ContentCache) -> PublishOutcome:
    inputs = _inputs(request, cache)
    run_dir = settings.work_dir / f"publish-{request.name}-{request.version}"
    result = _official_build(inputs, settings, sandbox, cache, run_dir)
    if result.unmatched_globs:
        raise InputError(where(request.out_dir, f"output glob(s) matched nothing: {', '.join(result.unmatched_globs)}"))
    request.out_dir.mkdir(parents=True, exist_ok=True)
    manifest = _write_release(inputs, result, request.out_dir)
    return PublishOutcome(request.out_dir / MANIFEST_NAME, manifest, result)
