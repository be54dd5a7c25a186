"""`verifier fetch`: prefetch every pinned input of a release into the cache, for offline use."""

from __future__ import annotations

from typing import Annotated

import typer

from verifier.cli.options import (
    AllowPrivate, CacheDir, DownloadDeadline, MinDownloadRate, Offline, settings_from_options,
)
from verifier.outcome import CommandStatus
from verifier.printable import one_line

MAX_ROWS = 50  # rows of the table printed (it fits 100 columns); every pin is checked all the same


def fetch_command(
    manifest: Annotated[str, typer.Argument(help="URL or path of the release manifest.")],
    cache_dir: CacheDir = None,
    offline: Offline = False,
    allow_private_addresses: AllowPrivate = False,
    download_deadline: DownloadDeadline = None,
    min_download_rate: MinDownloadRate = None,
) -> CommandStatus:
    """Fetch the manifest's inputs and official artifacts into the cache, checking every pin."""
    from tabulate import tabulate

    from verifier.cache import ContentCache
    from verifier.fetch import fetch_inputs, load_manifest, scoped_settings
    from verifier.packages.step import prefetch

    settings = settings_from_options(cache_dir=cache_dir, offline=offline,
                                     allow_private_addresses=allow_private_addresses,
                                     download_deadline=download_deadline, min_download_rate=min_download_rate)
    cache = ContentCache(settings.cache_dir)
    loaded = load_manifest(manifest, settings, cache)
    settings = scoped_settings(loaded, settings)
    inputs = fetch_inputs(loaded, cache, settings)
    rows = [("environment", inputs.environment)]
    rows += [("lockfile", inputs.lockfile)] if inputs.lockfile else []
    rows += [("source", s) for s in inputs.sources] + [("artifact", a) for a in inputs.artifacts]
    table = [(kind, one_line(c.pin.name), c.pin.size, c.pin.sha256[:16] + "…") for kind, c in rows[:MAX_ROWS]]
    typer.echo(tabulate(table, headers=("kind", "name", "bytes", "sha256"), tablefmt="simple",
                        maxcolwidths=[None, 50, None, None]))
    if len(rows) > MAX_ROWS:
        typer.echo(f"… and {len(rows) - MAX_ROWS} more")
    packages = prefetch(inputs, settings, cache)
    locked = f" and {packages} locked package(s)" if packages else ""
    typer.echo(f"all {len(rows)} pinned files{locked} verified in {settings.cache_dir}")
    return CommandStatus.DONE


def register(app: typer.Typer) -> None:
    app.command("fetch")(fetch_command)
