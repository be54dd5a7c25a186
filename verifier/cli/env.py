"""`verifier env build` and `verifier env check`: build environments nobody has to take on
trust (docs/environments.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from verifier.cli.options import AllowPrivate, UnpackLimit, WorkDir, settings_from_options
from verifier.environments.lock import VARIANTS, EnvRequest, Pin, is_pin_list, load_lock, load_pin_list, parse_pins
from verifier.errors import InputError
from verifier.outcome import CommandStatus, CompareStatus
from verifier.printable import one_line

PackageCacheDir = Annotated[Optional[Path], typer.Option(
    "--cache-dir", help="Keep the downloaded .debs in this content-addressed cache and take the lock's from it.")]


def build_command(
    out: Annotated[Path, typer.Option("--out", help="The environment archive to write (.tar.zst).")],
    packages: Annotated[Optional[str], typer.Option("--packages", help="Exact packages NAME=VERSION[,NAME=VERSION…] on top of minbase.")] = None,
    lockfile: Annotated[Optional[Path], typer.Option("--lockfile", help="Rebuild what this env.lock.json records (every package at its locked version), or install a plain NAME=VERSION list (one a line).")] = None,
    suite: Annotated[Optional[str], typer.Option("--suite", help="Debian suite (default bookworm; with --lockfile: the lock's).")] = None,
    archive: Annotated[Optional[str], typer.Option("--archive", help="Mirror URL (default: this machine's apt sources; with --lockfile: the lock's).")] = None,
    source_date_epoch: Annotated[Optional[int], typer.Option("--source-date-epoch", help="Every timestamp in the rootfs is clamped to this (required without --lockfile).")] = None,
    lock: Annotated[Optional[Path], typer.Option("--lock", help="Where to write the lock (default: beside --out, NAME.lock.json).")] = None,
    work_dir: WorkDir = None,
    cache_dir: PackageCacheDir = None,
    allow_private_addresses: AllowPrivate = False,
    unpack_limit: UnpackLimit = None,
) -> CommandStatus:
    """Build a reproducible Debian rootfs archive from an exact package list, and its lock."""
    from verifier.cache import ContentCache
    from verifier.environments.build import PackageCache, build, lock_path_for  # libarchive, fetch: not at start-up

    settings = settings_from_options(work_dir=work_dir, allow_private_addresses=allow_private_addresses,
                                     unpack_limit=unpack_limit)
    request, versions = _request(packages, lockfile, suite, archive, source_date_epoch)
    locked = load_lock(lockfile).packages if lockfile is not None and not is_pin_list(lockfile) else ()
    packages_from = PackageCache(ContentCache(cache_dir), locked) if cache_dir is not None else None
    built = build(request, out, lock or lock_path_for(out), settings, versions=versions, locked=locked,
                  packages_from=packages_from)
    typer.echo(f"built {built.archive} (sha256 {built.lock.env_sha256}, {len(built.lock.packages)} packages)")
    typer.echo(f"lock: {built.lock_path}")
    return CommandStatus.DONE


def _request(packages: str | None, lockfile: Path | None, suite: str | None, archive: str | None,
             epoch: int | None) -> tuple[EnvRequest, tuple[Pin, ...]]:
    """What to build, and the exact versions it must install (a lock's every package)."""
    from verifier.environments.build import locked_versions

    if (packages is None) == (lockfile is None):
        raise InputError("env build: give --packages LIST or --lockfile FILE (one of them)")
    if lockfile is not None and not is_pin_list(lockfile):
        lock = load_lock(lockfile)
        locked = lock.request
        if epoch is not None and epoch != locked.source_date_epoch:
            raise InputError(f"--source-date-epoch {epoch}: the lock {lockfile} says {locked.source_date_epoch}")
        if suite is not None and suite != locked.suite:
            raise InputError(f"--suite {suite}: the lock {lockfile} says {locked.suite}")
        return EnvRequest(locked.suite, (archive or locked.archive).rstrip("/"), locked.variant,
                          locked.architecture, locked.source_date_epoch, locked.include), locked_versions(lock)
    from verifier.environments.build import native_architecture, system_archive

    if epoch is None or epoch < 0:
        raise InputError("env build: --source-date-epoch N (N >= 0) is required with --packages or a NAME=VERSION list")
    pins = load_pin_list(lockfile) if lockfile is not None else parse_pins(packages or "", "--packages")
    request = EnvRequest(suite or "bookworm", (archive or system_archive()).rstrip("/"), VARIANTS[0],
                         native_architecture(), epoch, pins)
    return request, pins


def check_command(
    archive: Annotated[Path, typer.Argument(help="The published environment archive (.tar.zst).")],
    lock: Annotated[Path, typer.Argument(help="Its env.lock.json.")],
    archive_url: Annotated[Optional[str], typer.Option("--archive", help="Another mirror of the lock's archive.")] = None,
    work_dir: WorkDir = None,
    cache_dir: PackageCacheDir = None,
    allow_private_addresses: AllowPrivate = False,
    unpack_limit: UnpackLimit = None,
) -> CompareStatus:
    """Rebuild an environment from its lock and compare: IDENTICAL (exit 0) or DIFFERENT (exit 1, explained)."""
    from verifier.cache import ContentCache
    from verifier.environments.check import check_environment, describe  # rebuild, auditor: not at start-up
    from verifier.render.text import tree_lines

    settings = settings_from_options(work_dir=work_dir, allow_private_addresses=allow_private_addresses,
                                     unpack_limit=unpack_limit)
    result = check_environment(archive, lock, settings, archive_url,
                               cache=ContentCache(cache_dir) if cache_dir is not None else None)
    if result.status is CompareStatus.IDENTICAL:
        typer.echo(f"IDENTICAL: {one_line(str(archive))} is what {one_line(str(lock))} rebuilds "
                   f"(sha256 {result.rebuilt_sha256})")
    else:
        typer.echo(f"DIFFERENT: {one_line(str(archive))} (sha256 {result.published_sha256}) is not what "
                   f"{one_line(str(lock))} rebuilds (sha256 {result.rebuilt_sha256})")
        typer.echo(f"files that differ ({len(result.files)}), published -> rebuilt:")
        for f in result.files:
            typer.echo(f"  {one_line(f.name)}  [package: {one_line(f.package)}]  {one_line(f.what)}")
    if result.packages:
        typer.echo("installed packages of the published rootfs (its var/lib/dpkg/status) against the lock:")
        for change in result.packages:
            typer.echo(f"  {one_line(describe(change, 'the published rootfs'))}")
    if result.status is CompareStatus.DIFFERENT and result.explanation is not None:
        typer.echo("the auditor's explanation:")
        typer.echo("\n".join(tree_lines(result.explanation)))
    if result.rebuild_drift:
        typer.echo("the rebuild installed other packages than the lock lists (the archive moved?):")
        for change in result.rebuild_drift:
            typer.echo(f"  {one_line(describe(change, 'the rebuild'))}")
    if result.locked_sha256 not in (result.published_sha256, result.rebuilt_sha256):
        typer.echo(f"note: the lock records sha256 {result.locked_sha256}, neither of the above")
    return result.status


def register(app: typer.Typer) -> None:
    env = typer.Typer(name="env", help="Build and check reproducible build environments.", no_args_is_help=True)
    env.command("build")(build_command)
    env.command("check")(check_command)
    app.add_typer(env, name="env")
