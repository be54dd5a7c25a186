"""Read-only views of the farm's state, as frozen dataclasses: what ``farm status``, the web
dashboard, its JSON API and its metrics show. Nothing here writes.

Every function takes a ``Database`` (verifier/farm/database.py) and returns plain values;
the strings in them (inputs, release names, errors) came from inputs: escape them on output.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from verifier.farm.database import Database
from verifier.farm.models import Attempt, Job, JobState, Result, utcnow

MAX_PAGE = 1000


@dataclass(frozen=True)
class JobSummary:
    id: int
    kind: str  # manifest | debian | pypi
    input: str
    queue: str
    state: str  # QUEUED | RUNNING | DONE | FAILED
    attempts: int
    max_attempts: int
    time_limit: float
    error: str | None
    created_at: datetime
    updated_at: datetime
    verdict: str | None  # from the result, once DONE
    release_name: str | None
    release_version: str | None
    signed: bool  # the attester stored an envelope


@dataclass(frozen=True)
class AttemptView:
    number: int
    worker: str
    started_at: datetime
    deadline_at: datetime
    finished_at: datetime | None
    outcome: str
    error: str | None


@dataclass(frozen=True)
class ResultView:
    verdict: str
    release_name: str
    release_version: str
    report_sha256: str
    report_size: int
    timings: dict[str, float]
    worker: str
    attempt_number: int
    created_at: datetime
    signed_at: datetime | None
    signer: str | None
    envelope_sha256: str | None


@dataclass(frozen=True)
class JobDetail:
    job: JobSummary
    attempts: tuple[AttemptView, ...]
    result: ResultView | None


@dataclass(frozen=True)
class QueueStats:
    by_state: dict[str, int]  # every JobState, zero included
    by_verdict: dict[str, int]  # verdicts of DONE jobs
    oldest_queued_seconds: float | None
    running_past_deadline: int  # should stay 0: the sweep ends them (verifier/farm/reliability.py)
    unsigned_results: int
    result_seconds_p50: float | None  # submit to result, over the latest results
    result_seconds_p95: float | None


def _summaries_query():  # type: ignore[no-untyped-def]
    # Only the columns a summary needs: never the report or envelope bytes.
    return (select(Job, Result.verdict, Result.release_name, Result.release_version, Result.signed_at)
            .outerjoin(Result, Result.job_id == Job.id))


def _row_summary(row) -> JobSummary:  # type: ignore[no-untyped-def]
    job, verdict, name, version, signed_at = row
    return JobSummary(
        id=job.id, kind=job.kind, input=job.input, queue=job.queue, state=job.state, attempts=job.attempts,
        max_attempts=job.max_attempts, time_limit=job.time_limit, error=job.error, created_at=job.created_at,
        updated_at=job.updated_at, verdict=verdict, release_name=name, release_version=version,
        signed=signed_at is not None)


def list_jobs(db: Database, *, state: str | None = None, kind: str | None = None, verdict: str | None = None,
              release: str | None = None, limit: int = 100, offset: int = 0) -> tuple[JobSummary, ...]:
    """Jobs, newest first, optionally filtered (``release``: the release name, exact)."""
    query = _summaries_query().order_by(Job.id.desc()).limit(max(0, min(limit, MAX_PAGE))).offset(max(0, offset))
    if state:
        query = query.where(Job.state == state)
    if kind:
        query = query.where(Job.kind == kind)
    if verdict:
        query = query.where(Result.verdict == verdict)
    if release:
        query = query.where(Result.release_name == release)
    with db.session() as session:
        return tuple(_row_summary(row) for row in session.execute(query))


def job_detail(db: Database, job_id: int) -> JobDetail | None:
    with db.session() as session:
        row = session.execute(_summaries_query().where(Job.id == job_id)).first()
        if row is None:
            return None
        attempts = session.scalars(select(Attempt).where(Attempt.job_id == job_id).order_by(Attempt.number))
        views = tuple(AttemptView(a.number, a.worker, a.started_at, a.deadline_at, a.finished_at, a.outcome, a.error)
                      for a in attempts)
        return JobDetail(_row_summary(row), views, _result_view(session, job_id, views))


def _result_view(session: Session, job_id: int, attempts: tuple[AttemptView, ...]) -> ResultView | None:
    query = select(Result.verdict, Result.release_name, Result.release_version, Result.report_sha256,
                   Result.report_size, Result.timings, Result.worker, Attempt.number, Result.created_at,
                   Result.signed_at, Result.signer, Result.envelope_sha256
                   ).join(Attempt, Attempt.id == Result.attempt_id).where(Result.job_id == job_id)
    row = session.execute(query).first()
    return None if row is None else ResultView(*row)


def report_bytes(db: Database, job_id: int) -> bytes | None:
    """The report JSON exactly as the worker stored it (its sha256 is ``ResultView.report_sha256``)."""
    with db.session() as session:
        return session.scalar(select(Result.report).where(Result.job_id == job_id))


def envelope_bytes(db: Database, job_id: int) -> bytes | None:
    """The attester's DSSE envelope over the report, or None while unsigned."""
    with db.session() as session:
        return session.scalar(select(Result.envelope).where(Result.job_id == job_id))


def release_history(db: Database, name: str, limit: int = 100) -> tuple[JobSummary, ...]:
    """Every verified job of release ``name``, newest first (the dashboard's per-release page)."""
    return list_jobs(db, release=name, limit=limit)


def counts_by_state(db: Database) -> dict[str, int]:
    with db.session() as session:
        found = dict(session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
    return {state.value: int(found.get(state.value, 0)) for state in JobState}


def counts_by_verdict(db: Database) -> dict[str, int]:
    with db.session() as session:
        return {v: int(n) for v, n in session.execute(select(Result.verdict, func.count()).group_by(Result.verdict))}


def queue_stats(db: Database, *, latest: int = 1000) -> QueueStats:
    now = utcnow()
    with db.session() as session:
        oldest = session.scalar(select(func.min(Job.created_at)).where(Job.state == JobState.QUEUED.value))
        overdue = session.scalar(select(func.count()).select_from(Attempt).where(
            Attempt.outcome == "RUNNING", Attempt.deadline_at < now)) or 0
        unsigned = session.scalar(select(func.count()).select_from(Result).where(Result.signed_at.is_(None))) or 0
        pairs = session.execute(select(Job.created_at, Result.created_at).join(Result, Result.job_id == Job.id)
                                .order_by(Result.id.desc()).limit(latest)).all()
    seconds = sorted((done - submitted).total_seconds() for submitted, done in pairs)
    return QueueStats(
        by_state=counts_by_state(db), by_verdict=counts_by_verdict(db),
        oldest_queued_seconds=(now - _aware(oldest)).total_seconds() if oldest else None,
        running_past_deadline=int(overdue), unsigned_results=int(unsigned),
        result_seconds_p50=percentile(seconds, 0.50), result_seconds_p95=percentile(seconds, 0.95))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, round(fraction * len(sorted_values) + 0.5 - 1e-9))
    return sorted_values[min(rank, len(sorted_values)) - 1]
