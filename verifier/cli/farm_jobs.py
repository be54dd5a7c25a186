"""`verifier farm submit | status | requeue`: put releases in the farm's queue and watch them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from verifier.cli.options import AllowPrivate, CacheDir, settings_from_options
from verifier.cli.farm_options import DEFAULT_BROKER, DEFAULT_FARM_DIR, Broker, DatabaseUrl, FarmDir, database_url, is_sqlite
from verifier.errors import InputError
from verifier.outcome import CommandStatus
from verifier.printable import one_line

if TYPE_CHECKING:  # the farm's modules load in the command bodies: `verifier --help` stays fast
    from verifier.farm.database import Database
    from verifier.farm.jobs import JobInput, JobRequest

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
    from verifier.farm.database import open_database
    from verifier.farm.jobs import JobRequest, debian_input, manifest_input, pypi_input

    inputs = [manifest_input(m) for m in manifests or []] + [debian_input(d) for d in debian or []]
    inputs += [pypi_input(p) for p in pypi or []] + (_read_list(list_file) if list_file else [])
    if not inputs:
        raise InputError("farm submit: nothing to submit (give manifest URLs, --debian, --pypi or --list)")
    requests = [JobRequest(i, queue=queue, max_attempts=max_attempts, time_limit=time_limit) for i in inputs]
    url = database_url(database, farm_dir)
    db = open_database(url, create_schema=is_sqlite(url))
    try:
        _submit_all(db, requests, broker)
    finally:
        db.dispose()
    return CommandStatus.DONE


def _submit_all(db: Database, requests: list[JobRequest], broker: str) -> None:
    """Each request as a job, published when new; a job the broker refuses is FAILED at once."""
    from verifier.farm.broker import BrokerConfig, BrokerError, make_celery, publish_verify
    from verifier.farm.jobs import submit
    from verifier.farm.ledger import fail_unpublished

    app = make_celery(BrokerConfig(broker))
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


def _read_list(path: Path) -> list[JobInput]:
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


def sync_command(
    debian: Annotated[str, typer.Option("--debian", metavar="SUITE", help="Queue what this Debian suite's Sources index lists.")],
    packages: Annotated[Optional[list[str]], typer.Option("--packages", help="Only these source packages (repeatable, or comma-separated).")] = None,
    archive: Annotated[Optional[str], typer.Option("--archive", help="The Debian archive or snapshot URL (default: this machine's apt sources).")] = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Queue again versions whose job FAILED.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be queued; queue nothing.")] = False,
    queue: Annotated[str, typer.Option("--queue", help="The Celery queue.")] = "verify",
    max_attempts: Annotated[int, typer.Option("--max-attempts", help="Attempts before an infrastructure failure is final.")] = 3,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds one attempt may run.")] = 3600.0,
    database: DatabaseUrl = None,
    farm_dir: FarmDir = DEFAULT_FARM_DIR,
    broker: Broker = DEFAULT_BROKER,
    cache_dir: CacheDir = None,
    allow_private_addresses: AllowPrivate = False,
) -> CommandStatus:
    """Queue every source package of a Debian suite not yet verified at its current version."""
    from verifier.cache import ContentCache
    from verifier.environments.build import check_archive, system_archive
    from verifier.farm.database import open_database
    from verifier.farm.jobs import JobRequest
    from verifier.farm.sync import plan_sync, suite_sources

    settings = settings_from_options(cache_dir=cache_dir or farm_dir / "cache", work_dir=farm_dir / "sync",
                                     allow_private_addresses=allow_private_addresses)
    url = (archive or system_archive()).rstrip("/")
    check_archive(url, settings)
    names = tuple(n.strip() for p in packages or [] for n in p.split(",") if n.strip())
    sources = suite_sources(url, debian, settings, ContentCache(settings.cache_dir), names)
    db_url = database_url(database, farm_dir)
    db = open_database(db_url, create_schema=is_sqlite(db_url))
    try:
        plan = plan_sync(db, sources, names, retry_failed)
        for name in plan.not_in_suite:
            typer.echo(f"not in {one_line(debian)}: {one_line(name)}", err=True)
        typer.echo(f"{len(plan.submit)} to queue; skipped: {plan.already_verified} verified, "
                   f"{plan.already_active} queued or running, {plan.failed_before} failed before", err=True)
        if not dry_run:
            requests = [JobRequest(i, queue=queue, max_attempts=max_attempts, time_limit=time_limit) for i in plan.submit]
            _submit_all(db, requests, broker)
        else:
            for item in plan.submit:
                typer.echo(f"would queue: {one_line(item.text)}")
    finally:
        db.dispose()
    if plan.not_in_suite:
        raise InputError(f"farm sync --debian {debian}: not in the suite: {', '.join(plan.not_in_suite)[:500]}")
    return CommandStatus.DONE


def register(farm: typer.Typer) -> None:
    farm.command("submit")(submit_command)
    farm.command("status")(status_command)
    farm.command("requeue")(requeue_command)
    farm.command("sync")(sync_command)
