"""`verifier env build`: a Debian rootfs archive built by mmdebstrap from an exact package
list, authenticated through the archive's signed Release chain, normalised, and its
``env.lock.json``.

mmdebstrap with SOURCE_DATE_EPOCH clamps every mtime, leaves no apt lists, caches or logs
and no machine id; ``rootfs.normalisation_problems`` checks that it did. The build's apt
lists are copied out before mmdebstrap cleans them (a customize hook), so the lock records
the InRelease file apt authenticated and each installed .deb's digest from the signed
Packages index.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from verifier.atomic import write_bytes
from verifier.cache import ContentCache
from verifier.digests import digest_file
from verifier.environments.lock import ARCHIVE, MAX_EPOCH, VARIANTS, EnvLock, EnvRequest, InstalledPackage, Pin, lock_json
from verifier.environments.release import installed_packages, packages_index, release_record, sha256_file
from verifier.environments.rootfs import normalisation_problems, read_rootfs
from verifier.errors import FetchError, InfrastructureError, InputError, IntegrityError, where
from verifier.fetch.addresses import AddressPolicy, check_url
from verifier.settings import Settings
from verifier.tools import require

SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
QUERY = "${Package}\\t${Version}\\t${Architecture}\\n"
NOT_FOUND = (re.compile(r"E: Version '([^']+)' for '([^']+)' was not found"),
             re.compile(r"E: Unable to locate package (\S+)"),
             re.compile(r"E: Package '([^']+)' has no installation candidate"))
ZSTD_LEVEL = "-6"
PREFERENCES = "/etc/apt/preferences.d/verifier-pins"  # only while building: removed before the rootfs is packed
# apt chowns these to _apt only when _apt can reach the build directory (else it downloads
# unsandboxed as root): the owner would depend on the permissions of --work-dir's parents.
APT_PARTIAL = ("/var/lib/apt/lists/partial", "/var/cache/apt/archives/partial")


@dataclass(frozen=True)
class BuiltEnvironment:
    archive: Path
    lock_path: Path
    lock: EnvLock


class PinUnavailable(InputError):
    """The archive does not (or no longer) offer a package at the version asked for (exit 2)."""


def system_archive(sources: tuple[Path, ...] = SOURCES) -> str:
    """The Debian mirror of this machine's apt sources (never a name written in the code)."""
    files = [p for s in sources if s.exists() for p in ([s] if s.is_file() else sorted(s.iterdir()))
             if p.suffix in (".list", ".sources")]
    for path in files:
        for line in path.read_text("utf-8", "replace").splitlines():
            words = line.split()
            if words[:1] == ["URIs:"] or words[:1] == ["deb"]:
                for url in words[1:]:
                    if url.startswith(("http://", "https://")) and re.search(r"/debian/?$", url):
                        return url.rstrip("/")
    raise InputError("no Debian mirror found in this machine's apt sources; give --archive URL")


