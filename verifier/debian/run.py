"""`verifier debian`: the named steps from a package name or a .buildinfo to a report.

open the archive (signed chain) -> read the .buildinfo (signature) -> plan -> environment
and lockfile -> write release.json + lock.json beside the report -> the verify pipeline
-> keep the rebuilt files under their real names -> the report's ``debian`` section.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from verifier.atomic import write_bytes
from verifier.cache import ContentCache
from verifier.debian import plan as planning
from verifier.debian.archive import KEYRING, Archive, open_archive
from verifier.debian.buildinfo import MAX_BYTES, OfficialBuild, Signature, load as load_buildinfo
from verifier.debian.changelog import source_date_epoch
from verifier.debian.command import KEPT, build_command
from verifier.debian.environment import environment_for, pinned_lockfile, resolved_lockfile
from verifier.environments.build import check_archive, native_architecture, system_archive
from verifier.errors import InputError, where
from verifier.fetch import fetch_file, fetch_unpinned, is_remote
from verifier.files import read_limited
from verifier.manifest import BuildSpec, Environment, Lockfile, PinnedFile, ReleaseManifest, Source, to_document
from verifier.digests import digest_file
from verifier.pipeline import VerifyOptions, VerifyOutcome, verify
from verifier.report.codec import dump_report, load_report
from verifier.report.model import ArchiveRecord, DebianRecord, Report
from verifier.sandbox.interface import Sandbox
from verifier.sandbox.podman import Podman
from verifier.settings import Settings
from verifier.status import StatusLine

KEPT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+~_-]*\.(deb|ddeb|udeb|buildinfo|changes)$")
MAX_KEPT_BYTES = 4 << 30
RE_RESOLVED = ("the build environment was re-resolved today (no .buildinfo given): it is not the original "
               "build's environment")


@dataclass(frozen=True)
class DebianRequest:
    target: str | None  # SOURCE[=VERSION]
    buildinfo: str | None  # a local path or URL
    buildinfo_keyring: Path | None = None
    binaries: tuple[str, ...] = ()
    archive: str | None = None
    suite: str = "bookworm"
    env: Path | None = None  # a base environment instead of one made for the job
    archive_keyring: Path = KEYRING


def verify_debian(request: DebianRequest, settings: Settings, cache: ContentCache, sandbox: Sandbox,
                  podman: Podman, options: VerifyOptions) -> VerifyOutcome:
    if request.target is None and request.buildinfo is None:
        raise InputError("debian: give SOURCE[=VERSION] or --buildinfo FILE")
    if settings.offline:
        return _offline(request, settings, cache, sandbox, options)
    status = StatusLine(settings.progress)
    url = (request.archive or system_archive()).rstrip("/")
    if is_remote(url):
        check_archive(url, settings)
    with status.step("reading the archive's signed indexes"):
        archive = open_archive(url, request.suite, native_architecture(), settings, cache, request.archive_keyring)
    official, raw = _official(request, settings) if request.buildinfo else (None, b"")
    plan = make_plan(request, archive, official, settings, cache)
    run_dir = settings.work_dir / f"{plan.source.name}-{plan.source.version}"
    with status.step("preparing the build environment"):
        env, lockfile = _environment(request, plan, archive, settings, cache, podman)
    manifest = _write_release(plan, run_dir, env, lockfile, official, raw)
    options = dataclasses.replace(options, unavailable=plan.unavailable, report_path=options.report_path or
                                  run_dir / "report.json")
    outcome = verify(str(manifest), settings, sandbox, cache, options)
    kept = _keep_rebuilt(outcome.report, run_dir / "rebuilt")
    return _finish(outcome, _record(plan, archive, official, request, kept))


def _official(request: DebianRequest, settings: Settings) -> tuple[OfficialBuild, bytes]:
    place = request.buildinfo or ""
    if is_remote(place):
        tmp = settings.work_dir / f".buildinfo-{os.getpid()}"
        settings.work_dir.mkdir(parents=True, exist_ok=True)
        try:
            fetch_unpinned(place, "buildinfo", MAX_BYTES + 1, tmp, settings)
            data = tmp.read_bytes()
        finally:
            tmp.unlink(missing_ok=True)
    else:
        data = read_limited(Path(place), MAX_BYTES, "buildinfo", place)
    return load_buildinfo(data, place, request.buildinfo_keyring), data


def make_plan(request: DebianRequest, archive: Archive, official: OfficialBuild | None, settings: Settings,
          cache: ContentCache) -> planning.DebianPlan:
    target = planning.parse_target(request.target) if request.target else None
    if official is not None:
        if target and (target.source != official.source or target.version not in (None, official.version)):
            raise InputError(where(official.place, f"it is for {official.source} {official.version}, "
                                                   f"not {request.target}"))
        target = planning.Target(official.source, official.version)
    assert target is not None
    source = archive.source(target.source, target.version)
    if official is not None:
        planning.check_dsc(source, official)
    binaries = planning.select_binaries(archive, source, official, request.binaries)
    for binary in binaries:  # the official .debs, checked against the signed index before anything is built
        fetch_file(binary.pin, cache, settings)
    files = {pin.name: fetch_file(pin, cache, settings).path for pin in source.files}
    epoch = (official.source_date_epoch if official else None) or source_date_epoch(files, source.dsc.name)
    pins, missing = planning.environment_pins(archive, official)
    return planning.DebianPlan(
        source=source, binaries=binaries, build_flag=planning.build_flag(binaries),
        build_path=(official.build_path if official else None) or planning.default_build_path(source),
        source_date_epoch=epoch, variables=planning.variables(official), official=official, pins=pins,
        extra=planning.extra_pins(archive, pins), missing=missing)


def _environment(request: DebianRequest, plan: planning.DebianPlan, archive: Archive, settings: Settings,
                 cache: ContentCache, podman: Podman) -> tuple[Path, bytes]:
    if request.env is not None and not request.env.is_file():
        raise InputError(where(request.env, "no such file (--env)"))
    env = request.env or environment_for(plan.pins + plan.extra, archive.chain, archive.architecture, settings)[0]
    if plan.official is not None:
        return env, pinned_lockfile(plan.pins)
    return env, resolved_lockfile(env, plan.source.files, plan.source.dsc.name, archive.chain.release_sha256,
                                  settings, cache, podman)


def _pin_local(path: Path, name: str, cls: type = PinnedFile, **extra: object) -> PinnedFile:
    digest = digest_file(path)
    return cls(name=name, url=path.resolve().as_uri(), sha256=digest.sha256, size=digest.size, **extra)


def _write_release(plan: planning.DebianPlan, run_dir: Path, env: Path, lockfile: bytes,
                   official: OfficialBuild | None, raw: bytes) -> Path:
    """release.json and lock.json beside the report: `verifier verify --offline` repeats the run."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "environment").mkdir(exist_ok=True)
    env_copy = run_dir / "environment" / env.name
    if not env_copy.exists():
        _link_or_copy(env, env_copy)
    write_bytes(run_dir / "lock.json", lockfile)
    buildinfo = None
    if official is not None:
        copy = run_dir / "official" / f"{official.source}_{official.version.split(':')[-1]}.buildinfo"
        copy.parent.mkdir(exist_ok=True)
        write_bytes(copy, raw)
        buildinfo = _pin_local(copy, copy.name)
    tree = plan.build_path.rsplit("/", 1)
    manifest = ReleaseManifest(
        name=plan.source.name, version=plan.source.version,
        environment=_pin_local(env_copy, env_copy.name, Environment, format="rootfs"),
        lockfile=_pin_local(run_dir / "lock.json", "lock.json", Lockfile, format="verifier"),
        sources=tuple(Source(p.name, p.url, p.sha256, p.size, unpack=False) for p in plan.source.files),
        build=BuildSpec(command=build_command(plan.source.dsc.name, tree[1], plan.build_flag), workdir=tree[0],
                        outputs=tuple(b.pin.name for b in plan.binaries), source_date_epoch=plan.source_date_epoch,
                        variables=dict(plan.variables)),
        artifacts=tuple(b.pin for b in plan.binaries), location=str(run_dir / "release.json"),
        official_buildinfo=buildinfo, unavailable=plan.unavailable)
    document = to_document(manifest, relative_to=run_dir.resolve().as_uri() + "/")  # local files by relative URL
    write_bytes(run_dir / "release.json", (json.dumps(document, indent=2, sort_keys=True) + "\n").encode())
    return run_dir / "release.json"


