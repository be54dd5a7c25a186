"""`verifier lock`: the online step that produces a lockfile for a Debian build.

In a container of the base environment that IS allowed the network (the only place
verifier lets a build environment online), apt resolves what must be added to the base:
extra packages (e.g. build-essential) and, for a source package, its build dependencies.
apt downloads them, checking them against the archive's signed indexes; verifier then
hashes each downloaded file, checks its control fields, stores it in the cache and writes
a verifier lockfile pinning name, version, architecture, URL, size and sha256. With a
source package name, the source files are fetched too (``apt-get source``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from verifier.atomic import copy_file, write_bytes
from verifier.cache import ContentCache
from verifier.errors import InputError, SandboxError, where
from verifier.manifest import Environment
from verifier.packages.deb import control_fields, identity
from verifier.packages.interface import LockedEnvironment, LockedPackage
from verifier.packages.lockfile import native
from verifier.sandbox.environment import prepare_environment
from verifier.sandbox.podman import Podman, last_line
from verifier.sandbox.runtime import ulimit_flags
from verifier.settings import Settings
from verifier.stages import CachedFile
from verifier.status import StatusLine

URI_LINE = re.compile(r"^'(?P<url>[^']+)' (?P<file>\S+) (?P<size>\d+) (?P<hash>\S+)$")
PACKAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:-]+)?$")


@dataclass(frozen=True)
class LockRequest:
    environment: Path
    out_dir: Path
    packages: tuple[str, ...] = ()  # extra packages, e.g. build-essential
    source: str | None = None  # a source package name for `apt-get source`
    dsc: Path | None = None  # or a local .dsc (with its files beside it)
    pins: tuple[str, ...] = ()  # exact name=version pins, e.g. from an official .buildinfo


@dataclass(frozen=True)
class LockOutcome:
    lockfile: Path
    locked: LockedEnvironment
    sources: tuple[Path, ...]


def _script(request: LockRequest) -> str:
    for name in (*request.packages, *request.pins, *([request.source] if request.source else [])):
        if not PACKAGE_NAME.match(name):
            raise InputError(f"lock: {name!r} is not a Debian package name")
    apt = "apt-get -q -y -o APT::Sandbox::User=root --no-install-recommends"
    extra = " ".join(shlex.quote(p) for p in request.packages)
    lines = ["set -e", "apt-get -q update > /dev/null"]
    if extra:
        lines += [f"{apt} install --print-uris {extra} > /out/uris.txt",
                  f"{apt} install {extra} > /dev/null"]
    if request.source:
        lines += ["sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > /etc/apt/sources.list.d/verifier-src.list",
                  "apt-get -q update > /dev/null",
                  f"cd /out/source && apt-get -q -o APT::Sandbox::User=root source --download-only {shlex.quote(request.source)} > /dev/null",
                  "cd /", "dsc=$(ls /out/source/*.dsc | head -n1)"]
    elif request.dsc:
        lines += [f"dsc=/in/{shlex.quote(request.dsc.name)}"]
    if request.source or request.dsc:
        lines += [f'{apt} build-dep --print-uris "$dsc" >> /out/uris.txt',
                  f'{apt} build-dep --download-only "$dsc" > /dev/null']
    if extra:
        lines += [f"{apt} install --download-only --reinstall {extra} > /dev/null"]
    if request.pins:
        pins = " ".join(shlex.quote(p) for p in request.pins)
        lines += [f"cd /out/debs && apt-get -q -o APT::Sandbox::User=root download --print-uris {pins} >> /out/uris.txt",
                  f"apt-get -q -o APT::Sandbox::User=root download {pins} > /dev/null", "cd /"]
    lines += ["cp /var/cache/apt/archives/*.deb /out/debs/ 2>/dev/null || true", "touch /out/uris.txt"]
    return "\n".join(lines) + "\n"


def _run_online(podman: Podman, env_image: str, runtime: str, request: LockRequest, work: Path,
                settings: Settings) -> None:
    argv = ["--runtime", runtime, "run", "--rm", "--name", f"verifier-lock-{secrets.token_hex(6)}",
            "--network=host", *ulimit_flags(settings), "--unsetenv-all", "--env", "DEBIAN_FRONTEND=noninteractive",
            "--env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "--mount", f"type=bind,source={work},destination=/out"]
    if request.dsc:
        argv += ["--mount", f"type=bind,source={request.dsc.parent.resolve()},destination=/in,readonly=true"]
    (work / "lock.sh").write_text(_script(request))
    argv += ["--entrypoint", "/bin/sh", env_image, "/out/lock.sh"]
    done = podman.run(argv, check=False, timeout=3600, what="lock")
    if done.returncode != 0:
        raise InputError(f"lock: apt could not resolve the build environment: {last_line(done.stderr)}")


def _parse_uris(path: Path) -> list[dict[str, str]]:
    entries, seen = [], set()
    for line in path.read_text().splitlines():
        m = URI_LINE.match(line.strip())
        if m and m["file"] not in seen:
            seen.add(m["file"])
            entries.append(m.groupdict())
    return entries


def _locked_package(entry: dict[str, str], debs: Path, cache: ContentCache) -> LockedPackage:
    deb = debs / entry["file"]
    if not deb.is_file():
        raise SandboxError(f"lock: apt did not download {entry['file']}")
    algorithm, _, expected = entry["hash"].partition(":")
    names = {"MD5Sum": "md5", "SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}
    if algorithm in names:
        with open(deb, "rb") as f:
            if hashlib.file_digest(f, names[algorithm]).hexdigest() != expected.lower():
                raise InputError(where(entry["file"], f"downloaded file does not match apt's index ({algorithm})"))
    path, digest = cache.add_file(deb)
    name, version, architecture = identity(control_fields(path, entry["file"]), entry["file"])
    return LockedPackage(name, version, architecture, unquote(entry["url"]), digest.size, digest.sha256)


def _environment_image(request: LockRequest, cache: ContentCache, podman: Podman,
                       settings: Settings) -> tuple[str, str]:
    if not request.environment.is_file():
        raise InputError(where(request.environment, "no such file (--env)"))
    entry, digest = cache.add_file(request.environment)
    pin = Environment(name=request.environment.name, url=request.environment.resolve().as_uri(),
                      sha256=digest.sha256, size=digest.size, format="rootfs")
    env = prepare_environment(podman, CachedFile(pin, entry), settings)
    return env.image, env.runtime.name


def _write_outputs(locked: LockedEnvironment, work: Path, out_dir: Path) -> tuple[Path, tuple[Path, ...]]:
    """lock.json, and the source package's files as apt fetched them (plain files only)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lockfile = out_dir / "lock.json"
    write_bytes(lockfile, native.dump(locked))
    sources = []
    for src in sorted((work / "source").iterdir()):
        if src.is_file() and not src.is_symlink():
            copy_file(src, out_dir / src.name)
            sources.append(out_dir / src.name)
    return lockfile, tuple(sources)


def lock(request: LockRequest, settings: Settings, cache: ContentCache, podman: Podman) -> LockOutcome:
    """``podman`` runs the one online container; it is not a Sandbox (the network is on)."""
    status = StatusLine(settings.progress)
    with status.step("preparing the build environment"):
        image, runtime = _environment_image(request, cache, podman, settings)
    work = settings.work_dir.resolve() / f"lock-{secrets.token_hex(4)}"
    for sub in ("debs", "source"):
        (work / sub).mkdir(parents=True)
    try:
        with status.step("resolving and downloading the build dependencies (online)"):
            _run_online(podman, image, runtime, request, work, settings)
        packages = [_locked_package(e, work / "debs", cache) for e in _parse_uris(work / "uris.txt")]
        locked = LockedEnvironment("apt", tuple(sorted(packages, key=lambda p: p.key)))
        lockfile, sources = _write_outputs(locked, work, request.out_dir)
        return LockOutcome(lockfile, locked, sources)
    finally:
        shutil.rmtree(work, ignore_errors=True)
