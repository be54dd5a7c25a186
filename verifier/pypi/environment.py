"""The sandbox environment of `verifier pypi`: Debian bookworm minbase with python3, built by
`verifier env build` from exact pins (reproducible: anyone can rebuild it and compare its
digest, docs/environments.md) and kept in the cache by its digest; a later run reuses it."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from verifier.cache import ContentCache
from verifier.digests import digest_stream
from verifier.environments.build import build, native_architecture, system_archive
from verifier.environments.lock import VARIANTS, EnvRequest, parse_pins
from verifier.errors import FetchError, where
from verifier.files import open_regular
from verifier.manifest import Environment
from verifier.settings import Settings

SUITE = "bookworm"
PACKAGES = "python3=3.11.2-1+b1,python3-distutils=3.11.2-3,python3-lib2to3=3.11.2-3"  # Debian 12: the python3 build packages are resolved for, and distutils (setuptools before 60 imports it)
SOURCE_DATE_EPOCH = 1700000000
KEY = "verifier-pypi-environment:"  # prefix of the key the archive is remembered under in the cache's URL index


@dataclass(frozen=True)
class PythonEnvironment:
    pin: Environment  # the archive in the cache, by digest
    lock: bytes | None  # its env.lock.json (how to rebuild it); None: the user's own archive
    reused: bool


def given_environment(path: Path) -> PythonEnvironment:
    """``--environment ARCHIVE``: the user's own rootfs archive with python3 (read as a pin)."""
    with open_regular(path, "environment archive") as f:
        digest = digest_stream(f)
    return PythonEnvironment(Environment(path.name, str(path.resolve()), digest.sha256, digest.size), None, True)


def request() -> EnvRequest:
    return EnvRequest(SUITE, system_archive().rstrip("/"), VARIANTS[0], native_architecture(), SOURCE_DATE_EPOCH,
                      parse_pins(PACKAGES, "verifier pypi environment"))


def _key(r: EnvRequest) -> str:
    text = "\n".join([r.suite, r.variant, r.architecture, str(r.source_date_epoch), *map(str, r.include)])
    return KEY + hashlib.sha256(text.encode()).hexdigest()


def python_environment(settings: Settings, cache: ContentCache) -> PythonEnvironment:
    r = request()
    key = _key(r)
    archive, lock = cache.recall_url(key), cache.recall_url(key + ":lock")
    if archive and lock and cache.has(archive.sha256, archive.size) and cache.has(lock.sha256, lock.size):
        path = cache.verified_path(archive.sha256, archive.size, "python environment")
        return PythonEnvironment(_pin(path, archive.sha256, archive.size), cache.read_verified(
            lock.sha256, lock.size, "env.lock.json"), reused=True)
    if settings.offline:
        raise FetchError(where("python environment", f"not in the cache {cache.root} and --offline was given"))
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pypi-env-", dir=settings.work_dir) as tmp:
        built = build(r, Path(tmp) / "env.tar.zst", Path(tmp) / "env.lock.json", settings)
        path, digest = cache.add_file(built.archive)
        lock_bytes = built.lock_path.read_bytes()
    _, lock_digest = cache.add_bytes(lock_bytes)
    cache.remember_url(key, digest)
    cache.remember_url(key + ":lock", lock_digest)
    return PythonEnvironment(_pin(path, digest.sha256, digest.size), lock_bytes, reused=False)


def _pin(path: Path, sha256: str, size: int) -> Environment:
    return Environment("debian-bookworm-python3.tar.zst", str(path), sha256, size, format="rootfs")
