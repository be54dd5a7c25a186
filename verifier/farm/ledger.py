"""The write side of the farm's state: every change of a job's state happens here, each in
one transaction that holds the job's row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` takes the writer's lock), so two deliveries of one job cannot both start
it and two attempts cannot both write its result.

- ``claim``: a delivery starts an attempt, or learns that it must not (done, failed, another
  live attempt), or that a previous attempt's worker is gone (LOST) or past its deadline.
- ``record_verdict``: the result row, written exactly once; a later attempt is DUPLICATE.
- ``record_error``: an infrastructure error is retried with backoff up to ``max_attempts``;
  bad input and a time-out are final.
- ``sweep``: attempts past their deadline end as TIMED_OUT, so no job stays RUNNING.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from verifier.farm.database import Database
from verifier.farm.jobs import JobInput, JobRequest, submit
from verifier.farm.models import Attempt, AttemptOutcome, Job, JobKind, JobState, Result, utcnow

SWEEP_GRACE = timedelta(seconds=60)  # past an attempt's deadline, before the sweep ends it


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff between attempts after an infrastructure failure: base * 2**(n-1), capped."""

    base_seconds: float = 30.0
    cap_seconds: float = 900.0

    def delay(self, attempt_number: int) -> float:
        return min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempt_number - 1))


@dataclass(frozen=True)
class Claim:
    job_id: int
    attempt_id: int
    number: int
    kind: str
    input: str
    queue: str
    time_limit: float
    deadline: datetime


class Refusal(StrEnum):
    FINISHED = "FINISHED"  # DONE or FAILED: the delivery is a leftover, drop it
    BUSY = "BUSY"  # another attempt is live: drop this delivery (that attempt ends in a result, or its
    # worker's restart (``release_node``) or the sweep past its deadline queues the job again)
    MISSING = "MISSING"  # no such job (a message from another farm, or a deleted row)


@dataclass(frozen=True)
class NotClaimed:
    refusal: Refusal
    retry_at: datetime | None = None  # BUSY: when the sweep would end the live attempt
    failed_now: bool = False  # this claim ended the job: its attempts were used up


class ErrorKind(StrEnum):
    INFRASTRUCTURE = "INFRASTRUCTURE"  # podman, network, disk, a lost worker: retried
    INPUT = "INPUT"  # the input is invalid or does not match its pins: final
    TIMED_OUT = "TIMED_OUT"  # ran past the job's time limit: final
    INTERNAL = "INTERNAL"  # a bug in verifier: final, and says so


ERROR_OUTCOME = {
    ErrorKind.INFRASTRUCTURE: AttemptOutcome.INFRASTRUCTURE_ERROR,
    ErrorKind.INPUT: AttemptOutcome.INPUT_ERROR,
    ErrorKind.TIMED_OUT: AttemptOutcome.TIMED_OUT,
    ErrorKind.INTERNAL: AttemptOutcome.INFRASTRUCTURE_ERROR,
}


@dataclass(frozen=True)
class Next:
    """What the caller does after ``record_error``: publish again after ``retry_in``, or nothing."""

    state: JobState
    retry_in: float | None = None


@dataclass(frozen=True)
class Verified:
    """What a worker hands to ``record_verdict``."""

    verdict: str
    release_name: str
    release_version: str
    report: bytes
    timings: dict[str, float]

    @property
    def report_sha256(self) -> str:
        return hashlib.sha256(self.report).hexdigest()


@dataclass(frozen=True)
class Recorded:
    result_id: int | None  # None: another attempt had written the job's result (this one is DUPLICATE)
    report_sha256: str


WorkerAlive = Callable[[str], bool]


def worker_id(node: str, pid: int | None = None) -> str:
    """An attempt's worker: the Celery node name and the process id that ran it."""
    return f"{node}/{pid if pid is not None else os.getpid()}"


def local_worker_gone(node: str) -> WorkerAlive:
    """For ``claim``: True when an attempt's worker ran on this node and its process is gone."""
    def gone(worker: str) -> bool:
        name, _, pid = worker.rpartition("/")
        if name != node or not pid.isdigit():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return gone


def _locked_job(session: Session, job_id: int) -> Job | None:
    return session.scalars(select(Job).where(Job.id == job_id).with_for_update()).first()


def _running(session: Session, job_id: int) -> list[Attempt]:
    query = select(Attempt).where(Attempt.job_id == job_id, Attempt.outcome == AttemptOutcome.RUNNING.value)
    return list(session.scalars(query))


def _end_attempt(attempt: Attempt, outcome: AttemptOutcome, error: str | None, now: datetime) -> None:
    attempt.outcome, attempt.error, attempt.finished_at = outcome.value, error, now


