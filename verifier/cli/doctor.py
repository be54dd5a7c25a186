"""`verifier doctor`: the external tools verifier uses, and the sandbox runtime it would choose."""

from __future__ import annotations

import typer

from verifier.cli.options import CacheDir, Runtime, settings_from_options
from verifier.errors import VerifierError
from verifier.outcome import CommandStatus
from verifier.tools import TOOLS, probe

COLUMN_WIDTHS = [10, 7, 24, 20, 28]  # the table fits 100 columns; long values wrap


def doctor_command(cache_dir: CacheDir = None, runtime: Runtime = "auto") -> CommandStatus:
    """List external tools (found, version, Debian package) and the OCI runtime choice."""
    from tabulate import tabulate

    from verifier.sandbox.podman import Podman
    from verifier.sandbox.runtime import choose_runtime

    rows, missing_essential = [], []
    for tool in TOOLS:
        found, version = probe(tool)
        rows.append((tool.name, "yes" if found else "MISSING", version, tool.package, tool.purpose))
        if tool.essential and not found:
            missing_essential.append(tool.name)
    typer.echo(tabulate(rows, headers=("tool", "found", "version", "Debian package", "used for"),
                        maxcolwidths=COLUMN_WIDTHS))
    settings = settings_from_options(cache_dir=cache_dir, runtime=runtime)
    try:
        choice = choose_runtime(Podman.from_settings(settings), settings)
        typer.echo(f"\nOCI runtime: {choice.name} ({choice.reason})")
    except VerifierError as exc:
        typer.echo(f"\nOCI runtime: unavailable: {exc.message}")
        return CommandStatus.NOT_READY
    if missing_essential:
        typer.echo(f"missing essential tools: {', '.join(missing_essential)} (apt-get install "
                   f"{' '.join(t.package for t in TOOLS if t.name in missing_essential)})")
        return CommandStatus.NOT_READY
    return CommandStatus.DONE


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor_command)
