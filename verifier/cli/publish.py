"""`verifier publish`: run the official build in the sandbox and write the release directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from verifier.cli.options import (
    AllowPrivate, CacheDir, DownloadDeadline, MinDownloadRate, Offline, Runtime, UnpackLimit, WorkDir,
    parse_variables, settings_from_options,
)
from verifier.outcome import CommandStatus
from verifier.printable import one_line

MAX_LISTED = 50  # artifacts printed; release.json lists them all


def publish_command(
    env: Annotated[Path, typer.Option("--env", help="Build environment archive (rootfs tar[.gz|.xz|.zst], or an OCI/docker archive).")],
    build: Annotated[str, typer.Option("--build", help="Build command, run by /bin/sh -c in the workdir.")],
    output: Annotated[list[str], typer.Option("--output", help="Glob of the artifacts, relative to the workdir (repeatable).")],
    source_date_epoch: Annotated[int, typer.Option("--source-date-epoch", help="SOURCE_DATE_EPOCH of the build.")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the release into.")],
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
    sources = tuple(source or ())
    request = PublishRequest(
        name=name or _default_name(sources, env), version=version, environment=env,
        sources=sources, copied_sources=tuple(copy_source or ()), command=build, outputs=tuple(output),
        source_date_epoch=source_date_epoch, out_dir=out, environment_format=env_format,
        workdir=workdir, variables=parse_variables(var or []), lockfile=lockfile,
        lockfile_format=lockfile_format,
    )
    outcome = publish(request, settings, open_sandbox(settings), ContentCache(settings.cache_dir))
    artifacts = outcome.manifest.artifacts
    for artifact in artifacts[:MAX_LISTED]:
        typer.echo(f"artifact {one_line(artifact.name)}  sha256:{artifact.sha256}  {artifact.size} bytes")
    if len(artifacts) > MAX_LISTED:
        typer.echo(f"… and {len(artifacts) - MAX_LISTED} more artifacts, listed in the release manifest")
    typer.echo(f"release manifest: {outcome.manifest_path}")
    return CommandStatus.DONE


def _default_name(sources: tuple[Path, ...], env: Path) -> str:
    first = sources[0].name if sources else env.name
    return first.split(".tar")[0].split(".")[0] or "release"


def register(app: typer.Typer) -> None:
    app.command("publish")(publish_command)
