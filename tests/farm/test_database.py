"""The farm's database: migrations, submissions and their dedupe, results written once, the
read API the dashboard uses; each on a SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, update
from sqlalchemy.exc import IntegrityError

from tests.farm.services import create_roles
from verifier.errors import InputError
from verifier.farm import queries
from verifier.farm.database import Database, DatabaseError, current_revision, head_revision, migrate, open_database
from verifier.farm.jobs import JobRequest, debian_input, manifest_input, parse_list_line, pypi_input, submit
from verifier.farm.models import Attempt, Job, JobState, Result, utcnow

HOSTILE = "evil\n<script>alert(1)</script>\u202e=1.0"


def test_migrate_creates_the_tables_at_the_newest_revision(db: Database) -> None:
    names = set(inspect(db.engine).get_table_names())
    assert {"farm_jobs", "farm_attempts", "farm_results", "alembic_version"} <= names
    assert current_revision(db.engine) == head_revision()
    columns = {c["name"] for c in inspect(db.engine).get_columns("farm_results")}
    assert {"report", "report_sha256", "envelope", "verdict", "worker", "timings"} <= columns


def test_migrating_twice_is_harmless(database_url: str) -> None:
    assert migrate(database_url) == migrate(database_url) == head_revision()


def test_a_database_without_the_schema_is_refused_with_the_command_that_fixes_it(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError) as caught:
        open_database(f"sqlite:///{tmp_path / 'empty.db'}")
    assert "empty.db" in caught.value.message and "verifier farm migrate" in caught.value.message


def test_an_unreachable_postgresql_names_the_url_without_its_password() -> None:
    from tests.farm.services import free_port
    with pytest.raises(DatabaseError) as caught:
        open_database(f"postgresql://farm:s3cret@127.0.0.1:{free_port()}/farm")
    assert "cannot connect" in caught.value.message and "s3cret" not in caught.value.message
    assert "127.0.0.1" in caught.value.message


@pytest.mark.parametrize("url", ["mysql://x/y", "not a url", "sqlite://"])
def test_unsupported_database_urls_are_input_errors(url: str) -> None:
    with pytest.raises(InputError) as caught:
        open_database(url)
    assert "--database" in caught.value.message


def test_inputs_are_read_strictly_and_normalised() -> None:
    assert debian_input("hello=2.10-3").text == "hello=2.10-3"
    assert debian_input("glibc=1:2.36-9+deb12u4").text == "glibc=1:2.36-9+deb12u4"
    assert pypi_input("Typing_Extensions==4.12.2").text == "typing-extensions==4.12.2"
    assert pypi_input("a.b==1").dedupe_key == pypi_input("A_B==1").dedupe_key
    assert manifest_input("release.json").text.startswith("/")
    for bad in ("hello", "Hello=1", "../x=1", "x=1 2", HOSTILE):
        with pytest.raises(InputError):
            debian_input(bad)
    for bad in ("attrs", "attrs=1", "at trs==1", "attrs==1;rm"):
        with pytest.raises(InputError):
            pypi_input(bad)
    for bad in ("https://u:p@host/x.json", "ftp://host/x.json", "a\nb"):
        with pytest.raises(InputError):
            manifest_input(bad)


def test_list_lines_name_the_file_and_line() -> None:
    assert parse_list_line("  # comment", "list:1") is None
    assert parse_list_line("debian hello=2.10-3", "list:2").text == "hello=2.10-3"  # type: ignore[union-attr]
    assert parse_list_line("https://example.test/r.json", "list:3").kind.value == "manifest"  # type: ignore[union-attr]
    with pytest.raises(InputError) as caught:
        parse_list_line("pypi nope", "jobs.txt:7")
    assert caught.value.message.startswith("jobs.txt:7: ")


def test_the_same_input_queued_twice_is_one_job(db: Database) -> None:
    first = submit(db, JobRequest(debian_input("hello=2.10-3")))
    second = submit(db, JobRequest(debian_input("hello=2.10-3")))
    other = submit(db, JobRequest(debian_input("hello=2.10-4")))
    assert first.new and not second.new and second.job_id == first.job_id
    assert other.new and other.job_id != first.job_id
    _set_state(db, first.job_id, JobState.DONE)
    again = submit(db, JobRequest(debian_input("hello=2.10-3")))
    assert again.new and again.job_id not in (first.job_id, other.job_id)  # a finished job does not block


def test_racing_submitters_create_one_job(db: Database) -> None:
    found: list[int] = []
    barrier = threading.Barrier(8)

    def go() -> None:
        barrier.wait()
        found.append(submit(db, JobRequest(pypi_input("attrs==23.2.0"))).job_id)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 8 and len(set(found)) == 1
    with db.session() as session:
        assert len(session.scalars(select(Job)).all()) == 1


def test_a_second_result_for_a_job_is_refused_by_the_database(db: Database) -> None:
    job_id = submit(db, JobRequest(debian_input("hello=2.10-3"))).job_id
    attempt_id = _attempt(db, job_id, 1)
    _result(db, job_id, attempt_id, b'{"a": 1}')
    with pytest.raises(IntegrityError):
        _result(db, job_id, _attempt(db, job_id, 2), b'{"a": 2}')
    assert queries.report_bytes(db, job_id) == b'{"a": 1}'


def test_the_read_api_shows_jobs_attempts_results_and_counts(db: Database) -> None:
    url = "https://example.test/<script>alert(1)</script>\u202e.json"
    done = submit(db, JobRequest(manifest_input(url))).job_id
    queued = submit(db, JobRequest(debian_input("hello=2.10-3"), queue="arm64")).job_id
    attempt_id = _attempt(db, done, 1)
    _result(db, done, attempt_id, b'{"report": true}', verdict="DIFFERENT", name=HOSTILE)
    _set_state(db, done, JobState.DONE)

    jobs = queries.list_jobs(db)
    assert [j.id for j in jobs] == [queued, done]
    assert jobs[1].input == url and jobs[1].verdict == "DIFFERENT"
    assert jobs[1].release_name == HOSTILE and not jobs[1].signed
    assert [j.id for j in queries.list_jobs(db, state="QUEUED")] == [queued]
    assert [j.id for j in queries.list_jobs(db, verdict="DIFFERENT")] == [done]
    assert [j.id for j in queries.release_history(db, HOSTILE)] == [done]

    detail = queries.job_detail(db, done)
    assert detail is not None and detail.result is not None
    assert detail.attempts[0].worker == "w1" and detail.result.attempt_number == 1
    assert detail.result.report_sha256 == hashlib.sha256(b'{"report": true}').hexdigest()
    assert queries.job_detail(db, 10_000) is None
    assert queries.envelope_bytes(db, done) is None

    stats = queries.queue_stats(db)
    assert stats.by_state == {"QUEUED": 1, "RUNNING": 0, "DONE": 1, "FAILED": 0}
    assert stats.by_verdict == {"DIFFERENT": 1}
    assert stats.unsigned_results == 1 and stats.running_past_deadline == 1  # the test's attempt never ended
    assert stats.oldest_queued_seconds is not None and stats.oldest_queued_seconds >= 0
    assert stats.result_seconds_p50 is not None and stats.result_seconds_p50 >= 0


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert queries.percentile(values, 0.5) == 50.0 and queries.percentile(values, 0.95) == 95.0
    assert queries.percentile([3.0], 0.95) == 3.0 and queries.percentile([], 0.5) is None


def _set_state(db: Database, job_id: int, state: JobState) -> None:
    with db.session() as session:
        session.execute(update(Job).where(Job.id == job_id).values(state=state.value))


def _attempt(db: Database, job_id: int, number: int) -> int:
    with db.session() as session:
        now = utcnow()
        attempt = Attempt(job_id=job_id, number=number, worker=f"w{number}", started_at=now,
                          deadline_at=now - timedelta(seconds=1))
        session.add(attempt)
        session.flush()
        return attempt.id


def _result(db: Database, job_id: int, attempt_id: int, report: bytes, verdict: str = "REPRODUCIBLE",
            name: str = "hello") -> None:
    with db.session() as session:
        session.add(Result(job_id=job_id, attempt_id=attempt_id, verdict=verdict, release_name=name,
                           release_version="1", report=report, report_sha256=hashlib.sha256(report).hexdigest(),
                           report_size=len(report), timings={"total": 1.0}, worker="w1"))


def test_postgresql_roles_keep_workers_from_changing_results_and_the_schema(postgres_server, postgres_url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import ProgrammingError

    from verifier.farm import ledger

    migrate(postgres_url)
    roles = create_roles(postgres_url)

    def as_role(role: str) -> Database:
        return open_database(postgres_url.replace("farm_admin@", f"{role}@"))

    api, worker, attester = as_role(roles.api), as_role(roles.worker), as_role(roles.attester)
    job_id = submit(api, JobRequest(debian_input("hello=2.10-3"))).job_id
    claim = ledger.claim(worker, job_id, "n/1")
    assert isinstance(claim, ledger.Claim)
    report = b'{"x": 1}'
    recorded = ledger.record_verdict(worker, claim, ledger.Verified("DIFFERENT", "hello", "2.10-3", report, {}), "n/1")
    assert recorded.result_id is not None
    for role_db, statement in ((worker, "UPDATE farm_results SET verdict = 'REPRODUCIBLE'"),
                               (worker, "UPDATE farm_results SET envelope = 'x'"),
                               (worker, "DELETE FROM farm_jobs"),
                               (worker, "DROP TABLE farm_results"),
                               (attester, "UPDATE farm_results SET report = 'x'"),
                               (attester, "SELECT * FROM farm_jobs"),
                               (api, "UPDATE farm_results SET verdict = 'REPRODUCIBLE'")):
        with pytest.raises(ProgrammingError) as caught:
            with role_db.session() as session:
                session.execute(text(statement))
        assert "permission denied" in str(caught.value) or "must be owner" in str(caught.value)
    with attester.session() as session:
        session.execute(text("UPDATE farm_results SET envelope = 'e', signed_at = now() WHERE id = :id"),
                        {"id": recorded.result_id})
    assert queries.job_detail(api, job_id).result.verdict == "DIFFERENT"  # type: ignore[union-attr]
    for d in (api, worker, attester):
        d.dispose()
