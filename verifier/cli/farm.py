"""`verifier farm`: a rebuilder service (docs/farm.md). Each subcommand lives in its own
module, listed in ``FARM_COMMAND_MODULES``; each module has ``register(farm_app)``."""

from __future__ import annotations

import importlib

import typer

from verifier.cli.farm_options import DEFAULT_FARM_DIR, DatabaseUrl, FarmDir, database_url
from verifier.outcome import CommandStatus

FARM_COMMAND_MODULES: tuple[str, ...] = ()


def migrate_command(database: DatabaseUrl = None, farm_dir: FarmDir = DEFAULT_FARM_DIR) -> CommandStatus:
    """Create or upgrade the farm's database schema (run as the database's owner role)."""
    from verifier.farm.database import migrate
    from verifier.urls import redact

    url = database_url(database, farm_dir)
    revision = migrate(url)
    typer.echo(f"{redact(url)}: schema at revision {revision}", err=True)
    return CommandStatus.DONE


def build_farm_app() -> typer.Typer:
    farm = typer.Typer(name="farm", help="A rebuilder service: queue, workers, attester, dashboard (docs/farm.md).",
                       no_args_is_help=True)
    farm.command("migrate")(migrate_command)
    for name in FARM_COMMAND_MODULES:
        importlib.import_module(name).register(farm)
    return farm


def register(app: typer.Typer) -> None:
    app.add_typer(build_farm_app(), name="farm")
