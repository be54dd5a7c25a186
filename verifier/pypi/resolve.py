"""The build environment as of the release's upload time: requirements resolved by uv
(``--exclude-newer``, wheels only, pip's default index or the user's, no configuration
read), written as a PEP 751 ``pylock.toml`` with hashes, and each wheel fetched into the
cache by its digest. A lock once made is remembered under its inputs' key, so a warm run
(and ``--offline``) resolves nothing again."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from verifier.cache import ContentCache
from verifier.errors import BuildFailed, FetchError, InputError, where
from verifier.fetch import fetch_file, is_remote
from verifier.manifest import PinnedFile
from verifier.printable import one_line
from verifier.settings import Settings
from verifier.stages import CachedFile
from verifier.tools import require

UV_TIMEOUT = 600
PYTHON = "3.11"  # the sandbox environment's python3 (Debian bookworm)
MACHINE = platform.machine()  # the sandbox environment is built for this machine's architecture
PLATFORM = f"{MACHINE}-unknown-linux-gnu"
LOCK_KEY = "verifier-pypi-lock:"  # prefix of the key a lock is remembered under in the cache's URL index


EMPTY_LOCK = b'lock-version = "1.0"\ncreated-by = "verifier"\npackages = []\n'


@dataclass(frozen=True)
class LockedWheel:
    name: str
    version: str
    cached: CachedFile  # pin: the wheel's file name, url, sha256 and size


@dataclass(frozen=True)
class Resolution:
    requirements: tuple[str, ...]
    lock_text: bytes  # the pylock.toml
    wheels: tuple[LockedWheel, ...]


def lock_key(requirements: tuple[str, ...], exclude_newer: str, index_url: str) -> str:
    return LOCK_KEY + hashlib.sha256("\n".join([index_url, exclude_newer, PYTHON, PLATFORM, *requirements])
                                     .encode()).hexdigest()


def resolve(requirements: tuple[str, ...], exclude_newer: str | None, index_url: str, settings: Settings,
            cache: ContentCache) -> Resolution:
    """Resolve (or recall) the lock, then fetch every wheel it names (checked by its hash)."""
    if not requirements:
        return Resolution((), EMPTY_LOCK, ())
    requirements = tuple(index_requirement(r) for r in requirements)
    key = lock_key(requirements, exclude_newer or "", index_url)
    known = cache.recall_url(key)
    if known is not None and cache.has(known.sha256, known.size):
        text = cache.read_verified(known.sha256, known.size, "pylock.toml")
    elif settings.offline:
        raise FetchError(where("pylock.toml", "the build packages were never resolved for these inputs "
                                              "and --offline was given"))
    else:
        text = run_uv(requirements, exclude_newer, index_url, settings)
        _, digest = cache.add_bytes(text)
        cache.remember_url(key, digest)
    return Resolution(requirements, text, tuple(_fetch(p, cache, settings) for p in read_lock(text)))


def index_requirement(text: str) -> str:
    """A build requirement as one PEP 508 line for the index: never an option line for uv
    (``--index-url``, ``-r FILE``: the text comes from the sdist), never a direct URL."""
    try:
        req = Requirement(text)
    except InvalidRequirement:
        raise InputError(where("build requirement", f"{one_line(text[:100])!r} is not a PEP 508 requirement")) from None
    if req.url:
        raise InputError(where("build requirement", f"{one_line(text[:100])!r} names a URL, not a package on the index"))
    return str(req)


def run_uv(requirements: tuple[str, ...], exclude_newer: str | None, index_url: str, settings: Settings) -> bytes:
    """``uv pip compile`` in a clean environment: no configuration file, no UV_*/PIP_* variable."""
    uv = require("uv")
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pypi-resolve-", dir=settings.work_dir) as tmp:
        work = Path(tmp)
        (work / "requirements.in").write_text("".join(f"{r}\n" for r in requirements))
        argv = [uv, "pip", "compile", "--no-config", "--index-url", index_url, "--only-binary", ":all:",
                "--python-version", PYTHON, "--python-platform", PLATFORM, "--format", "pylock.toml",
                "--no-header", "--quiet", "--cache-dir", str(settings.cache_dir / "uv"),
                "-o", str(work / "pylock.toml"), str(work / "requirements.in")]
        if exclude_newer:
            argv[3:3] = ["--exclude-newer", exclude_newer]
        done = subprocess.run(argv, capture_output=True, text=True, env=_clean_env(work), timeout=UV_TIMEOUT)
        if done.returncode != 0:
            lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
            detail = " ".join(lines)[:400] or f"exit status {done.returncode}"
            raise BuildFailed(where("build packages", f"cannot resolve {', '.join(requirements)} as of "
                                                      f"{exclude_newer or 'today'}: {detail}"))
        return (work / "pylock.toml").read_bytes()


def _clean_env(home: Path) -> dict[str, str]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LC_ALL": "C.UTF-8"}
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):  # which certificates to trust, not where packages come from
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def read_lock(text: bytes) -> tuple[PinnedFile, ...]:
    """The one wheel per package the sandbox installs, from a pylock.toml (PEP 751)."""
    try:
        doc = tomllib.loads(text.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(where("pylock.toml", f"not valid TOML: {exc}")) from None
    if str(doc.get("lock-version", "")).split(".")[0] != "1":
        raise InputError(where("pylock.toml", f"unsupported lock-version {doc.get('lock-version')!r}"))
    return tuple(_wheel_of(p) for p in doc.get("packages", []))


def _wheel_of(package: dict) -> PinnedFile:
    name = package.get("name", "?")
    wheels = sorted((w for w in package.get("wheels", []) if _installable(w.get("url", ""))), key=_preference)
    if not wheels:
        raise BuildFailed(where("pylock.toml", f"build package {name} has no wheel for CPython {PYTHON} on {PLATFORM}"))
    w = wheels[0]
    if not is_remote(w["url"]):  # the lock comes from the index: never a local wheelhouse
        raise InputError(where("pylock.toml", f"build package {name}: its wheel is not at an http or https URL"))
    filename = w["url"].rsplit("/", 1)[-1]
    sha = w.get("hashes", {}).get("sha256")
    if not isinstance(sha, str) or not isinstance(w.get("size"), int):
        raise InputError(where("pylock.toml", f"build package {name}: its wheel has no sha256 or size"))
    return PinnedFile(filename, w["url"], sha, w["size"])


def _tags(url: str) -> set[tuple[str, str, str]]:
    try:
        return {(t.interpreter, t.abi, t.platform) for t in parse_wheel_filename(url.rsplit("/", 1)[-1])[3]}
    except InvalidWheelFilename:
        return set()


def _installable(url: str) -> bool:
    return any(i in ("py3", "py311", "cp311", "py2.py3") and a in ("none", "abi3", "cp311")
               and (p == "any" or (p.endswith(MACHINE) and ("linux" in p)))
               for i, a, p in _tags(url))


def _preference(wheel: dict) -> bool:
    return not any(p == "any" for _, _, p in _tags(wheel.get("url", "")))


def _fetch(pin: PinnedFile, cache: ContentCache, settings: Settings) -> LockedWheel:
    name, version, _, _ = parse_wheel_filename(pin.name)
    return LockedWheel(str(name), str(version), fetch_file(pin, cache, settings))
