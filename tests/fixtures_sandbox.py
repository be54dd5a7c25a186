"""Fixtures for sandbox tests: a prepared busybox environment and FetchedInputs made in code."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import require_tool
from verifier.cache import ContentCache
from verifier.manifest import BuildSpec, Environment, PinnedFile, ReleaseManifest, Source
from verifier.sandbox.backends import open_sandbox
from verifier.settings import Settings
from verifier.stages import CachedFile, FetchedInputs, PreparedEnvironment


def cached(cache: ContentCache, path: Path, cls: type = PinnedFile, **extra: object) -> CachedFile:
    entry, digest = cache.add_file(path)
    pin = cls(name=path.name, url=path.as_uri(), sha256=digest.sha256, size=digest.size, **extra)
    return CachedFile(pin, entry)


def make_inputs(settings: Settings, environment: Path, command: str, *, sources: tuple[Path, ...] = (),
                copied: tuple[Path, ...] = (), outputs: tuple[str, ...] = ("out/*",),
                workdir: str = "/build/src", variables: dict[str, str] | None = None,
                source_date_epoch: int = 1700000000) -> FetchedInputs:
    cache = ContentCache(settings.cache_dir)
    env = cached(cache, environment, Environment, format="rootfs")
    srcs = tuple(cached(cache, p, Source, unpack=True) for p in sources)
    srcs += tuple(cached(cache, p, Source, unpack=False) for p in copied)
    manifest = ReleaseManifest(
        name="t", version="1", environment=env.pin, lockfile=None, sources=tuple(s.pin for s in srcs),
        build=BuildSpec(command, workdir, outputs, source_date_epoch, dict(variables or {})),
        artifacts=(), location="memory",
    )
    return FetchedInputs(manifest, hashlib.sha256(b"").hexdigest(), 0, env, None, srcs, ())


@pytest.fixture
def busybox_inputs(settings: Settings, busybox_rootfs: Path) -> Callable[..., FetchedInputs]:
    def make(command: str, **kwargs: object) -> FetchedInputs:
        return make_inputs(settings, busybox_rootfs, command, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def busybox_env(settings: Settings, busybox_rootfs: Path) -> PreparedEnvironment:
    require_tool("podman")
    inputs = make_inputs(settings, busybox_rootfs, "true")
    return open_sandbox(settings).import_environment(inputs.environment)
