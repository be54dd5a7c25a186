"""Helpers of the web tests: a real uvicorn on 127.0.0.1 (a socket bound to a free port
before the server starts, so no other process can take it), plain urllib requests (no
proxy), and a farm database filled with hostile names, reports and signed envelopes."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from verifier.attestation import SigningRequest, generate_keypair, sign_report
from verifier.farm.database import Database, migrate, open_database
from verifier.farm.models import Attempt, Job, Result
from verifier.farm.web.app import create_app
from verifier.farm.web.context import WebConfig
from verifier.farm.web.server import listen, make_server
from verifier.farm.web.source import DatabaseReader, FarmGate
from verifier.report.codec import load_report, report_bytes

REPORTS = Path(__file__).parent.parent.parent / "fixtures" / "reports"
HOSTILE = "<script>alert('x')</script>\"'&\x1b[31m\nVERDICT: REPRODUCIBLE\u202e"
TOKEN = "tok-" + "s3cr3t" * 6
T0 = datetime(2026, 11, 29, 20, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
            method: str | None = None) -> Reply:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with _OPENER.open(req, timeout=20) as resp:
            return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return Reply(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


@contextlib.contextmanager
def running(config: WebConfig) -> Iterator[str]:
    """The app under a real uvicorn in a thread; yields its base URL."""
    sock = listen("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = make_server(create_app(config), "127.0.0.1", port, log_level="warning")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


@dataclass(frozen=True)
class Filled:
    db: Database
    keys: tuple[Path, ...]  # public keys, as `farm serve --public-key` takes them
    key: Path  # the private key that signed
    hostile: int  # job id: a DIFFERENT result of a release with a hostile name, signed
    unsigned: int  # job id: hello 1.0, DIFFERENT, not signed yet
    broken: int  # job id: its stored report is not a report
    failed: int  # job id: FAILED after 3 attempts, a hostile error
    published: list[tuple[int, str, float]]  # what the gate sent to the "broker"

    @property
    def reader(self) -> DatabaseReader:
        return DatabaseReader(self.db)

    @property
    def gate(self) -> FarmGate:
        def publish(job_id: int, queue: str, time_limit: float) -> None:
            self.published.append((job_id, queue, time_limit))
        return FarmGate(self.db, publish)


def _job(session: Session, kind: str, text: str, state: str, *, attempts: int = 0, error: str | None = None,
         created: datetime = T0) -> Job:
    job = Job(kind=kind, input=text, dedupe_key=hashlib.sha256(f"{kind}\0{text}".encode()).hexdigest(),
              queue="verify", state=state, attempts=attempts, max_attempts=3, time_limit=3600.0, error=error,
              created_at=created, updated_at=created + timedelta(seconds=60))
    session.add(job)
    session.flush()
    return job


def _attempt(session: Session, job: Job, number: int, outcome: str, seconds: float, worker: str = "w1",
             error: str | None = None) -> Attempt:
    started = job.created_at + timedelta(seconds=5 * number)
    attempt = Attempt(job_id=job.id, number=number, worker=worker, started_at=started,
                      deadline_at=started + timedelta(hours=1), finished_at=started + timedelta(seconds=seconds),
                      outcome=outcome, error=error)
    session.add(attempt)
    session.flush()
    return attempt


def add_result(session: Session, job: Job, verdict: str, name: str, version: str, report: bytes, seconds: float,
            worker: str = "w1", envelope: bytes | None = None, signer: str | None = None) -> None:
    attempt = _attempt(session, job, 1, "VERDICT", seconds, worker)
    job.attempts = 1
    session.add(Result(job_id=job.id, attempt_id=attempt.id, verdict=verdict, release_name=name, release_version=version,
                       report=report, report_sha256=hashlib.sha256(report).hexdigest(), report_size=len(report),
                       timings={"rebuild": seconds}, worker=worker, created_at=attempt.started_at + timedelta(seconds=seconds),
                       envelope=envelope, envelope_sha256=hashlib.sha256(envelope).hexdigest() if envelope else None,
                       signed_at=T0 + timedelta(hours=1) if envelope else None, signer=signer))


def filled_farm(tmp: Path, url: str | None = None) -> Filled:
    """A SQLite farm (through the farm's own migration and models) with releases whose names
    are hostile, in every state: results signed and not, one whose report is broken."""
    url = url or f"sqlite:///{tmp / 'farm' / 'farm.db'}"
    version = "1.0\x00<b>" if url.startswith("sqlite") else "1.0\x7f<b>"  # PostgreSQL text cannot hold NUL
    migrate(url)
    db = open_database(url)
    canonical = load_report(REPORTS / "canonical.json")
    hostile = replace(canonical, release=replace(canonical.release, name=f"evil{HOSTILE}", version=version),
                      reasons=(*canonical.reasons, f"reason {HOSTILE}"))
    data = report_bytes(hostile)
    key = tmp / "farm.key"
    generate_keypair(key, tmp / "farm.pem")
    signed = sign_report(hostile, hashlib.sha256(data).hexdigest(), SigningRequest((f"file:{key}",)))
    with db.session() as s:
        evil = _job(s, "manifest", f"http://127.0.0.1:9/{HOSTILE}/release.json", "DONE")
        add_result(s, evil, "DIFFERENT", hostile.release.name, hostile.release.version, data, 42.0, f"w{HOSTILE}",
                signed.envelope, "farm-key")
        hello = _job(s, "manifest", "http://127.0.0.1:9/hello/release.json", "DONE", created=T0 + timedelta(minutes=1))
        add_result(s, hello, "DIFFERENT", "hello", "1.0", report_bytes(canonical), 12.5)
        broken = _job(s, "pypi", "broken==0.1", "DONE", created=T0 + timedelta(minutes=2))
        add_result(s, broken, "REPRODUCIBLE", "broken", "0.1", b'{"report_version": 1}', 3.0)
        _job(s, "debian", "hello=1.1", "QUEUED", created=T0 + timedelta(minutes=3))
        failed = _job(s, "pypi", "pkg==2", "FAILED", attempts=3, error=f"podman failed {HOSTILE}",
                      created=T0 + timedelta(minutes=4))
        for n in (1, 2, 3):
            _attempt(s, failed, n, "INFRASTRUCTURE_ERROR", 1.0, error=f"podman failed {HOSTILE}")
        _job(s, "manifest", "http://127.0.0.1:9/hello/release.json", "QUEUED", created=T0 + timedelta(minutes=5))
        ids = (evil.id, hello.id, broken.id, failed.id)
    return Filled(db, (tmp / "farm.pem",), key, *ids, [])
