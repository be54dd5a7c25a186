"""What can be submitted to the farm, and how a submission becomes one job row.

An input is read strictly (a Debian ``SRC=VERSION``, a PyPI ``NAME==VERSION``, a manifest
URL or path) and keyed by a digest of its kind and normalised text: while a job with the
same key is QUEUED or RUNNING, submitting it again returns that job (the database's partial
unique index ``farm_jobs_active_dedupe`` decides, so two submitters racing cannot both win).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from verifier.errors import InputError
from verifier.farm.database import Database
from verifier.farm.models import ACTIVE_STATES, Job, JobKind, JobState
from verifier.urls import has_userinfo

DEBIAN_SOURCE = re.compile(r"[a-z0-9][a-z0-9+.-]+")
DEBIAN_VERSION = re.compile(r"(?:[0-9]+:)?[0-9A-Za-z][0-9A-Za-z.+~-]*")
PYPI_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
PYPI_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9!+._-]*")  # never an option (-r FILE)
QUEUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_INPUT = 2048
DEFAULT_QUEUE = "verify"
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_TIME_LIMIT = 3600.0


@dataclass(frozen=True)
class JobInput:
    kind: JobKind
    text: str  # normalised: what a worker runs, and what the dedupe key is made of

    @property
    def dedupe_key(self) -> str:
        return hashlib.sha256(f"{self.kind.value}\0{self.text}".encode()).hexdigest()


@dataclass(frozen=True)
class JobRequest:
    input: JobInput
    queue: str = DEFAULT_QUEUE
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    time_limit: float = DEFAULT_TIME_LIMIT

    def __post_init__(self) -> None:
        if not QUEUE_NAME.fullmatch(self.queue):
            raise InputError(f"--queue {self.queue!r}: letters, digits, '.', '_' and '-' only (at most 64)")
        if not 1 <= self.max_attempts <= 100:
            raise InputError(f"--max-attempts: must be between 1 and 100, not {self.max_attempts}")
        if not 0 < self.time_limit <= 7 * 86400:
            raise InputError(f"--time-limit: must be positive and at most a week, not {self.time_limit}")


@dataclass(frozen=True)
class Submitted:
    job_id: int
    new: bool  # False: the same input was already queued or running, and this is that job
    state: JobState


def debian_input(text: str) -> JobInput:
    source, sep, version = text.strip().partition("=")
    if not sep or not DEBIAN_SOURCE.fullmatch(source) or not DEBIAN_VERSION.fullmatch(version):
        raise InputError(f"--debian {text!r}: expected SOURCE=VERSION (e.g. hello=2.10-3)")
    return JobInput(JobKind.DEBIAN, f"{source}={version}")


def pypi_input(text: str) -> JobInput:
    name, sep, version = text.strip().partition("==")
    if not sep or not PYPI_NAME.fullmatch(name) or not PYPI_VERSION.fullmatch(version):
        raise InputError(f"--pypi {text!r}: expected NAME==VERSION (e.g. attrs==23.2.0)")
    return JobInput(JobKind.PYPI, f"{re.sub(r'[-_.]+', '-', name).lower()}=={version}")


def manifest_input(text: str) -> JobInput:
    """A manifest URL (http, https, file) or a local path, made absolute (workers share the host's files)."""
    text = text.strip()
    if not text or len(text) > MAX_INPUT or any(ord(c) < 32 or c == "\x7f" for c in text):
        raise InputError(f"manifest {text[:200]!r}: not a URL or path")
    scheme = urlsplit(text).scheme.lower()
    if scheme in ("http", "https", "file"):
        if has_userinfo(text):
            raise InputError(f"manifest {text[:200]!r}: credentials in URLs are refused (docs/network-policy.md)")
        return JobInput(JobKind.MANIFEST, text)
    if scheme and len(scheme) > 1:
        raise InputError(f"manifest {text[:200]!r}: unsupported URL scheme {scheme!r} (http, https, file or a path)")
    return JobInput(JobKind.MANIFEST, str(Path(text).absolute()))


def remote_manifest_input(text: str) -> JobInput:
    """A manifest named over the web API: an http(s) URL only. A path or file: URL would name a
    file on the worker's machine, which a remote submitter must not choose (`farm submit` on
    the farm's own machines may)."""
    found = manifest_input(text)
    if urlsplit(text.strip()).scheme.lower() not in ("http", "https"):
        raise InputError(f"manifest {text.strip()[:200]!r}: the web API takes http or https URLs only, "
                         "not a path or file: URL on the workers' machines")
    return found


def parse_list_line(line: str, place: str) -> JobInput | None:
    """One line of ``submit --list FILE``: ``debian SRC=VER``, ``pypi NAME==VER``, or a manifest
    URL or path (optionally after ``manifest``); blank lines and ``#`` comments are skipped."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    word, _, rest = text.partition(" ")
    try:
        if word == "debian":
            return debian_input(rest)
        if word == "pypi":
            return pypi_input(rest)
        return manifest_input(rest if word == "manifest" else text)
    except InputError as exc:
        raise InputError(f"{place}: {exc.message}") from None


def submit(db: Database, request: JobRequest) -> Submitted:
    """Create the job, or return the one already queued or running for the same input."""
    try:
        with db.session() as session:
            job = Job(kind=request.input.kind.value, input=request.input.text, dedupe_key=request.input.dedupe_key,
                      queue=request.queue, state=JobState.QUEUED.value, attempts=0,
                      max_attempts=request.max_attempts, time_limit=request.time_limit)
            session.add(job)
            session.flush()
            return Submitted(job.id, True, JobState.QUEUED)
    except IntegrityError:
        pass  # the active-dedupe index: the same input is queued or running
    with db.session() as session:
        existing = active_job(session, request.input.dedupe_key)
        if existing is None:  # it finished between our insert and this read: submit again
            return submit(db, request)
        return Submitted(existing.id, False, JobState(existing.state))


def active_job(session: Session, dedupe_key: str) -> Job | None:
    query = select(Job).where(Job.dedupe_key == dedupe_key, Job.state.in_([s.value for s in ACTIVE_STATES]))
    return session.scalars(query).first()
