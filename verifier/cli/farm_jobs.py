"""`verifier farm submit | status | requeue`: put releases in the farm's queue and watch them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from verifier.cli.farm_options import DEFAULT_BROKER, DEFAULT_FARM_DIR, Broker, DatabaseUrl, FarmDir, database_url, is_sqlite
from verifier.errors import InputError
from verifier.outcome import CommandStatus
from verifier.printable import one_line

MAX_LIST_BYTES = 16 << 20


def submit_command(
    manifests: Annotated[Optional[list[str]], typer.Argument(help="Release manifest URLs or paths.")] = None,
    debian: Annotated[Optional[list[str]], typer.Option("--debian", metavar="SRC=VERSION", help="A Debian source package; repeatable.")] = None,
    pypi: Annotated[Optional[list[str]], typer.Option("--pypi", metavar="NAME==VERSION", help="A PyPI release; repeatable.")] = None,
    list_file: Annotated[Optional[Path], typer.Option("--list", help="A file of inputs, one a line: a manifest URL, 'debian SRC=VER' or 'pypi NAME==VER'.")] = None,
    queue: Annotated[str, typer.Option("--queue", help="The Celery queue (e.g. one per architecture).")] = "verify",
    max_attempts: Annotated[int, typer.Option("--max-attempts", help="Attempts before an infrastructure failure is final.")] = 3,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds one attempt may run.")] = 3600.0,
    database: DatabaseUrl = None,
    farm_dir: FarmDir = DEFAULT_FARM_DIR,
    broker: Broker = DEFAULT_BROKER,
) -> CommandStatus:
    """Queue releases for verification; an input already queued or running is not queued twice."""
    from verifier.farm.broker import BrokerConfig, BrokerError, make_celery, publish_verify
    from verifier.farm.database import open_database
    from verifier.farm.jobs import JobRequest, debian_input, manifest_input, pypi_input
    from verifier.farm.ledger import fail_unpublished
    from verifier.farm.jobs import submit

    inputs = [manifest_input(m) for m in manifests or []] + [debian_input(d) for d in debian or []]
    inputs += [pypi_input(p) for p in pypi or []] + (_read_list(list_file) if list_file else [])
    if not inputs:
        raise InputError("farm submit: nothing to submit (give manifest URLs, --debian, --pypi or --list)")
    requests = [JobRequest(i, queue=queue, max_attempts=max_attempts, time_limit=time_limit) for i in inputs]
    url = database_url(database, farm_dir)
    db, app = open_database(url, create_schema=is_sqlite(url)), make_celery(BrokerConfig(broker))
    try:
        for request in requests:
            done = submit(db, request)
            if done.new:
                try:
                    publish_verify(app, done.job_id, request.queue, request.time_limit)
                except BrokerError as exc:
                    fail_unpublished(db, done.job_id, exc.message)
                    raise
            typer.echo(f"job {done.job_id} {'queued' if done.new else 'already ' + done.state.value}: "
                       f"{one_line(request.input.text)}")
    finally:
        db.dispose()
    return CommandStatus.DONE


def _read_list(path: Path) -> list:  # type: ignore[type-arg]
    from verifier.farm.jobs import parse_list_line
    from verifier.files import read_limited

    data = read_limited(path, MAX_LIST_BYTES, "list of inputs")
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    found = [parse_list_line(line, f"{path}:{n}") for n, line in enumerate(lines, 1)]
    return [i for i in found if i is not None]


def status_command(
    job_id: Annotated[Optional[int], typer.Argument(help="A job's id: its attempts and result.")] = None,
    state: Annotated[Optional[str], typer.Option("--state", help="Only jobs in this state (QUEUED, RUNNING, DONE, FAILED).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many jobs to list, newest first.")] = 20,
    database: DatabaseUrl = None,
    farm_dir: FarmDir = DEFAULT_FARM_DIR,
) -> CommandStatus:
    """Show the queue (counts by state and verdict, the newest jobs) or one job."""
    from verifier.cli.farm_show import show_job, show_overview
    from verifier.farm.database import open_database

    url = database_url(database, farm_dir)
    db = open_database(url, create_schema=is_sqlite(url))
    try:
        if job_id is not None:
            show_job(db, job_id)
        else:
            show_overview(db, state, limit)
    finally:
        db.dispose()
    return CommandStatus.DONE


def requeue_command(
    job_id: Annotated[int, typer.Argument(help="The job to run again.")],
    database: DatabaseUrl = None,
    farm_dir: FarmDir = DEFAULT_FARM_DIR,
    broker: Broker = DEFAULT_BROKER,
) -> CommandStatus:
    """Run a job again: a finished one as a new job (its history stays), a queued one is sent again."""
    from verifier.farm.broker import BrokerConfig, make_celery, publish_verify
    from verifier.farm.database import open_database
    from verifier.farm.ledger import requeue

    url = database_url(database, farm_dir)
    db = open_database(url, create_schema=is_sqlite(url))
    try:
        again = requeue(db, job_id)
        if again is None:
            raise InputError(f"job {job_id}: no such job")
        if again.publish:
            publish_verify(make_celery(BrokerConfig(broker)), again.job_id, again.queue, again.time_limit)
        what = "queued" if again.publish else f"left alone: it is {again.state.value}"
        typer.echo(f"job {again.job_id} {what}" + (f" (requeue of job {job_id})" if again.job_id != job_id else ""))
    finally:
        db.dispose()
    return CommandStatus.DONE


def register(farm: typer.Typer) -> None:
    farm.command("submit")(submit_command)
    farm.command("status")(status_command)
    farm.command("requeue")(requeue_command)
