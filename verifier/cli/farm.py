"""`verifier farm`: a rebuilder service (docs/farm.md). Each subcommand lives in its own
module, listed in ``FARM_COMMAND_MODULES``; each module has ``register(farm_app)``."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from verifier.cli.farm_options import DEFAULT_FARM_DIR, DatabaseUrl, FarmDir, database_url
from verifier.outcome import CommandStatus

FARM_COMMAND_MODULES: tuple[str, ...] = ("verifier.cli.farm_jobs", "verifier.cli.farm_worker", "verifier.cli.farm_serve")


def migrate_command(database: DatabaseUrl = None, farm_dir: FarmDir = DEFAULT_FARM_DIR) -> CommandStatus:
    """Create or upgrade the farm's database schema (run as the database's owner role)."""
    from verifier.farm.database import migrate
    from verifier.urls import redact

    url = database_url(database, farm_dir)
    revision = migrate(url)
    typer.echo(f"{redact(url)}: schema at revision {revision}", err=True)
    return CommandStatus.DONE


def roles_command(
    worker_role: Annotated[str, typer.Option("--worker-role", help="The role workers log in as.")] = "farm_worker",
    attester_role: Annotated[str, typer.Option("--attester-role", help="The role the attester logs in as.")] = "farm_attester",
    api_role: Annotated[str, typer.Option("--api-role", help="The role of submit, requeue and serve.")] = "farm_api",
) -> CommandStatus:
    """Print the PostgreSQL GRANTs for the farm's roles (run them as the database owner)."""
    from verifier.farm.roles import FarmRoles, grants

    typer.echo(grants(FarmRoles(worker_role, attester_role, api_role)), nl=False)
    return CommandStatus.DONE


def build_farm_app() -> typer.Typer:
    farm = typer.Typer(name="farm", help="A rebuilder service: queue, workers, attester, dashboard (docs/farm.md).",
                       no_args_is_help=True)
    farm.command("migrate")(migrate_command)
    farm.command("roles")(roles_command)
    for name in FARM_COMMAND_MODULES:
        importlib.import_module(name).register(farm)
    return farm


def register(app: typer.Typer) -> None:
    app.add_typer(build_farm_app(), name="farm")
