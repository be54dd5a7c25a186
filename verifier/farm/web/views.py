"""What the dashboard and the API show, as frozen dataclasses, and the two seams they are
read from and written through: ``FarmReader`` (the farm's read queries) and ``FarmWriter``
(submit, requeue). The web side never touches the database itself; ``source.py`` adapts
the farm's queries to these types, and tests can hand in any object with these methods.

Everything here that came from an input (targets, names, versions, worker ids, reports)
is untrusted text: the templates escape it, the JSON carries it as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

STATES = ("queued", "running", "done", "failed")  # a job's states, in the order of its life
DURATION_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


@dataclass(frozen=True)
class JobView:
    """One submitted verification and where it stands."""

    id: int
    kind: str  # manifest, debian, pypi
    target: str  # what was submitted: a manifest URL, SRC=VER, NAME==VER
    name: str  # the release's name ("" while unknown)
    version: str
    state: str  # queued, running, done, failed
    attempts: int
    submitted: datetime
    finished: datetime | None
    verdict: str | None  # of its result, once there is one
    result_id: int | None
    error: str = ""  # why the last attempt failed (infrastructure), if it did


@dataclass(frozen=True)
class ReleaseView:
    """A release (name, version) and its latest job; ``runs`` counts all its jobs."""

    name: str
    version: str
    latest: JobView
    runs: int


@dataclass(frozen=True)
class ResultView:
    """A finished verification: the stored report's exact bytes and, once the attester
    signed it, the DSSE envelope's exact bytes."""

    id: int
    job: JobView
    verdict: str
    worker: str
    started: datetime
    finished: datetime
    seconds: float
    report_sha256: str
    report: bytes
    envelope: bytes | None


@dataclass(frozen=True)
class Durations:
    """A histogram of job durations: cumulative counts per upper bound (DURATION_BUCKETS,
    then +Inf), their sum, per verdict."""

    buckets: tuple[tuple[float, int], ...]
    total: float


@dataclass(frozen=True)
class Counts:
    by_state: Mapping[str, int]
    by_verdict: Mapping[str, int]
    durations: Mapping[str, Durations]  # verdict -> histogram


class FarmReader(Protocol):
    def counts(self) -> Counts: ...

    def releases(self, limit: int) -> Sequence[ReleaseView]: ...

    def history(self, name: str, version: str | None, limit: int) -> Sequence[JobView]: ...

    def jobs(self, state: str | None, limit: int) -> Sequence[JobView]: ...

    def job(self, job_id: int) -> JobView | None: ...

    def result(self, result_id: int) -> ResultView | None: ...


@dataclass(frozen=True)
class Submission:
    """One thing to verify, as the API receives it (the same forms as `farm submit`)."""

    kind: str  # manifest, debian, pypi
    target: str


@dataclass(frozen=True)
class Submitted:
    job_id: int
    created: bool  # False: the same target was already queued or running


class FarmWriter(Protocol):
    def submit(self, submission: Submission) -> Submitted: ...

    def requeue(self, job_id: int) -> JobView: ...
