"""`verify --rebuild-env`: before the published environment is trusted, rebuild it from its
lock (the manifest's ``environment.lock``, or ``--env-lock FILE``) and compare digests
(``check.py``). The outcome is the report's ``environment_check``: REBUILT-IDENTICAL,
DIFFERENT (the differing files and their packages), or NOT-CHECKED with the reason
(verifier/verdict.py turns NOT-CHECKED into INCONCLUSIVE, DIFFERENT into DIFFERENT).

A lock that is not a lock, or a published environment that is no readable rootfs, is
bad input (exit 2), as for `env check`; an archive that no longer offers a locked version
is NOT-CHECKED (the environment could not be rebuilt), naming the package and version.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from verifier.cache import ContentCache
from verifier.digests import digest_file
from verifier.environments.build import PinUnavailable, build
from verifier.environments.check import (
    Builder,
    EnvCheck,
    Published,
    check_published,
    installed_against_lock,
    read_published,
)
from verifier.environments.lock import load_lock
from verifier.manifest import PinnedFile
from verifier.outcome import CompareStatus
from verifier.settings import Settings
from verifier.stages import EnvironmentCheck, EnvironmentFile, EnvironmentPackage, EnvironmentStatus, FetchedInputs


@dataclass(frozen=True)
class EnvCheckOptions:
    """What the user asked for: ``lock`` (--env-lock) replaces the manifest's environment.lock."""

    lock: Path | None = None
    mirror: str | None = None  # another mirror of the lock's archive (--env-mirror)


def user_lock(path: Path) -> PinnedFile:
    """``--env-lock FILE`` as a pinned file: its digest is what the report names."""
    digest = digest_file(path)
    return PinnedFile(path.name, path.resolve().as_uri(), digest.sha256, digest.size)


def _lock(inputs: FetchedInputs, options: EnvCheckOptions) -> tuple[PinnedFile, Path] | None:
    if options.lock is not None:
        load_lock(options.lock)  # a missing file, or not a lock: one line, exit 2, before its digest
        return user_lock(options.lock), options.lock
    cached = inputs.environment_lock
    return (cached.pin, cached.path) if cached is not None else None


def check_release_environment(inputs: FetchedInputs, settings: Settings, options: EnvCheckOptions,
                              builder: Builder = build, cache: ContentCache | None = None) -> EnvironmentCheck:
    """``cache``: the content-addressed cache the lock's .debs are taken from and kept in."""
    started = time.monotonic()
    found = _lock(inputs, options)
    if found is None:
        return _not_checked("the release names no environment lock (manifest environment.lock) and no --env-lock "
                            "was given", None)
    pin, path = found
    env = inputs.manifest.environment
    if env.format != "rootfs":
        return _not_checked(f"the environment is an {env.format}; only a rootfs archive can be rebuilt", pin)
    lock = load_lock(path)  # not a lock: exit 2
    published = read_published(inputs.environment.path, settings, env.name)  # no rootfs: exit 2
    installed = installed_against_lock(published, lock)
    if settings.offline:
        return _not_checked("--offline: the environment cannot be rebuilt without its package archive", pin,
                            published, installed)
    try:
        result = check_published(published, lock, settings, options.mirror, builder, cache)
    except PinUnavailable as exc:
        return _not_checked(str(exc), pin, published, installed)
    return _checked(result, pin, env.name, time.monotonic() - started)


def _not_checked(reason: str, pin: PinnedFile | None, published: Published | None = None,
                 installed: tuple[EnvironmentPackage, ...] = ()) -> EnvironmentCheck:
    return EnvironmentCheck(EnvironmentStatus.NOT_CHECKED, reason, pin,
                            published.sha256 if published else None, packages=installed)


def _checked(result: EnvCheck, pin: PinnedFile, name: str, seconds: float) -> EnvironmentCheck:
    files = tuple(EnvironmentFile(f.name, f.package, f.what) for f in result.files)
    if result.status is CompareStatus.IDENTICAL:
        status, reason = EnvironmentStatus.REBUILT_IDENTICAL, f"{name} has the sha256 its lock rebuilds"
    else:
        status = EnvironmentStatus.DIFFERENT
        reason = f"{name} is not what its lock rebuilds: {len(files)} file(s) of the rootfs differ"
        owners = sorted({p.strip() for f in files if not f.package.startswith("no package") for p in f.package.split(",")})
        reason += f"; packages whose files differ: {', '.join(owners)}" if owners else ""
        if result.packages:
            reason += f"; {len(result.packages)} installed package(s) differ from the lock or their dpkg md5sums"
    if result.locked_sha256 != result.published_sha256:
        reason += f" (note: the lock records sha256 {result.locked_sha256}, not the published archive's)"
    return EnvironmentCheck(status, reason, pin, result.published_sha256, result.rebuilt_sha256, files,
                            result.packages, result.rebuild_drift, round(seconds, 3))
