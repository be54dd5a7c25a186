"""The build environment of a `verifier debian` run, and the lockfile installed into it.

The environment is made by `verifier env build` (mmdebstrap, minbase, exact NAME=VERSION
pins, reproducible): with a .buildinfo, its Installed-Build-Depends; without one,
build-essential and fakeroot, and the build dependencies are then re-resolved online as
`verifier lock` does. Both are kept in the cache under a key made of what they depend on
(the pins' digests; the source and the environment for a lock), so a second verification
reuses them.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from verifier.atomic import copy_file, write_bytes
from verifier.cache import ContentCache
from verifier.debian.archive import ArchiveChain, BinaryEntry
from verifier.environments.build import build_environment
from verifier.environments.lock import Pin
from verifier.fetch import fetch_file
from verifier.manifest import PinnedFile
from verifier.packages.interface import LockedEnvironment, LockedPackage
from verifier.packages.lock import LockRequest, lock
from verifier.packages.lockfile import native
from verifier.sandbox.podman import Podman
from verifier.settings import Settings

ENV_EPOCH = 1700000000  # the environment's own timestamps: fixed, so equal pins give equal bytes


@dataclass(frozen=True)
class Prepared:
    environment: Path  # a rootfs archive
    lockfile: bytes  # a verifier lockfile (native JSON)
    reused: bool  # the environment came from the cache


def pinned_lockfile(pins: tuple[BinaryEntry, ...]) -> bytes:
    """The environment's packages with the archive's URL, size and sha256 (from the signed index)."""
    packages = tuple(LockedPackage(b.name, b.version, b.architecture, b.pin.url, b.pin.size, b.pin.sha256)
                     for b in pins)
    return native.dump(LockedEnvironment("apt", packages))


def environment_for(pins: tuple[BinaryEntry, ...], chain: ArchiveChain, architecture: str,
                    settings: Settings) -> tuple[Path, bool]:
    """An environment with exactly these pins, built once per distinct set (key: the lockfile's digest)."""
    key = hashlib.sha256(pinned_lockfile(pins) + f"{chain.suite} {architecture}".encode()).hexdigest()
    store = settings.cache_dir / "debian-environments"
    archive = store / f"{key}.tar.zst"
    if archive.is_file():
        return archive, True
    store.mkdir(parents=True, exist_ok=True)
    pins_wanted = tuple(Pin(b.name, b.version) for b in pins)
    with tempfile.TemporaryDirectory(prefix="debian-env-", dir=store) as tmp:
        built = build_environment(pins_wanted, Path(tmp) / "env.tar.zst", settings, source_date_epoch=ENV_EPOCH,
                                  suite=chain.suite, archive=chain.url, lock_path=Path(tmp) / "env.lock.json")
        built.archive.rename(archive)  # same directory: the final name appears complete or not at all
        built.lock_path.rename(store / f"{key}.lock.json")
    return archive, False


def resolved_lockfile(environment: Path, source_files: tuple[PinnedFile, ...], dsc_name: str, release_sha256: str,
                      settings: Settings, cache: ContentCache, podman: Podman) -> bytes:
    """Today's build dependencies of the .dsc, resolved online in the environment (`verifier lock`);
    kept per source, environment and Release file (a new Release resolves again)."""
    digests = " ".join(f.sha256 for f in source_files)
    key = hashlib.sha256(f"{digests} {environment.name} {release_sha256}".encode()).hexdigest()
    store = settings.cache_dir / "debian-locks"
    kept = store / f"{key}.json"
    if kept.is_file():
        return kept.read_bytes()
    with tempfile.TemporaryDirectory(prefix="debian-lock-", dir=_work(settings)) as tmp:
        sources = Path(tmp) / "source"
        sources.mkdir()
        for pin in source_files:
            copy_file(fetch_file(pin, cache, settings).path, sources / pin.name)
        outcome = lock(LockRequest(environment, Path(tmp) / "out", dsc=sources / dsc_name), settings, cache, podman)
        data = outcome.lockfile.read_bytes()
    store.mkdir(parents=True, exist_ok=True)
    write_bytes(kept, data)
    return data


def _work(settings: Settings) -> Path:
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    return settings.work_dir.resolve()