def claim(db: Database, job_id: int, worker: str, gone: WorkerAlive = lambda w: False) -> Claim | NotClaimed:
    """Start attempt n+1 of ``job_id`` for ``worker``, if the job is there to be run."""
    now = utcnow()
    with db.session() as session:
        job = _locked_job(session, job_id)
        if job is None:
            return NotClaimed(Refusal.MISSING)
        if job.state in (JobState.DONE.value, JobState.FAILED.value):
            return NotClaimed(Refusal.FINISHED)
        live = _end_stale(session, job_id, now, gone)
        if live:
            return NotClaimed(Refusal.BUSY, retry_at=max(a.deadline_at for a in live) + SWEEP_GRACE)
        if job.attempts >= job.max_attempts:
            _fail(job, f"gave up after {job.attempts} attempts: {_last_error(session, job_id)}")
            return NotClaimed(Refusal.FINISHED, failed_now=True)
        return _start(session, job, worker, now)


def _end_stale(session: Session, job_id: int, now: datetime, gone: WorkerAlive) -> list[Attempt]:
    """End the job's RUNNING attempts whose worker is gone or whose deadline passed; the live rest."""
    live = []
    for attempt in _running(session, job_id):
        if gone(attempt.worker):
            _end_attempt(attempt, AttemptOutcome.LOST, f"worker {attempt.worker} is gone", now)
        elif attempt.deadline_at + SWEEP_GRACE <= now:
            _end_attempt(attempt, AttemptOutcome.TIMED_OUT, "no result by the attempt's deadline", now)
        else:
            live.append(attempt)
    return live


def _start(session: Session, job: Job, worker: str, now: datetime) -> Claim:
    job.attempts += 1
    job.state, job.updated_at = JobState.RUNNING.value, now
    deadline = now + timedelta(seconds=job.time_limit)
    attempt = Attempt(job_id=job.id, number=job.attempts, worker=worker, started_at=now, deadline_at=deadline,
                      outcome=AttemptOutcome.RUNNING.value)
    session.add(attempt)
    session.flush()
    return Claim(job.id, attempt.id, attempt.number, job.kind, job.input, job.queue, job.time_limit, deadline)


def _fail(job: Job, error: str) -> None:
    job.state, job.error, job.updated_at = JobState.FAILED.value, error, utcnow()


def _last_error(session: Session, job_id: int) -> str:
    query = select(Attempt.error).where(Attempt.job_id == job_id).order_by(Attempt.number.desc()).limit(1)
    return session.scalar(query) or "no error recorded"


def record_verdict(db: Database, claim: Claim, verified: Verified, worker: str) -> Recorded:
    """Write the job's result, unless an attempt already did (then this one is DUPLICATE)."""
    now, digest = utcnow(), verified.report_sha256
    try:
        with db.session() as session:
            job = _locked_job(session, claim.job_id)
            attempt = session.get(Attempt, claim.attempt_id)
            assert job is not None and attempt is not None, f"job {claim.job_id} or its attempt vanished"
            if session.scalar(select(Result.id).where(Result.job_id == job.id)) is not None:
                _end_attempt(attempt, AttemptOutcome.DUPLICATE, "the job's result was already written", now)
                return Recorded(None, digest)
            result = Result(job_id=job.id, attempt_id=attempt.id, verdict=verified.verdict,
                            release_name=verified.release_name, release_version=verified.release_version,
                            report=verified.report, report_sha256=digest, report_size=len(verified.report),
                            timings=verified.timings, worker=worker, created_at=now)
            session.add(result)
            _end_attempt(attempt, AttemptOutcome.VERDICT, None, now)
            job.state, job.error, job.updated_at = JobState.DONE.value, None, now
            session.flush()
            return Recorded(result.id, digest)
    except IntegrityError:  # a racing attempt's insert won (the unique job_id)
        _mark(db, claim.attempt_id, AttemptOutcome.DUPLICATE, "the job's result was already written")
        return Recorded(None, digest)


def _mark(db: Database, attempt_id: int, outcome: AttemptOutcome, error: str | None) -> None:
    with db.session() as session:
        attempt = session.get(Attempt, attempt_id)
        if attempt is not None:
            _end_attempt(attempt, outcome, error, utcnow())


def record_error(db: Database, claim: Claim, kind: ErrorKind, error: str, policy: RetryPolicy) -> Next:
    """End the attempt with ``error``; the job is retried (infrastructure) or FAILED."""
    now = utcnow()
    with db.session() as session:
        job = _locked_job(session, claim.job_id)
        attempt = session.get(Attempt, claim.attempt_id)
        assert job is not None and attempt is not None, f"job {claim.job_id} or its attempt vanished"
        if attempt.outcome == AttemptOutcome.RUNNING.value:
            _end_attempt(attempt, ERROR_OUTCOME[kind], error, now)
        if job.state != JobState.RUNNING.value or _running(session, job.id):
            return Next(JobState(job.state))  # finished, or another attempt has it now
        return _after_error(job, kind, error, policy, now)


