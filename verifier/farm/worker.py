"""`verifier farm worker`: a Celery worker running verifications.

A delivery of a job claims an attempt (verifier/farm/ledger.py), runs it in a directory of
its own under ``<farm-dir>/workers/<node>/``, records the verdict (then asks the attester to
sign it) or the error (then publishes the retry, with backoff, for infrastructure failures
only), and removes its directory. A worker that was killed leaves containers and
directories behind: when a worker with the same node name starts again it removes every
container carrying its build label and everything under its directory first.

Workers hold no signing key, and only need the broker and the database's worker role.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from celery import Celery, Task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init
from sqlalchemy.exc import OperationalError

from verifier.errors import InfrastructureError, InputError, SandboxError, VerifierError
from verifier.farm import ledger
from verifier.farm.broker import VERIFY_TASK, publish_attest, publish_verify
from verifier.farm.database import Database, open_database
from verifier.farm.runner import RunnerOptions, run_job
from verifier.sandbox.podman import Podman
from verifier.sandbox.podman_sandbox import BUILD_LABEL
from verifier.settings import Settings

log = logging.getLogger("verifier.farm.worker")
NODE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9@._-]{0,120}")


@dataclass(frozen=True)
class WorkerConfig:
    node: str  # the Celery node name (-n): stable across restarts of this worker
    database_url: str
    farm_dir: Path
    settings: Settings  # cache dir, runtime, fetch limits; build_label is set from the node
    retry: ledger.RetryPolicy = ledger.RetryPolicy()
    sweep_every: float = 30.0  # seconds between sweeps for attempts past their deadline (0: never)
    kinds: RunnerOptions = RunnerOptions()

    @property
    def directory(self) -> Path:
        return self.farm_dir.resolve() / "workers" / self.node

    @property
    def build_label(self) -> str:
        return f"farm-{self.node}"

    def worker_settings(self) -> Settings:
        return dataclasses.replace(self.settings, build_label=self.build_label, progress=False)


class WorkerRuntime:
    """What a pool process needs, opened once per process (after the fork: engines are not shared)."""

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self._db: Database | None = None
        self.current: ledger.Claim | None = None  # the attempt this process is running

    def reset(self) -> None:
        self._db = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = open_database(self.config.database_url)
        return self._db


def register_verify(app: Celery, runtime: WorkerRuntime) -> None:
    class VerifyTask(Task):  # type: ignore[misc]
        def on_failure(self, exc: BaseException, task_id: str, args: tuple[object, ...], kwargs: dict[str, object],
                       einfo: object) -> None:
            """A bug in verifier (Celery caught it): the attempt ends as an internal error, never retried."""
            claim, runtime.current = runtime.current, None
            if claim is not None:
                ledger.record_error(runtime.db, claim, ledger.ErrorKind.INTERNAL,
                                    f"internal error ({type(exc).__name__}: {exc}); please report this bug",
                                    runtime.config.retry)

    @app.task(name=VERIFY_TASK, base=VerifyTask, bind=True, acks_late=True, reject_on_worker_lost=True, shared=False)
    def verify_job(task: Task, job_id: int) -> str:
        return run_delivery(app, runtime, int(job_id))

    worker_process_init.connect(lambda **_: runtime.reset(), weak=False)


def run_delivery(app: Celery, runtime: WorkerRuntime, job_id: int) -> str:
    """One delivery of ``job_id``; returns what happened, for the worker's log."""
    config, db = runtime.config, runtime.db
    me = ledger.worker_id(config.node)
    got = ledger.claim(db, job_id, me, ledger.local_worker_gone(config.node))
    if isinstance(got, ledger.NotClaimed):
        return f"job {job_id}: {got.refusal.value.lower()}"  # finished, missing, or another attempt is live
    runtime.current = got  # left set if a bug escapes: on_failure ends the attempt as an internal error
    outcome = _run_claimed(app, runtime, got, me)
    runtime.current = None
    return outcome


def _run_claimed(app: Celery, runtime: WorkerRuntime, claim: ledger.Claim, me: str) -> str:
    config, db = runtime.config, runtime.db
    run_dir = config.directory / f"job-{claim.job_id}-{claim.number}"
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        found = run_job(claim.kind, claim.input, config.worker_settings(), run_dir, claim.time_limit, config.kinds)
    except SoftTimeLimitExceeded:
        return _error(app, runtime, claim, ledger.ErrorKind.TIMED_OUT, f"ran past its time limit of {claim.time_limit:g} s")
    except InfrastructureError as exc:
        return _error(app, runtime, claim, ledger.ErrorKind.INFRASTRUCTURE, exc.message)
    except VerifierError as exc:  # bad input, a pin that does not match: the same next time
        return _error(app, runtime, claim, ledger.ErrorKind.INPUT, exc.message)
    finally:
        remove_tree(run_dir)
    recorded = ledger.record_verdict(db, claim, found, me)
    if recorded.result_id is None:
        return f"job {claim.job_id}: {found.verdict}, discarded (its result was already written)"
    publish_attest(app, recorded.result_id, recorded.report_sha256)
    return f"job {claim.job_id}: {found.verdict}"


