"""`verifier publish`: run the official build in the sandbox and write the release directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from verifier.cli.options import (
    AllowPrivate, CacheDir, DownloadDeadline, MinDownloadRate, Offline, Runtime, UnpackLimit, WorkDir,
    parse_variables, settings_from_options,
)
from verifier.errors import InputError
from verifier.outcome import CommandStatus
from verifier.printable import one_line
from verifier.settings import Settings

MAX_LISTED = 50  # artifacts printed; release.json lists them all


def publish_command(
    build: Annotated[str, typer.Option("--build", help="Build command, run by /bin/sh -c in the workdir.")],
    output: Annotated[list[str], typer.Option("--output", help="Glob of the artifacts, relative to the workdir (repeatable).")],
    source_date_epoch: Annotated[int, typer.Option("--source-date-epoch", help="SOURCE_DATE_EPOCH of the build (and of an --env-packages environment).")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the release into.")],
    env: Annotated[Optional[Path], typer.Option("--env", help="Build environment archive (rootfs tar[.gz|.xz|.zst], or an OCI/docker archive).")] = None,
    env_lock: Annotated[Optional[Path], typer.Option("--env-lock", help="The environment's env.lock.json (verifier env build): published beside it, named in release.json.")] = None,
    env_packages: Annotated[Optional[str], typer.Option("--env-packages", help="Instead of --env: build the environment with `env build` from NAME=VERSION[,…] (its lock is published).")] = None,
    env_suite: Annotated[str, typer.Option("--env-suite", help="Debian suite of an --env-packages environment.")] = "bookworm",
    env_archive: Annotated[Optional[str], typer.Option("--env-archive", help="Mirror URL for --env-packages (default: this machine's apt sources).")] = None,
    source: Annotated[Optional[list[Path]], typer.Option("--source", help="Source archive, unpacked into the workdir (repeatable).")] = None,
    copy_source: Annotated[Optional[list[Path]], typer.Option("--copy-source", help="Source file copied into the workdir as is (repeatable).")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Release name (default: the first source's name).")] = None,
    version: Annotated[str, typer.Option("--version", help="Release version.")] = "0",
    env_format: Annotated[str, typer.Option("--env-format", help="rootfs, oci-archive or docker-archive.")] = "rootfs",
    workdir: Annotated[str, typer.Option("--workdir", help="Build directory inside the sandbox.")] = "/build/src",
    var: Annotated[Optional[list[str]], typer.Option("--var", help="Build variable NAME=VALUE (repeatable).")] = None,
    lockfile: Annotated[Optional[Path], typer.Option("--lockfile", help="Lockfile of the environment's packages.")] = None,
    lockfile_format: Annotated[str, typer.Option("--lockfile-format", help="verifier, buildinfo or mock.")] = "verifier",
    cache_dir: CacheDir = None,
    work_dir: WorkDir = None,
    offline: Offline = False,
    runtime: Runtime = "auto",
    unpack_limit: UnpackLimit = None,
    allow_private_addresses: AllowPrivate = False,
    download_deadline: DownloadDeadline = None,
    min_download_rate: MinDownloadRate = None,
) -> CommandStatus:
    """Run the official build in the sandbox and write release.json with every pin."""
    from verifier.cache import ContentCache
    from verifier.publish import PublishRequest, publish
    from verifier.sandbox.backends import open_sandbox

    settings = settings_from_options(cache_dir=cache_dir, work_dir=work_dir, offline=offline, runtime=runtime,
                                     unpack_limit=unpack_limit,
                                     allow_private_addresses=allow_private_addresses,
                                     download_deadline=download_deadline, min_download_rate=min_download_rate)
    env, env_lock = _environment(env, env_lock, env_packages, source_date_epoch, settings, env_suite, env_archive)
    sources = tuple(source or ())
    request = PublishRequest(
        name=name or _default_name(sources, env), version=version, environment=env,
        sources=sources, copied_sources=tuple(copy_source or ()), command=build, outputs=tuple(output),
        source_date_epoch=source_date_epoch, out_dir=out, environment_format=env_format,
        workdir=workdir, variables=parse_variables(var or []), lockfile=lockfile,
        lockfile_format=lockfile_format, environment_lock=env_lock,
    )
    outcome = publish(request, settings, open_sandbox(settings), ContentCache(settings.cache_dir))
    artifacts = outcome.manifest.artifacts
    for artifact in artifacts[:MAX_LISTED]:
        typer.echo(f"artifact {one_line(artifact.name)}  sha256:{artifact.sha256}  {artifact.size} bytes")
    if len(artifacts) > MAX_LISTED:
        typer.echo(f"… and {len(artifacts) - MAX_LISTED} more artifacts, listed in the release manifest")
    typer.echo(f"release manifest: {outcome.manifest_path}")
    return CommandStatus.DONE


def _environment(env: Path | None, env_lock: Path | None, packages: str | None, epoch: int, settings: Settings,
                 suite: str, archive: str | None) -> tuple[Path, Path | None]:
    """--env [--env-lock], or an environment built now from --env-packages (with its lock)."""
    from verifier.publish import environment_from_packages

    if env is not None and packages is None:
        return env, env_lock
    if env is not None or packages is None or env_lock is not None:
        raise InputError("publish: give --env ARCHIVE [--env-lock LOCK] or --env-packages LIST (one of them)")
    built = environment_from_packages(packages, epoch, settings, suite=suite, archive=archive)
    typer.echo(f"environment {built.archive} (sha256 {built.lock.env_sha256}, {len(built.lock.packages)} packages)")
    return built.archive, built.lock_path


def _default_name(sources: tuple[Path, ...], env: Path) -> str:
    first = sources[0].name if sources else env.name
    return first.split(".tar")[0].split(".")[0] or "release"


def register(app: typer.Typer) -> None:
    app.command("publish")(publish_command)