def _after_error(job: Job, kind: ErrorKind, error: str, policy: RetryPolicy, now: datetime) -> Next:
    if kind is not ErrorKind.INFRASTRUCTURE:
        _fail(job, error)
        return Next(JobState.FAILED)
    if job.attempts >= job.max_attempts:
        _fail(job, f"gave up after {job.attempts} attempts: {error}")
        return Next(JobState.FAILED)
    job.state, job.updated_at = JobState.QUEUED.value, now
    return Next(JobState.QUEUED, policy.delay(job.attempts))


@dataclass(frozen=True)
class Swept:
    job_id: int
    queue: str
    time_limit: float
    next: Next


def sweep(db: Database, policy: RetryPolicy, now: datetime | None = None) -> tuple[Swept, ...]:
    """End every RUNNING attempt past its deadline (plus grace) as TIMED_OUT; their jobs are
    queued again (the caller publishes them) or FAILED when their attempts are used up."""
    now = now or utcnow()
    with db.session() as session:
        query = select(Attempt.job_id).where(Attempt.outcome == AttemptOutcome.RUNNING.value,
                                             Attempt.deadline_at < now - SWEEP_GRACE).distinct()
        job_ids = list(session.scalars(query))
    return tuple(swept for job_id in job_ids if (swept := _sweep_job(db, job_id, policy, now)) is not None)


def release_node(db: Database, node: str, policy: RetryPolicy) -> tuple[Swept, ...]:
    """A worker node starting again: every attempt its earlier processes left RUNNING is LOST
    (none of them survived the restart); their jobs are queued again at once, or FAILED when
    their attempts are used up. The caller publishes the queued ones."""
    now = utcnow()
    with db.session() as session:
        query = select(Attempt.job_id).where(Attempt.outcome == AttemptOutcome.RUNNING.value,
                                             Attempt.worker.startswith(f"{node}/", autoescape=True)).distinct()
        job_ids = list(session.scalars(query))
    released = []
    for job_id in job_ids:
        with db.session() as session:
            job = _locked_job(session, job_id)
            lost = [a for a in _running(session, job_id) if a.worker.startswith(f"{node}/")]
            for attempt in lost:
                _end_attempt(attempt, AttemptOutcome.LOST, f"worker {node} restarted", now)
            if job is None or not lost or job.state != JobState.RUNNING.value or _running(session, job_id):
                continue
            after = _after_error(job, ErrorKind.INFRASTRUCTURE, f"worker {node} restarted during the attempt",
                                 RetryPolicy(0.0, 0.0), now)
            released.append(Swept(job.id, job.queue, job.time_limit, after))
    return tuple(released)


def _sweep_job(db: Database, job_id: int, policy: RetryPolicy, now: datetime) -> Swept | None:
    with db.session() as session:
        job = _locked_job(session, job_id)
        if job is None:
            return None
        if _end_stale(session, job_id, now, lambda w: False):
            return None  # a newer attempt is live
        if job.state != JobState.RUNNING.value:
            return None
        error = "ran past its time limit; its worker sent no result"
        return Swept(job.id, job.queue, job.time_limit, _after_error(job, ErrorKind.INFRASTRUCTURE, error, policy, now))


def fail_unpublished(db: Database, job_id: int, error: str) -> None:
    """A job whose message could not be sent: FAILED, so submitting it again creates a new one."""
    with db.session() as session:
        job = _locked_job(session, job_id)
        if job is not None and job.state == JobState.QUEUED.value and job.attempts == 0:
            _fail(job, f"not queued: {error}")


@dataclass(frozen=True)
class Requeued:
    job_id: int  # the job to deliver (a new one when the old one had finished)
    state: JobState
    publish: bool  # False: it is running; nothing to send
    queue: str
    time_limit: float


def requeue(db: Database, job_id: int) -> Requeued | None:
    """``farm requeue``: a finished job is submitted again as a new job (its history stays);
    a queued one is delivered again (the claim drops duplicates); a running one is left alone."""
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            return None
        state, kind, text = JobState(job.state), job.kind, job.input
        request_fields = (job.queue, job.max_attempts, job.time_limit)
    if state is JobState.RUNNING:
        return Requeued(job_id, state, False, request_fields[0], request_fields[2])
    if state is JobState.QUEUED:
        return Requeued(job_id, state, True, request_fields[0], request_fields[2])
    request = JobRequest(JobInput(JobKind(kind), text), *request_fields)
    submitted = submit(db, request)
    return Requeued(submitted.job_id, submitted.state, submitted.new or submitted.state is JobState.QUEUED,
                    request.queue, request.time_limit)