def _error(app: Celery, runtime: WorkerRuntime, claim: ledger.Claim, kind: ledger.ErrorKind, message: str) -> str:
    after = ledger.record_error(runtime.db, claim, kind, message, runtime.config.retry)
    if after.retry_in is not None:
        publish_verify(app, claim.job_id, claim.queue, claim.time_limit, countdown=after.retry_in)
    return f"job {claim.job_id}: {kind.value.lower()} ({message}); now {after.state.value}"


def release_lost_jobs(app: Celery, db: Database, config: WorkerConfig) -> int:
    """Jobs this node was running when it was killed: queued again now (their attempts are LOST)."""
    released = ledger.release_node(db, config.node, config.retry)
    for item in released:
        if item.next.retry_in is not None:
            publish_verify(app, item.job_id, item.queue, item.time_limit)
    return len(released)


def clean_leftovers(config: WorkerConfig) -> tuple[int, int]:
    """Containers and directories a killed worker of this node left: (containers removed, dirs removed)."""
    containers = remove_labelled_containers(config.worker_settings())
    directory = config.directory
    entries = list(directory.iterdir()) if directory.is_dir() else []
    for mount in sorted(mounts_under(directory), key=lambda p: len(str(p)), reverse=True):
        subprocess.run(["umount", "-l", str(mount)], check=False, capture_output=True)
    for entry in entries:
        remove_tree(entry)
    return containers, len(entries)


def remove_labelled_containers(settings: Settings) -> int:
    """Remove every container carrying this worker's build label (and only those)."""
    try:
        podman = Podman.from_settings(settings)
        listed = podman.run(["ps", "--all", "--quiet", "--filter", f"label={BUILD_LABEL}={settings.build_label}"],
                            what="farm worker cleanup")
    except SandboxError as exc:
        log.warning("cannot list leftover containers: %s", exc.message)
        return 0
    ids = listed.stdout.split()
    if ids:
        podman.run(["rm", "--force", "--time", "0", *ids], check=False, what="farm worker cleanup")
    return len(ids)


def mounts_under(directory: Path) -> Iterator[Path]:
    """Mount points below ``directory`` (a build's tmpfs a killed worker did not unmount)."""
    prefix = str(directory.resolve()) + "/"
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return
    for line in lines:
        fields = line.split()
        if len(fields) > 4:
            point = fields[4].encode().decode("unicode_escape")
            if point.startswith(prefix):
                yield Path(point)


def remove_tree(path: Path) -> None:
    for mount in sorted(mounts_under(path), key=lambda p: len(str(p)), reverse=True):
        subprocess.run(["umount", "-l", str(mount)], check=False, capture_output=True)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def start_sweeper(app: Celery, config: WorkerConfig, stop: threading.Event) -> threading.Thread | None:
    """A thread ending attempts past their deadline (any worker's: a dead machine's too)."""
    if config.sweep_every <= 0:
        return None

    def loop() -> None:
        db = open_database(config.database_url)
        try:
            while not stop.wait(config.sweep_every):
                sweep_once(app, db, config.retry)
        finally:
            db.dispose()

    thread = threading.Thread(target=loop, name="farm-sweeper", daemon=True)
    thread.start()
    return thread


def sweep_once(app: Celery, db: Database, policy: ledger.RetryPolicy) -> int:
    try:
        swept = ledger.sweep(db, policy)
        for item in swept:
            if item.next.retry_in is not None:
                publish_verify(app, item.job_id, item.queue, item.time_limit, countdown=item.next.retry_in)
    except InfrastructureError as exc:
        log.warning("sweep: %s", exc.message)
        return 0
    except OperationalError as exc:  # the database is away for a moment: the next sweep tries again
        log.warning("sweep: database: %s", exc.orig)
        return 0
    return len(swept)


def check_node_name(node: str) -> str:
    if not NODE_NAME.fullmatch(node):
        raise InputError(f"--name {node!r}: letters, digits, '@', '.', '_' and '-' only")
    return node