def _link_or_copy(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def _keep_rebuilt(report: Report, dest: Path) -> tuple[str, ...]:
    """The rebuild's .debs, -dbgsym packages, .buildinfo and .changes, under their real names
    (names checked by a pattern; regular files only, never through a link)."""
    if report.build.log is None:
        return ()
    kept_dir = Path(report.build.log).parent / "meta" / KEPT.rsplit("/", 1)[-1]
    if not kept_dir.is_dir():
        return ()
    dest.mkdir(parents=True, exist_ok=True)
    kept, total = [], 0
    for entry in sorted(os.scandir(kept_dir), key=lambda e: e.name):
        info = entry.stat(follow_symlinks=False)
        if not KEPT_NAME.match(entry.name) or not stat.S_ISREG(info.st_mode):
            continue
        total += info.st_size
        if total > MAX_KEPT_BYTES:
            break
        fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as src, open(dest / entry.name, "wb") as out:
            shutil.copyfileobj(src, out)
        kept.append(str(dest / entry.name))
    return tuple(kept)


def _record(plan: planning.DebianPlan, archive: Archive, official: OfficialBuild | None, request: DebianRequest,
            kept: tuple[str, ...]) -> DebianRecord:
    c = archive.chain
    signature = official.signature if official else Signature("none", "")
    return DebianRecord(
        source=plan.source.name, version=plan.source.version,
        archive=ArchiveRecord(c.url, c.suite, c.release_sha256, c.date, c.signed_by, c.keyring),
        environment=plan.environment_origin, buildinfo=request.buildinfo, buildinfo_signature=signature.status,
        signature_detail=signature.detail, missing_packages=plan.missing, rebuilt_files=kept)


def _finish(outcome: VerifyOutcome, record: DebianRecord) -> VerifyOutcome:
    reasons = outcome.report.reasons
    if record.environment == "re-resolved" and RE_RESOLVED not in reasons:
        reasons = (*reasons, RE_RESOLVED)
    report = dataclasses.replace(outcome.report, reasons=reasons, debian=record)
    dump_report(report, outcome.report_path)
    return VerifyOutcome(report, dataclasses.replace(outcome.verdict, reasons=reasons), outcome.report_path)


def _offline(request: DebianRequest, settings: Settings, cache: ContentCache, sandbox: Sandbox,
             options: VerifyOptions) -> VerifyOutcome:
    """--offline: repeat a run whose release.json is in the work dir, from the cache only."""
    target = planning.parse_target(request.target or "")
    if target.version is None:
        raise InputError(f"debian --offline: give SOURCE=VERSION ({request.target} has no version)")
    run_dir = settings.work_dir / f"{target.source}-{target.version}"
    manifest = run_dir / "release.json"
    if not manifest.is_file():
        raise InputError(where(manifest, "no earlier run of this package to repeat offline (run it once online)"))
    previous = run_dir / "report.json"
    record = load_report(previous).debian if previous.is_file() else None
    options = dataclasses.replace(options, report_path=options.report_path or previous,
                                  unavailable=record.missing_packages if record else ())
    outcome = verify(str(manifest), settings, sandbox, cache, options)
    if record is None:
        return outcome
    return _finish(outcome, dataclasses.replace(record, rebuilt_files=_keep_rebuilt(outcome.report, run_dir / "rebuilt")))
