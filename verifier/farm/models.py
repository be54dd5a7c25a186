"""The farm's state as SQLAlchemy 2 models: jobs, their attempts, and one result per job.

Tables and columns (the migration in ``migrations/versions`` creates exactly these):

- ``farm_jobs``: one row per submitted input. ``kind`` (manifest | debian | pypi), ``input``
  (the manifest URL, ``SRC=VERSION`` or ``NAME==VERSION``), ``dedupe_key`` (sha256 of kind and
  input), ``queue`` (the Celery queue, e.g. per architecture), ``state`` (QUEUED, RUNNING,
  DONE, FAILED), ``attempts`` (attempts started), ``max_attempts``, ``time_limit`` (seconds
  one attempt may run), ``error`` (why a FAILED job failed), ``created_at``, ``updated_at``.
  A partial unique index on ``dedupe_key`` where the state is QUEUED or RUNNING: the same
  input cannot be waiting or running twice.
- ``farm_attempts``: one row per delivery that started work. ``job_id``, ``number`` (1, 2, …),
  ``worker`` (the Celery node name), ``started_at``, ``deadline_at`` (started + time limit),
  ``finished_at``, ``outcome`` (RUNNING, VERDICT, INFRASTRUCTURE_ERROR, INPUT_ERROR, TIMED_OUT,
  LOST, DUPLICATE), ``error``.
- ``farm_results``: at most one row per job (``job_id`` is unique: written exactly once).
  ``attempt_id``, ``verdict`` (REPRODUCIBLE, EQUIVALENT, DIFFERENT, INCONCLUSIVE),
  ``release_name``, ``release_version``, ``report`` (the report's JSON bytes),
  ``report_sha256``, ``report_size``, ``timings`` (JSON: step -> seconds), ``worker``,
  ``created_at``; then what the attester adds: ``envelope`` (DSSE envelope bytes),
  ``envelope_sha256``, ``signed_at``, ``signer`` (key ids).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class JobKind(StrEnum):
    MANIFEST = "manifest"
    DEBIAN = "debian"
    PYPI = "pypi"


class JobState(StrEnum):
    QUEUED = "QUEUED"  # waiting in the broker (first delivery or a retry)
    RUNNING = "RUNNING"  # a worker holds it, until its attempt's deadline
    DONE = "DONE"  # its result row is written (whatever the verdict)
    FAILED = "FAILED"  # no result: bad input, or infrastructure failures up to max_attempts


ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING)


class AttemptOutcome(StrEnum):
    RUNNING = "RUNNING"
    VERDICT = "VERDICT"  # the verification ended with a verdict: the result row
    INFRASTRUCTURE_ERROR = "INFRASTRUCTURE_ERROR"  # podman, network, disk: retried with backoff
    INPUT_ERROR = "INPUT_ERROR"  # the input is invalid or does not match its pins: never retried
    TIMED_OUT = "TIMED_OUT"  # ran past the job's time limit
    LOST = "LOST"  # its worker vanished (killed); found by a later delivery or the sweep
    DUPLICATE = "DUPLICATE"  # finished after another attempt had written the result: discarded


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Job(Base):
    __tablename__ = "farm_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    input: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(String(64), index=True)
    queue: Mapped[str] = mapped_column(String(64), default="verify")
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED.value, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    time_limit: Mapped[float] = mapped_column(Float, default=3600.0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    attempt_rows: Mapped[list[Attempt]] = relationship(back_populates="job", order_by="Attempt.number")
    result: Mapped[Result | None] = relationship(back_populates="job", uselist=False)

    __table_args__ = (
        Index("farm_jobs_active_dedupe", "dedupe_key", unique=True,
              sqlite_where=text("state IN ('QUEUED', 'RUNNING')"),
              postgresql_where=text("state IN ('QUEUED', 'RUNNING')")),
    )


class Attempt(Base):
    __tablename__ = "farm_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("farm_jobs.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    outcome: Mapped[str] = mapped_column(String(32), default=AttemptOutcome.RUNNING.value, index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    job: Mapped[Job] = relationship(back_populates="attempt_rows")

    __table_args__ = (UniqueConstraint("job_id", "number", name="farm_attempts_job_number"),)


class Result(Base):
    __tablename__ = "farm_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("farm_jobs.id"), unique=True)  # exactly once per job
    attempt_id: Mapped[int] = mapped_column(ForeignKey("farm_attempts.id"))
    verdict: Mapped[str] = mapped_column(String(16), index=True)
    release_name: Mapped[str] = mapped_column(Text, index=True)
    release_version: Mapped[str] = mapped_column(Text)
    report: Mapped[bytes] = mapped_column(LargeBinary)
    report_sha256: Mapped[str] = mapped_column(String(64))
    report_size: Mapped[int] = mapped_column(Integer)
    timings: Mapped[dict[str, float]] = mapped_column(JSON)
    worker: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    envelope: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    envelope_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    signer: Mapped[str | None] = mapped_column(Text, nullable=True)

    job: Mapped[Job] = relationship(back_populates="result")
