"""One delivery of a job inside this process (Celery's eager mode, an in-memory broker), the
verification replaced: how each way a run ends is recorded, and what is published next."""

from __future__ import annotations

from pathlib import Path

import pytest
from celery import Celery

from verifier.errors import InputError, SandboxError
from verifier.farm import queries, worker
from verifier.farm.broker import ATTEST_QUEUE, BrokerConfig, VERIFY_TASK, make_celery
from verifier.farm.database import Database
from verifier.farm.jobs import JobRequest, pypi_input, submit
from verifier.farm.ledger import RetryPolicy, Verified
from verifier.settings import Settings


@pytest.fixture
def app(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Celery, list[tuple[str, list[object], str]]]:
    app = make_celery(BrokerConfig("memory://"))
    sent: list[tuple[str, list[object], str]] = []
    monkeypatch.setattr(app, "send_task", lambda name, args, queue, **kw: sent.append((name, args, queue)))
    config = worker.WorkerConfig("node", str(db.engine.url.render_as_string(hide_password=False)), tmp_path / "farm",
                                 Settings(cache_dir=tmp_path / "cache"), RetryPolicy(base_seconds=2.0), 0)
    runtime = worker.WorkerRuntime(config)
    runtime._db = db
    worker.register_verify(app, runtime)
    return app, sent


def deliver(app: Celery, job_id: int) -> str:
    return app.tasks[VERIFY_TASK].apply(args=[job_id]).result  # type: ignore[no-any-return]


def job(db: Database) -> int:
    return submit(db, JobRequest(pypi_input("attrs==23.2.0"), max_attempts=2)).job_id


def test_a_verdict_is_recorded_and_sent_to_the_attester(app, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    celery, sent = app
    monkeypatch.setattr(worker, "run_job", lambda *a: Verified("DIFFERENT", "attrs", "23.2.0", b"{}", {"total": 1.0}))
    job_id = job(db)
    assert deliver(celery, job_id) == f"job {job_id}: DIFFERENT"
    assert sent == [("verifier.farm.attest", [1, Verified("", "", "", b"{}", {}).report_sha256], ATTEST_QUEUE)]
    assert deliver(celery, job_id) == f"job {job_id}: finished"  # a duplicate delivery does nothing


def test_an_infrastructure_error_is_published_again_with_its_delay(app, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    celery, sent = app

    def fail(*args: object) -> Verified:
        raise SandboxError("podman could not start the build container")
    monkeypatch.setattr(worker, "run_job", fail)
    job_id = job(db)
    assert "now QUEUED" in deliver(celery, job_id)
    assert sent == [(VERIFY_TASK, [job_id], "verify")]
    assert "now FAILED" in deliver(celery, job_id)  # max_attempts 2
    assert len(sent) == 1


def test_bad_input_and_a_bug_end_the_job_at_once(app, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    celery, sent = app
    monkeypatch.setattr(worker, "run_job", lambda *a: (_ for _ in ()).throw(InputError("release.json: not JSON")))
    bad = job(db)
    deliver(celery, bad)
    monkeypatch.setattr(worker, "run_job", lambda *a: (_ for _ in ()).throw(RuntimeError("a bug")))
    buggy = submit(db, JobRequest(pypi_input("iniconfig==2.0.0"))).job_id
    deliver(celery, buggy)
    assert sent == []
    first, second = queries.job_detail(db, bad), queries.job_detail(db, buggy)
    assert first is not None and first.job.state == "FAILED" and first.job.error == "release.json: not JSON"
    assert second is not None and second.job.state == "FAILED"
    assert second.job.error == "internal error (RuntimeError: a bug); please report this bug"
    assert [a.outcome for a in second.attempts] == ["INFRASTRUCTURE_ERROR"]
