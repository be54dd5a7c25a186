"""`verifier lock`: resolve a Debian build environment online and pin it in a lockfile."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from verifier.cli.options import CacheDir, Runtime, WorkDir, settings_from_options
from verifier.errors import InputError
from verifier.outcome import CommandStatus


def lock_command(
    env: Annotated[Path, typer.Option("--env", help="Base environment archive (Debian rootfs tar[.gz|.xz|.zst]).")],
    out: Annotated[Path, typer.Option("--out", help="Directory for lock.json (and the source files).")],
    source: Annotated[Optional[str], typer.Option("--source", help="Debian source package to fetch with apt-get source.")] = None,
    dsc: Annotated[Optional[Path], typer.Option("--dsc", help="Local .dsc whose build dependencies to lock.")] = None,
    package: Annotated[Optional[list[str]], typer.Option("--package", help="Extra package to lock (repeatable), e.g. build-essential.")] = None,
    buildinfo: Annotated[Optional[Path], typer.Option("--buildinfo", help="Pin exactly the Installed-Build-Depends of this .buildinfo.")] = None,
    cache_dir: CacheDir = None,
    work_dir: WorkDir = None,
    runtime: Runtime = "auto",
) -> CommandStatus:
    """Resolve build dependencies in a sandbox WITH network and write a verifier lockfile."""
    from verifier.cache import ContentCache
    from verifier.packages.lock import LockRequest, lock
    from verifier.sandbox.podman import Podman

    if source and dsc:
        raise InputError("lock: give --source or --dsc, not both")
    settings = settings_from_options(cache_dir=cache_dir, work_dir=work_dir, runtime=runtime)
    pins: tuple[str, ...] = ()
    if buildinfo is not None:
        from verifier.packages.lockfile import buildinfo as buildinfo_format

        locked = buildinfo_format.load(buildinfo, str(buildinfo))
        pins = tuple(f"{p.name}={p.version}" for p in locked.packages)
    request = LockRequest(env, out, tuple(package or ()), source, dsc, pins)
    outcome = lock(request, settings, ContentCache(settings.cache_dir), Podman.from_settings(settings))
    typer.echo(f"locked {len(outcome.locked.packages)} package(s): {outcome.lockfile}")
    for path in outcome.sources:
        typer.echo(f"source: {path}")
    return CommandStatus.DONE


def register(app: typer.Typer) -> None:
    app.command("lock")(lock_command)
