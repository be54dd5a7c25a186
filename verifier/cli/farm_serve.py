"""`verifier farm serve`: the farm's dashboard, JSON API and Prometheus metrics (docs/farm.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from verifier.cli.farm_options import DEFAULT_BROKER, DEFAULT_FARM_DIR, Broker, DatabaseUrl, FarmDir, database_url, is_sqlite
from verifier.outcome import CommandStatus
from verifier.printable import one_line

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")

if TYPE_CHECKING:
    from verifier.farm.database import Database
    from verifier.farm.web.source import FarmGate


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port (0: any free one, printed).")] = 8080,
    token_file: Annotated[Optional[Path], typer.Option(
        "--token-file", help="The write token (mode 600); else $VERIFIER_FARM_TOKEN; neither: read-only.")] = None,
    public_key: Annotated[Optional[list[Path]], typer.Option(
        "--public-key", help="The attester's public key (PEM), offered for download; repeatable.")] = None,
    refresh: Annotated[int, typer.Option("--refresh", help="Seconds between dashboard reloads (0: never).")] = 30,
    allowed_host: Annotated[Optional[list[str]], typer.Option(
        "--allowed-host", help="A Host name clients use (e.g. behind a proxy); repeatable. Default: the loopback "
                               "names when --host is loopback, else any.")] = None,
    database: DatabaseUrl = None,
    farm_dir: FarmDir = DEFAULT_FARM_DIR,
    broker: Broker = DEFAULT_BROKER,
) -> CommandStatus:
    """Serve the dashboard and API until stopped (Ctrl-C or SIGTERM); writes need the token."""
    from verifier.farm.database import open_database
    from verifier.farm.web.app import create_app
    from verifier.farm.web.auth import load_token
    from verifier.farm.web.context import WebConfig
    from verifier.farm.web.keys import load_keys
    from verifier.farm.web.server import listen, serve
    from verifier.farm.web.source import DatabaseReader

    token, keys = load_token(token_file), load_keys(list(public_key or []))
    url = database_url(database, farm_dir)
    db = open_database(url, create_schema=is_sqlite(url))
    try:
        writer = _gate(db, broker) if token is not None else None
        config = WebConfig(DatabaseReader(db), writer, token, keys, max(0, refresh), _hosts(host, allowed_host))
        sock = listen(host, port)
        mode = "writes need the token" if token is not None else "read-only (no token)"
        typer.echo(f"farm serve: http://{one_line(host)}:{sock.getsockname()[1]}/ on {one_line(db.url)}, {mode}, "
                   f"{len(keys)} public key(s)", err=True)
        serve(create_app(config), sock)
    finally:
        db.dispose()
    return CommandStatus.DONE


def _hosts(host: str, allowed: list[str] | None) -> tuple[str, ...]:
    if allowed:
        return tuple(allowed)
    return LOOPBACK_NAMES if host in LOOPBACK_NAMES else ("*",)


def _gate(db: Database, broker: str) -> FarmGate:
    from verifier.farm.broker import BrokerConfig, make_celery, publish_verify
    from verifier.farm.web.source import FarmGate

    app = make_celery(BrokerConfig(broker))

    def publish(job_id: int, queue: str, time_limit: float) -> None:
        publish_verify(app, job_id, queue, time_limit)

    return FarmGate(db, publish)


def register(farm: typer.Typer) -> None:
    farm.command("serve")(serve_command)