def native_architecture() -> str:
    return subprocess.run([require("dpkg"), "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()


def check_archive(url: str, settings: Settings) -> None:
    """The mirror's URL (a plain URL: no space, newline or option for mmdebstrap to read as
    sources.list lines) and every address it resolves to, by the fetch address policy."""
    if not ARCHIVE.fullmatch(url):
        raise InputError(where("--archive", f"not a plain http(s) mirror URL: {url[:80]!r}"))
    check_url(url, "--archive")
    parts = urlsplit(url)
    try:
        AddressPolicy(allow_private=settings.fetch.allow_private_addresses).resolve(
            parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    except OSError as exc:
        raise FetchError(where(url, f"cannot resolve the archive's host ({exc})")) from None


def lock_path_for(out: Path) -> Path:
    name = out.name
    for suffix in (".tar.zst", ".tar.gz", ".tar.xz", ".tar"):
        if name.endswith(suffix):
            return out.with_name(name[: -len(suffix)] + ".lock.json")
    return out.with_name(name + ".lock.json")


def rebuild_command(lock_path: Path, out: Path) -> str:
    return f"verifier env build --lockfile {shlex.quote(lock_path.name)} --out {shlex.quote(out.name)}"


def build_environment(pins: tuple[Pin, ...], out: Path, settings: Settings, *, source_date_epoch: int,
                      suite: str = "bookworm", archive: str | None = None,
                      lock_path: Path | None = None) -> BuiltEnvironment:
    """The library entry point: a rootfs archive at ``out`` (and its lock, beside it unless
    ``lock_path``) holding minbase plus exactly ``pins`` (e.g. a .buildinfo's
    Installed-Build-Depends), every pinned package at exactly its version, minbase's own
    included (``PinUnavailable``, exit 2, when the archive lacks one)."""
    request = EnvRequest(suite, (archive or system_archive()).rstrip("/"), VARIANTS[0], native_architecture(),
                         source_date_epoch, tuple(sorted(pins, key=lambda p: p.name)))
    return build(request, out, lock_path or lock_path_for(out), settings, versions=pins)


def locked_versions(lock: EnvLock) -> tuple[Pin, ...]:
    """Every package a lock records, as the exact versions a rebuild must install."""
    return tuple(sorted({Pin(p.name, p.version) for p in lock.packages}, key=lambda p: p.name))


@dataclass(frozen=True)
class PackageCache:
    """.debs kept between builds in the content-addressed cache, named by their sha256 and
    re-hashed on use. Only a .deb whose digest a lock (from the signed index) names is put
    back, so a poisoned cache cannot slip a package in: apt itself only checks the size of a
    .deb it finds in /var/cache/apt/archives."""

    cache: ContentCache
    known: tuple[InstalledPackage, ...] = ()  # the lock's packages, with their .debs' digests


def build(request: EnvRequest, out: Path, lock_path: Path, settings: Settings, *,
          versions: tuple[Pin, ...] = (), packages_from: PackageCache | None = None,
          locked: tuple[InstalledPackage, ...] = ()) -> BuiltEnvironment:
    """Build ``request`` into ``out`` and write its lock at ``lock_path``. ``versions``: the exact
    version every named package must be installed at, minbase's own included (apt
    preferences while building, checked afterwards; the include pins always are): a rebuild
    from a lock passes every package the lock records, so a point release is an error
    (``PinUnavailable``), never a silent change. ``packages_from``: a package cache to take
    the lock's .debs from and to keep the downloaded ones in. ``locked``: a lock's packages,
    each pinned at its version and its .deb's digest checked against the signed index
    (another digest: ``IntegrityError``, exit 4, before anything is written)."""
    _check_targets(out, lock_path)
    if not 0 <= request.source_date_epoch <= MAX_EPOCH:
        raise InputError(where("--source-date-epoch", f"{request.source_date_epoch} is not between 0 and {MAX_EPOCH}"))
    versions = exact_versions(request.include, versions + tuple(Pin(p.name, p.version) for p in locked))
    check_archive(request.archive, settings)
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="env-build-", dir=settings.work_dir) as tmp:
        work = Path(tmp)
        tar = _mmdebstrap(request, work, versions, _stage(packages_from, work))
        compressed = work / "env.tar.zst"
        _compress(tar, compressed)
        problems = normalisation_problems(read_rootfs(compressed, settings.unpack), request.source_date_epoch)
        if problems:
            raise InfrastructureError(f"the built environment is not normalised: {problems[0]}"
                                      f"{f' (and {len(problems) - 1} more)' if len(problems) > 1 else ''}")
        index = packages_index(work / "lists")
        packages = installed_packages((work / "installed.tsv").read_text("utf-8", "replace"), index,
                                      request.architecture)
        _check_pins(request.include, packages)
        _check_versions(versions, packages, index, request)
        _check_digests(locked, packages, request)
        _keep(packages_from, work / "debs-out", packages)
        lock = EnvLock(request, release_record(work / "lists"), packages, sha256_file(compressed),
                       _tools(), rebuild_command(lock_path, out))
        out.parent.mkdir(parents=True, exist_ok=True)
        os.replace(compressed, out) if _same_fs(compressed, out) else write_bytes(out, compressed.read_bytes())
    write_bytes(lock_path, lock_json(lock))
    return BuiltEnvironment(out, lock_path, lock)


def _check_targets(out: Path, lock_path: Path) -> None:
    """Before a minute of building: the archive and its lock replace regular files only (a
    directory, or a device such as /dev/null, is never replaced, as root) and not each other."""
    if out.absolute() == lock_path.absolute():
        raise InputError(where(out, "the environment archive and its lock would be the same file"))
    for path in (out, lock_path):
        if not path.is_symlink() and path.exists() and not path.is_file():
            raise InputError(where(path, "exists and is not a regular file; it is not replaced"))


def _same_fs(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.parent.stat().st_dev


def exact_versions(include: tuple[Pin, ...], versions: tuple[Pin, ...]) -> tuple[Pin, ...]:
    """The include pins are exact versions too (an essential package pinned by a .buildinfo
    must not be installed first at the archive's candidate); ``versions`` win for a name."""
    merged = {p.name: p for p in include} | {p.name: p for p in versions}
    return tuple(merged[name] for name in sorted(merged))


def preferences(versions: tuple[Pin, ...]) -> str:
    """apt preferences making each pinned version the only candidate apt will pick."""
    return "".join(f"Package: {p.name}\nPin: version {p.version}\nPin-Priority: 1001\n\n" for p in versions)


def deb_name(p: InstalledPackage) -> str:
    """The file name apt gives a package in /var/cache/apt/archives (an epoch's ':' as %3a)."""
    return f"{p.name}_{p.version.replace(':', '%3a')}_{p.architecture}.deb"


def _stage(packages: PackageCache | None, work: Path) -> Path | None:
    """The cached .debs of the lock's packages, each re-hashed, under their apt names."""
    if packages is None:
        return None
    staged = work / "debs-in"
    staged.mkdir()
    (work / "debs-out").mkdir()
    for p in packages.known:
        entry = packages.cache.entry_path(p.sha256)
        if packages.cache.has(p.sha256):
            size = entry.lstat().st_size
            source = packages.cache.verified_path(p.sha256, size, deb_name(p))
            shutil.copyfile(source, staged / deb_name(p))
    return staged


def _keep(packages: PackageCache | None, synced: Path, installed: tuple[InstalledPackage, ...]) -> None:
    """Downloaded .debs whose digest the signed index gave an installed package, into the cache."""
    if packages is None:
        return
    wanted = {p.sha256 for p in installed}
    for deb in sorted(synced.glob("*.deb")):
        if deb.is_symlink() or not deb.is_file():
            continue
        sha256 = digest_file(deb).sha256
        if sha256 in wanted and not packages.cache.has(sha256):
            packages.cache.add_file(deb)


def _mmdebstrap(request: EnvRequest, work: Path, versions: tuple[Pin, ...] = (), debs: Path | None = None) -> Path:
    lists, installed, tar = work / "lists", work / "installed.tsv", work / "rootfs.tar"
    lists.mkdir()
    args = [require("mmdebstrap"), f"--variant={request.variant}", f"--architectures={request.architecture}",
            "--format=tar"]
    if versions:
        prefs = work / "preferences"
        prefs.write_text(preferences(versions), "utf-8")
        args += [f"--setup-hook=mkdir -p \"$1/etc/apt/preferences.d\" && cp {shlex.quote(str(prefs))} \"$1{PREFERENCES}\"",
                 f"--customize-hook=rm -f \"$1{PREFERENCES}\""]
    if debs is not None:  # a package cache: .debs in before the download, all of them out before cleanup
        args += ["--skip=essential/unlink", "--setup-hook=mkdir -p \"$1/var/cache/apt/archives/\"",
                 f"--setup-hook=sync-in {shlex.quote(str(debs))} /var/cache/apt/archives/",
                 f"--customize-hook=sync-out /var/cache/apt/archives {shlex.quote(str(work / 'debs-out'))}"]
    args += [f"--customize-hook=sync-out /var/lib/apt/lists {shlex.quote(str(lists))}",
            f"--customize-hook=chroot \"$1\" dpkg-query -W -f='{QUERY}' > {shlex.quote(str(installed))}",
            f"--customize-hook=chroot \"$1\" chown _apt:root {' '.join(APT_PARTIAL)}"]
    if request.include:
        args.append("--include=" + ",".join(str(p) for p in request.include))
    args += [request.suite, str(tar), request.archive]
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(request.source_date_epoch), "LC_ALL": "C.UTF-8",
           "TMPDIR": str(work)}  # mmdebstrap's chroot is made in the build's own work directory
    run = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if run.returncode != 0:
        raise _failure(request, run.stderr)
    return tar


def _failure(request: EnvRequest, stderr: str) -> Exception:
    for pattern in NOT_FOUND:
        match = pattern.search(stderr)
        if match:
            what = "=".join(reversed(match.groups())) if len(match.groups()) == 2 else match.group(1)
            return PinUnavailable(where(f"{request.archive} {request.suite}", f"the archive has no package {what}"))
    errors = [line for line in stderr.splitlines() if line.startswith(("E:", "W:", "mmdebstrap:"))] or stderr.splitlines()
    return InfrastructureError(f"mmdebstrap failed for {request.suite} from {request.archive}: "
                               f"{(errors or ['no message'])[-1][:300]}")


def _compress(tar: Path, out: Path) -> None:
    """zstd, one thread, a fixed level: the same tar always gives the same bytes."""
    run = subprocess.run([require("zstd"), "-q", ZSTD_LEVEL, "-T1", "-f", str(tar), "-o", str(out)],
                         capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise InfrastructureError(f"zstd failed compressing the environment: {run.stderr.strip()[:200]}")
    tar.unlink()


def _check_pins(pins: tuple[Pin, ...], packages: tuple) -> None:
    have = {p.name: p.version for p in packages}
    for pin in pins:
        if have.get(pin.name) != pin.version:
            raise InputError(f"{pin}: asked for, but the environment has {pin.name}={have.get(pin.name, 'nothing')}")


def _check_versions(versions: tuple[Pin, ...], packages: tuple, index: dict[tuple[str, str, str], object],
                    request: EnvRequest) -> None:
    """Every pinned version installed; one the archive no longer offers is named."""
    have = {p.name: p.version for p in packages}
    offered = {(name, version) for name, version, _ in index}
    for pin in versions:
        if have.get(pin.name) == pin.version:
            continue
        place = f"{request.archive} {request.suite}"
        if (pin.name, pin.version) not in offered:
            now = sorted(v for n, v in offered if n == pin.name)
            raise PinUnavailable(where(place, f"the archive no longer has package {pin} "
                                              f"(it has {', '.join(now) or 'no such package'})"))
        raise PinUnavailable(where(place, f"{pin} was asked for, but the build installed "
                                          f"{pin.name}={have.get(pin.name, 'nothing')}"))


def _check_digests(locked: tuple[InstalledPackage, ...], packages: tuple[InstalledPackage, ...],
                   request: EnvRequest) -> None:
    """A package at its locked version whose .deb the signed index gives another sha256 than
    the lock records: the archive or the lock was tampered with."""
    have = {(p.name, p.version, p.architecture): p.sha256 for p in packages}
    for p in locked:
        now = have.get((p.name, p.version, p.architecture))
        if now is not None and now != p.sha256:
            raise IntegrityError(where(f"{request.archive} {request.suite}",
                                       f"{p.name}={p.version} ({p.architecture}): the signed index gives its .deb "
                                       f"sha256 {now}, the lock records {p.sha256}"))


def _tools() -> tuple[tuple[str, str], ...]:
    versions = []
    for tool, args in (("mmdebstrap", ["--version"]), ("zstd", ["--version"])):
        out = subprocess.run([require(tool), *args], capture_output=True, text=True, check=False).stdout
        versions.append((tool, (out.strip().splitlines() or ["unknown"])[0]))
    return tuple(versions)
