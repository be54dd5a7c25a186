"""The farm's state changes, without a broker: claims, results written once, retries and their
limits, the sweep, requeue; and the attester's checks. On SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from verifier.errors import IntegrityError
from verifier.farm import ledger, queries
from verifier.farm.attester import attest, sign_pending
from verifier.farm.database import Database
from verifier.farm.jobs import JobRequest, debian_input, submit
from verifier.farm.ledger import Claim, ErrorKind, NotClaimed, Refusal, RetryPolicy, Verified
from verifier.farm.models import Attempt, Job, Result, utcnow
from verifier.report.codec import load_report, report_bytes

REPORT = load_report(Path(__file__).resolve().parents[2] / "fixtures" / "reports" / "canonical.json")

POLICY = RetryPolicy(base_seconds=1.0, cap_seconds=4.0)


def verified(verdict: str = "REPRODUCIBLE") -> Verified:
    data = report_bytes(REPORT)
    return Verified(verdict, REPORT.release.name, REPORT.release.version, data, {"total": 1.0})


def new_job(db: Database, max_attempts: int = 3, time_limit: float = 60.0) -> int:
    return submit(db, JobRequest(debian_input("hello=2.10-3"), max_attempts=max_attempts, time_limit=time_limit)).job_id


def claimed(db: Database, job_id: int, worker: str = "n1/1") -> Claim:
    got = ledger.claim(db, job_id, worker)
    assert isinstance(got, Claim), got
    return got


def test_a_second_delivery_while_an_attempt_is_live_is_busy_until_its_deadline(db: Database) -> None:
    job_id = new_job(db)
    first = claimed(db, job_id)
    second = ledger.claim(db, job_id, "n2/7")
    assert isinstance(second, NotClaimed) and second.refusal is Refusal.BUSY
    assert second.retry_at is not None and second.retry_at >= first.deadline
    assert queries.counts_by_state(db)["RUNNING"] == 1


def test_a_delivery_after_the_worker_died_marks_its_attempt_lost_and_starts_another(db: Database) -> None:
    job_id = new_job(db)
    dead = subprocess.Popen(["true"])
    dead.wait()
    claimed(db, job_id, ledger.worker_id("node", dead.pid))
    again = ledger.claim(db, job_id, ledger.worker_id("node"), ledger.local_worker_gone("node"))
    assert isinstance(again, Claim) and again.number == 2
    outcomes = [a.outcome for a in queries.job_detail(db, job_id).attempts]  # type: ignore[union-attr]
    assert outcomes == ["LOST", "RUNNING"]
    assert not ledger.local_worker_gone("node")(ledger.worker_id("node", os.getpid()))  # alive
    assert not ledger.local_worker_gone("node")(ledger.worker_id("other-node", dead.pid))  # not ours to judge


def test_a_result_is_written_once_even_when_the_job_ran_twice(db: Database) -> None:
    job_id = new_job(db)
    first = claimed(db, job_id)
    with db.session() as session:  # the first attempt looks dead: its deadline passed long ago
        session.execute(update(Attempt).values(deadline_at=utcnow() - timedelta(hours=1)))
    second = claimed(db, job_id, "n2/2")
    written = ledger.record_verdict(db, second, verified("DIFFERENT"), "n2/2")
    late = ledger.record_verdict(db, first, verified("REPRODUCIBLE"), "n1/1")
    assert written.result_id is not None and late.result_id is None
    detail = queries.job_detail(db, job_id)
    assert detail is not None and detail.job.state == "DONE" and detail.result is not None
    assert detail.result.verdict == "DIFFERENT" and detail.result.attempt_number == 2
    assert [a.outcome for a in detail.attempts] == ["DUPLICATE", "VERDICT"]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Result)) == 1
    assert isinstance(ledger.claim(db, job_id, "n3/3"), NotClaimed)  # a leftover delivery does nothing


def test_infrastructure_errors_retry_with_doubling_delays_then_fail(db: Database) -> None:
    job_id = new_job(db, max_attempts=3)
    delays = []
    for _ in range(3):
        after = ledger.record_error(db, claimed(db, job_id), ErrorKind.INFRASTRUCTURE, "podman: boom", POLICY)
        delays.append(after.retry_in)
    assert delays == [1.0, 2.0, None]
    job = queries.job_detail(db, job_id).job  # type: ignore[union-attr]
    assert job.state == "FAILED" and job.error == "gave up after 3 attempts: podman: boom"
    assert POLICY.delay(10) == 4.0  # capped


@pytest.mark.parametrize("kind", [ErrorKind.INPUT, ErrorKind.TIMED_OUT, ErrorKind.INTERNAL])
def test_other_errors_are_final_at_the_first_attempt(db: Database, kind: ErrorKind) -> None:
    job_id = new_job(db, max_attempts=5)
    after = ledger.record_error(db, claimed(db, job_id), kind, "no", POLICY)
    assert after.retry_in is None and after.state.value == "FAILED"


def test_the_sweep_ends_attempts_past_their_deadline(db: Database) -> None:
    running, last_try = new_job(db, max_attempts=2), submit(db, JobRequest(debian_input("xz=1"), max_attempts=1, time_limit=60)).job_id
    claimed(db, running), claimed(db, last_try)
    assert ledger.sweep(db, POLICY) == ()  # nothing is late yet
    later = utcnow() + timedelta(seconds=60) + ledger.SWEEP_GRACE + timedelta(seconds=1)
    swept = {s.job_id: s.next for s in ledger.sweep(db, POLICY, now=later)}
    assert swept[running].state.value == "QUEUED" and swept[running].retry_in == 1.0
    assert swept[last_try].state.value == "FAILED"
    assert queries.counts_by_state(db)["RUNNING"] == 0
    with db.session() as session:
        assert set(session.scalars(select(Attempt.outcome))) == {"TIMED_OUT"}


def test_requeue_makes_a_new_job_of_a_finished_one_and_leaves_a_running_one(db: Database) -> None:
    job_id = new_job(db)
    claim = claimed(db, job_id)
    running = ledger.requeue(db, job_id)
    assert running is not None and not running.publish and running.job_id == job_id
    ledger.record_verdict(db, claim, verified(), "n1/1")
    again = ledger.requeue(db, job_id)
    assert again is not None and again.publish and again.job_id != job_id
    assert ledger.requeue(db, 12345) is None


def test_the_attester_signs_only_the_report_the_row_and_the_message_name(db: Database, tmp_path: Path) -> None:
    from verifier.cli.app import run
    key = tmp_path / "k"
    assert run(["keygen", "--out", str(key)]) == 0
    keys = (f"file:{key}",)
    job_id = new_job(db)
    recorded = ledger.record_verdict(db, claimed(db, job_id), verified(), "n1/1")
    assert recorded.result_id is not None
    with pytest.raises(IntegrityError) as caught:
        attest(db, recorded.result_id, "0" * 64, keys)  # the message names another report
    assert "does not match" in caught.value.message
    with db.session() as session:  # the row's bytes changed after the worker wrote them
        session.execute(update(Result).values(report=report_bytes(REPORT) + b" "))
    with pytest.raises(IntegrityError):
        attest(db, recorded.result_id, recorded.report_sha256, keys)
    assert sign_pending(db, keys) == 0 and queries.envelope_bytes(db, job_id) is None
    with db.session() as session:
        session.execute(update(Result).values(report=report_bytes(REPORT)))
    signed = attest(db, recorded.result_id, recorded.report_sha256, keys)
    assert signed is not None and signed.envelope_sha256 == hashlib.sha256(queries.envelope_bytes(db, job_id) or b"").hexdigest()
    assert attest(db, recorded.result_id, recorded.report_sha256, keys) is None  # signed once
    assert queries.job_detail(db, job_id).result.signer  # type: ignore[union-attr]
    with db.session() as session:
        assert session.scalar(select(Job.state)) == "DONE"


def test_a_restarted_node_loses_its_running_attempts_and_queues_their_jobs_again(db: Database) -> None:
    mine, spent, other = new_job(db), submit(db, JobRequest(debian_input("xz=1"), max_attempts=1)).job_id, \
        submit(db, JobRequest(debian_input("dash=1"))).job_id
    claimed(db, mine, "node.a/11"), claimed(db, spent, "node.a/12"), claimed(db, other, "node.b/11")
    released = {r.job_id: r.next for r in ledger.release_node(db, "node.a", POLICY)}
    assert released[mine].state.value == "QUEUED" and released[mine].retry_in == 0.0  # at once: no backoff
    assert released[spent].state.value == "FAILED" and other not in released
    assert queries.job_detail(db, other).job.state == "RUNNING"  # type: ignore[union-attr]
    assert [a.outcome for a in queries.job_detail(db, mine).attempts] == ["LOST"]  # type: ignore[union-attr]
    assert ledger.release_node(db, "node", POLICY) == ()  # a prefix of another node's name is not that node
