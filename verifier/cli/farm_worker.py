"""`verifier farm worker` and `verifier farm attester`: the two Celery worker processes."""

from __future__ import annotations

import socket
import threading
from typing import Annotated, Optional

import typer

from verifier.cli.farm_options import DEFAULT_BROKER, DEFAULT_FARM_DIR, Broker, DatabaseUrl, FarmDir, database_url, is_sqlite
from verifier.cli.options import AllowPrivate, CacheDir, Runtime, settings_from_options
from verifier.outcome import CommandStatus

CELERY_FLAGS = ["--pool", "prefork", "--without-gossip", "--without-mingle", "--without-heartbeat",
                "--loglevel", "INFO"]


def worker_command(
    concurrency: Annotated[int, typer.Option("--concurrency", help="Jobs run at once by this worker (processes).")] = 1,
    queue: Annotated[Optional[list[str]], typer.Option("--queue", help="Queues to take jobs from; repeatable (default: verify).")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="This worker's node name, stable across restarts (default: verify@HOSTNAME).")] = None,
    retry_delay: Annotated[float, typer.Option("--retry-delay", help="Seconds before the first retry of an infrastructure failure (doubling, at most 15 min).")] = 30.0,
    visibility_timeout: Annotated[float, typer.Option("--visibility-timeout", help="Seconds before Redis delivers an unacknowledged job again (more than the longest time limit).")] = 3720.0,
    sweep_every: Annotated[float, typer.Option("--sweep-every", help="Seconds between sweeps for attempts past their deadline (0: off).")] = 30.0,
    debian_archive: Annotated[Optional[str], typer.Option("--debian-archive", help="debian jobs: the archive or snapshot URL (default: this machine's apt sources).")] = None,
    debian_suite: Annotated[str, typer.Option("--debian-suite", help="debian jobs: the archive's suite.")] = "bookworm",
    pypi_index_url: Annotated[Optional[str], typer.Option("--pypi-index-url", help="pypi jobs: the package index (default: pip's own default).")] = None,
    database: DatabaseUrl = None,
    farm_dir: FarmDir = DEFAULT_FARM_DIR,
    broker: Broker = DEFAULT_BROKER,
    cache_dir: CacheDir = None,
    runtime: Runtime = "auto",
    allow_private_addresses: AllowPrivate = False,
) -> CommandStatus:
    """Run verifications from the queue (the same code path as `verifier verify`)."""
    from verifier.farm.broker import BrokerConfig, durability_warning, make_celery
    from verifier.farm.database import open_database
    from verifier.farm.ledger import RetryPolicy
    from verifier.farm.runner import RunnerOptions
    from verifier.farm.worker import (
        WorkerConfig, WorkerRuntime, check_node_name, clean_leftovers, register_verify, release_lost_jobs,
        start_sweeper,
    )

    node = check_node_name(name or f"verify@{socket.gethostname()}")
    url = database_url(database, farm_dir)
    db = open_database(url, create_schema=is_sqlite(url))  # fail now, not at the first job
    settings = settings_from_options(cache_dir=cache_dir or farm_dir / "cache", runtime=runtime,
                                     allow_private_addresses=allow_private_addresses)
    kinds = RunnerOptions(debian_archive, debian_suite, pypi_index_url)
    config = WorkerConfig(node, url, farm_dir, settings, RetryPolicy(base_seconds=retry_delay), sweep_every, kinds)
    warning = durability_warning(broker)
    if warning:
        typer.echo(f"verifier: warning: {warning}", err=True)
    containers, dirs = clean_leftovers(config)
    app = make_celery(BrokerConfig(broker, visibility_timeout))
    try:
        released = release_lost_jobs(app, db, config)
    finally:
        db.dispose()
    typer.echo(f"farm worker {node}: removed {containers} leftover containers, {dirs} leftover directories; "
               f"queued again {released} jobs its earlier run had left running", err=True)
    register_verify(app, WorkerRuntime(config))
    stop = threading.Event()
    start_sweeper(app, config, stop)
    try:
        app.worker_main(["worker", "--concurrency", str(concurrency), "--queues", ",".join(queue or ["verify"]),
                         "--hostname", node, *CELERY_FLAGS])
    finally:
        stop.set()
    return CommandStatus.DONE


def attester_command(
    signing_key: Annotated[list[str], typer.Option("--signing-key", help="Key URI (e.g. file:key.pem); repeatable.")],
    name: Annotated[Optional[str], typer.Option("--name", help="Node name (default: attest@HOSTNAME).")] = None,
    database: DatabaseUrl = None,
    farm_dir: FarmDir = DEFAULT_FARM_DIR,
    broker: Broker = DEFAULT_BROKER,
) -> CommandStatus:
    """Sign the reports workers wrote (the only process holding the key)."""
    from verifier.farm.attester import DatabaseFactory, check_keys, register_attest, sign_pending
    from verifier.farm.broker import ATTEST_QUEUE, BrokerConfig, make_celery
    from verifier.farm.database import open_database
    from verifier.farm.worker import check_node_name

    keys = tuple(signing_key)
    check_keys(keys)
    node = check_node_name(name or f"attest@{socket.gethostname()}")
    url = database_url(database, farm_dir)
    db = open_database(url, create_schema=is_sqlite(url))
    try:
        signed = sign_pending(db, keys)
    finally:
        db.dispose()
    typer.echo(f"farm attester {node}: signed {signed} pending results", err=True)
    app = make_celery(BrokerConfig(broker))
    register_attest(app, DatabaseFactory(url), keys)
    app.worker_main(["worker", "--concurrency", "1", "--queues", ATTEST_QUEUE, "--hostname", node, *CELERY_FLAGS])
    return CommandStatus.DONE


def register(farm: typer.Typer) -> None:
    farm.command("worker")(worker_command)
    farm.command("attester")(attester_command)
