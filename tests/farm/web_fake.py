"""A fast in-memory farm for the web tests: the ``FarmReader`` and ``FarmWriter`` seams
over a list of jobs and results, filled with hostile names."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from verifier.farm.web.views import (
    DURATION_BUCKETS,
    Counts,
    Durations,
    JobView,
    ReleaseView,
    ResultView,
    Submission,
    Submitted,
)

T0 = datetime(2026, 11, 29, 20, 0, 0, tzinfo=UTC)


@dataclass
class FakeFarm:
    jobs_by_id: dict[int, JobView] = field(default_factory=dict)
    results_by_id: dict[int, ResultView] = field(default_factory=dict)

    def add_job(self, name: str, version: str, state: str = "queued", *, kind: str = "manifest",
                target: str | None = None, attempts: int = 0, error: str = "") -> JobView:
        job_id = len(self.jobs_by_id) + 1
        job = JobView(job_id, kind, target or f"http://127.0.0.1:9/{job_id}/release.json", name, version, state,
                      attempts, T0 + timedelta(minutes=job_id), None, None, None, error)
        self.jobs_by_id[job_id] = job
        return job

    def add_result(self, job: JobView, verdict: str, report: bytes, envelope: bytes | None,
                   seconds: float = 12.5, worker: str = "worker-1") -> ResultView:
        result_id = len(self.results_by_id) + 1
        done = replace(job, state="done", attempts=max(1, job.attempts), verdict=verdict, result_id=result_id,
                       finished=job.submitted + timedelta(seconds=seconds))
        self.jobs_by_id[job.id] = done
        result = ResultView(result_id, done, verdict, worker, job.submitted, done.finished or T0, seconds,
                            hashlib.sha256(report).hexdigest(), report, envelope)
        self.results_by_id[result_id] = result
        return result

    # FarmReader
    def counts(self) -> Counts:
        results = list(self.results_by_id.values())
        durations = {}
        for verdict in {r.verdict for r in results}:
            times = [r.seconds for r in results if r.verdict == verdict]
            buckets = tuple((le, sum(t <= le for t in times)) for le in (*DURATION_BUCKETS, float("inf")))
            durations[verdict] = Durations(buckets, sum(times))
        return Counts(dict(Counter(j.state for j in self.jobs_by_id.values())),
                      dict(Counter(r.verdict for r in results)), durations)

    def _newest_first(self) -> list[JobView]:
        return sorted(self.jobs_by_id.values(), key=lambda j: j.id, reverse=True)

    def releases(self, limit: int) -> list[ReleaseView]:
        seen: dict[tuple[str, str], list[JobView]] = {}
        for j in self._newest_first():
            if j.name:
                seen.setdefault((j.name, j.version), []).append(j)
        return [ReleaseView(n, v, js[0], len(js)) for (n, v), js in seen.items()][:limit]

    def history(self, name: str, version: str | None, limit: int) -> list[JobView]:
        return [j for j in self._newest_first() if j.name == name and version in (None, j.version)][:limit]

    def jobs(self, state: str | None, limit: int) -> list[JobView]:
        return [j for j in self._newest_first() if state in (None, j.state)][:limit]

    def job(self, job_id: int) -> JobView | None:
        return self.jobs_by_id.get(job_id)

    def result(self, result_id: int) -> ResultView | None:
        return self.results_by_id.get(result_id)

    # FarmWriter
    def submit(self, submission: Submission) -> Submitted:
        for j in self.jobs_by_id.values():
            if (j.kind, j.target) == (submission.kind, submission.target) and j.state in ("queued", "running"):
                return Submitted(j.id, False)
        return Submitted(self.add_job("", "", kind=submission.kind, target=submission.target).id, True)

    def requeue(self, job_id: int) -> JobView:
        job = replace(self.jobs_by_id[job_id], state="queued", result_id=None, verdict=None, finished=None)
        self.jobs_by_id[job_id] = job
        return job
