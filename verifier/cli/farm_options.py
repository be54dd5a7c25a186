"""Options shared by the ``verifier farm`` commands (docs/farm.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

DatabaseUrl = Annotated[Optional[str], typer.Option(
    "--database", envvar="VERIFIER_FARM_DATABASE", metavar="URL",
    help="The farm's database: sqlite:///PATH (default: <farm-dir>/farm.db) or postgresql://ROLE@HOST/DB.")]
FarmDir = Annotated[Path, typer.Option(
    "--farm-dir", envvar="VERIFIER_FARM_DIR", help="The farm's directory on this machine (SQLite file, workers' work dirs).")]
Broker = Annotated[str, typer.Option(
    "--broker", envvar="VERIFIER_FARM_BROKER", metavar="URL", help="The Celery broker: a Redis URL.")]

DEFAULT_FARM_DIR = Path("verifier-farm")
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


def database_url(database: str | None, farm_dir: Path) -> str:
    from verifier.farm.database import default_url
    return database or default_url(farm_dir)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")
