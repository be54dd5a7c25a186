"""What the dashboard and the API show, as frozen dataclasses, and the two seams they are
read from and written through: ``FarmReader`` (the farm's state) and ``FarmWriter``
(submit, requeue). ``source.py`` implements both over the farm's database (and broker);
tests hand in a fast fake with the same methods.

A job has at most one result (the farm writes it exactly once), so a result is addressed
by its job's id: ``/jobs/ID`` is the job's page and, once it is DONE, its result's.

Everything here that came from an input (targets, names, versions, worker ids, errors,
reports) is untrusted text: the templates escape it, the JSON carries it as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from verifier.farm.models import JobKind, JobState

STATES = tuple(s.value for s in JobState)  # QUEUED, RUNNING, DONE, FAILED
KINDS = tuple(k.value for k in JobKind)  # manifest, debian, pypi
ACTIVE = (JobState.RUNNING.value, JobState.QUEUED.value)
DURATION_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0)


@dataclass(frozen=True)
class JobView:
    """One submitted verification and where it stands."""

    id: int
    kind: str
    target: str  # what was submitted: a manifest URL, SRC=VER, NAME==VER
    queue: str
    state: str
    attempts: int
    max_attempts: int
    submitted: datetime
    updated: datetime
    verdict: str | None  # once DONE
    name: str  # the release's name, from its report ("" until there is one)
    version: str
    signed: bool  # the attester stored an envelope
    error: str  # why it FAILED ("" when it did not)


@dataclass(frozen=True)
class AttemptView:
    number: int
    worker: str
    started: datetime
    deadline: datetime
    finished: datetime | None
    outcome: str
    error: str


@dataclass(frozen=True)
class ResultView:
    """A job's result: its verdict and the digests of what can be downloaded (the bytes are
    read only when asked for: ``FarmReader.report``, ``FarmReader.envelope``)."""

    job_id: int
    verdict: str
    name: str
    version: str
    worker: str
    attempt: int
    started: datetime  # its attempt's start
    finished: datetime  # the result written
    report_sha256: str
    report_size: int
    signer: str  # key ids, once signed
    signed_at: datetime | None

    @property
    def seconds(self) -> float:
        return (self.finished - self.started).total_seconds()


@dataclass(frozen=True)
class JobDetail:
    job: JobView
    attempts: tuple[AttemptView, ...]
    result: ResultView | None


@dataclass(frozen=True)
class ReleaseView:
    """A release (name, version) and its latest verified job; ``runs`` counts its results."""

    name: str
    version: str
    latest: JobView
    runs: int


@dataclass(frozen=True)
class Durations:
    """A histogram of the time results took (their attempt's start to the result): cumulative
    counts per upper bound (``DURATION_BUCKETS``, then +Inf) and their sum."""

    buckets: tuple[tuple[float, int], ...]
    total: float


@dataclass(frozen=True)
class Counts:
    by_state: Mapping[str, int]
    by_verdict: Mapping[str, int]
    durations: Mapping[str, Durations]  # verdict -> histogram
    oldest_queued_seconds: float | None = None
    running_past_deadline: int = 0
    unsigned_results: int = 0
    latency_p50: float | None = None  # submit to result, over the latest results
    latency_p95: float | None = None
    queued_by_queue: Mapping[str, int] = field(default_factory=dict)  # broker queue (e.g. architecture) -> QUEUED jobs


class FarmReader(Protocol):
    def counts(self) -> Counts: ...

    def releases(self, limit: int) -> Sequence[ReleaseView]: ...

    def history(self, name: str, version: str | None, limit: int) -> Sequence[JobView]: ...

    def jobs(self, state: str | None, limit: int) -> Sequence[JobView]: ...

    def job(self, job_id: int) -> JobDetail | None: ...

    def report(self, job_id: int) -> bytes | None: ...

    def envelope(self, job_id: int) -> bytes | None: ...


@dataclass(frozen=True)
class Submission:
    """One thing to verify, as the API receives it (the forms of `farm submit`)."""

    kind: str  # manifest, debian, pypi
    target: str


@dataclass(frozen=True)
class Submitted:
    job_id: int
    created: bool  # False: the same input was already queued or running, and this is that job


class FarmWriter(Protocol):
    def submit(self, submission: Submission) -> Submitted: ...

    def requeue(self, job_id: int) -> Submitted: ...
