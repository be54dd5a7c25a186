"""The web side's two seams over the farm itself: ``DatabaseReader`` reads through
``verifier.farm.queries`` (plus the two reads it lacks: releases grouped by name and
version, and the durations histogram), ``FarmGate`` submits and requeues exactly as
`farm submit` and `farm requeue` do (the database decides duplicates; a new job is then
published to the broker, and a job the broker refused is marked FAILED at once).

The durations histogram is cumulative over every result: results are written once and
never deleted, so each scrape reads only the results stored since the last one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from verifier.errors import InfrastructureError, InputError
from verifier.farm import queries
from verifier.farm.database import Database
from verifier.farm.jobs import JobInput, JobRequest, debian_input, pypi_input, remote_manifest_input
from verifier.farm.jobs import submit as submit_job
from verifier.farm.ledger import fail_unpublished, requeue
from verifier.farm.models import Attempt, Job, JobKind, JobState, Result
from verifier.farm.web.views import (
    DURATION_BUCKETS,
    AttemptView,
    Counts,
    Durations,
    JobDetail,
    JobView,
    ReleaseView,
    ResultView,
    Submission,
    Submitted,
)

INPUTS: dict[str, Callable[[str], JobInput]] = {
    JobKind.MANIFEST.value: remote_manifest_input, JobKind.DEBIAN.value: debian_input, JobKind.PYPI.value: pypi_input,
}
TALLY_BATCH = 10_000
Publish = Callable[[int, str, float], None]  # job id, queue, time limit: send it to the broker


def job_view(s: queries.JobSummary) -> JobView:
    return JobView(s.id, s.kind, s.input, s.queue, s.state, s.attempts, s.max_attempts, s.created_at, s.updated_at,
                   s.verdict, s.release_name or "", s.release_version or "", s.signed, s.error or "")


def _job_row(job: Job, verdict: str, name: str, version: str, signed_at: datetime | None) -> JobView:
    return JobView(job.id, job.kind, job.input, job.queue, job.state, job.attempts, job.max_attempts, job.created_at,
                   job.updated_at, verdict, name, version, signed_at is not None, job.error or "")


def _attempt(a: queries.AttemptView) -> AttemptView:
    return AttemptView(a.number, a.worker, a.started_at, a.deadline_at, a.finished_at, a.outcome, a.error or "")


def _result(job_id: int, r: queries.ResultView, attempts: tuple[AttemptView, ...]) -> ResultView:
    started = next((a.started for a in attempts if a.number == r.attempt_number), r.created_at)
    return ResultView(job_id, r.verdict, r.release_name, r.release_version, r.worker, r.attempt_number, started,
                      r.created_at, r.report_sha256, r.report_size, r.signer or "", r.signed_at)


@dataclass
class _Tally:
    """Per verdict: counts per bucket (not cumulative) and the sum, up to result ``last_id``."""

    last_id: int = 0
    counts: dict[str, list[int]] = field(default_factory=dict)
    sums: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, verdict: str, seconds: float) -> None:
        bucket = next((i for i, le in enumerate(DURATION_BUCKETS) if seconds <= le), len(DURATION_BUCKETS))
        self.counts.setdefault(verdict, [0] * (len(DURATION_BUCKETS) + 1))[bucket] += 1
        self.sums[verdict] = self.sums.get(verdict, 0.0) + seconds

    def histograms(self) -> dict[str, Durations]:
        out = {}
        for verdict, counts in self.counts.items():
            running, buckets = 0, []
            for le, n in zip((*DURATION_BUCKETS, float("inf")), counts):
                running += n
                buckets.append((le, running))
            out[verdict] = Durations(tuple(buckets), self.sums[verdict])
        return out


class DatabaseReader:
    """``FarmReader`` over the farm's database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._tally = _Tally()

    def counts(self) -> Counts:
        stats = queries.queue_stats(self.db)
        query = select(Job.queue, func.count()).where(Job.state == JobState.QUEUED.value).group_by(Job.queue)
        with self.db.session() as session:
            by_queue = {queue: int(n) for queue, n in session.execute(query)}
        return Counts(stats.by_state, stats.by_verdict, self._durations(), stats.oldest_queued_seconds,
                      stats.running_past_deadline, stats.unsigned_results, stats.result_seconds_p50,
                      stats.result_seconds_p95, by_queue)

    def _durations(self) -> dict[str, Durations]:
        with self._tally.lock:
            while True:
                query = (select(Result.id, Result.verdict, Attempt.started_at, Result.created_at)
                         .join(Attempt, Attempt.id == Result.attempt_id).where(Result.id > self._tally.last_id)
                         .order_by(Result.id).limit(TALLY_BATCH))
                with self.db.session() as session:
                    rows = session.execute(query).all()
                for result_id, verdict, started, finished in rows:
                    self._tally.add(verdict, max(0.0, (finished - started).total_seconds()))
                    self._tally.last_id = result_id
                if len(rows) < TALLY_BATCH:
                    return self._tally.histograms()

    def releases(self, limit: int) -> list[ReleaseView]:
        """Each (name, version) with results, the newest first, with its newest result's job:
        two queries, whatever the limit."""
        newest = (select(Result.release_name, Result.release_version, func.max(Result.job_id).label("job_id"),
                         func.count().label("runs"))
                  .group_by(Result.release_name, Result.release_version)
                  .order_by(func.max(Result.job_id).desc()).limit(limit)).subquery()
        query = (select(newest.c.release_name, newest.c.release_version, newest.c.runs, Job, Result.verdict,
                        Result.signed_at)
                 .join(Job, Job.id == newest.c.job_id).join(Result, Result.job_id == Job.id).order_by(Job.id.desc()))
        with self.db.session() as session:
            rows = session.execute(query).all()
        return [ReleaseView(name, version, _job_row(job, verdict, name, version, signed_at), int(runs))
                for name, version, runs, job, verdict, signed_at in rows]

    def history(self, name: str, version: str | None, limit: int) -> list[JobView]:
        jobs = queries.release_history(self.db, name, limit=queries.MAX_PAGE if version is not None else limit)
        return [job_view(j) for j in jobs if version is None or j.release_version == version][:limit]

    def jobs(self, state: str | None, limit: int) -> list[JobView]:
        return [job_view(j) for j in queries.list_jobs(self.db, state=state, limit=limit)]

    def job(self, job_id: int) -> JobDetail | None:
        detail = queries.job_detail(self.db, job_id)
        if detail is None:
            return None
        attempts = tuple(_attempt(a) for a in detail.attempts)
        result = _result(job_id, detail.result, attempts) if detail.result is not None else None
        return JobDetail(job_view(detail.job), attempts, result)

    def report(self, job_id: int) -> bytes | None:
        return queries.report_bytes(self.db, job_id)

    def envelope(self, job_id: int) -> bytes | None:
        return queries.envelope_bytes(self.db, job_id)


class FarmGate:
    """``FarmWriter``: submissions and requeues as `farm submit` and `farm requeue` make them;
    ``publish`` sends a job's message to the broker."""

    def __init__(self, db: Database, publish: Publish) -> None:
        self.db, self._publish = db, publish

    def submit(self, submission: Submission) -> Submitted:
        request = JobRequest(INPUTS[submission.kind](submission.target))
        done = submit_job(self.db, request)
        if done.new:
            self._send(done.job_id, request.queue, request.time_limit)
        return Submitted(done.job_id, done.new)

    def requeue(self, job_id: int) -> Submitted:
        again = requeue(self.db, job_id)
        if again is None:
            raise InputError(f"job {job_id}: no such job")
        if again.publish:
            self._send(again.job_id, again.queue, again.time_limit)
        return Submitted(again.job_id, again.job_id != job_id)

    def _send(self, job_id: int, queue: str, time_limit: float) -> None:
        try:
            self._publish(job_id, queue, time_limit)
        except InfrastructureError as exc:  # the broker refused it: the job must not wait forever
            fail_unpublished(self.db, job_id, exc.message)
            raise
