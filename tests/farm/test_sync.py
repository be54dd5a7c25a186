"""`farm sync --debian SUITE`: what is queued, what is skipped; and once against the real
archive of this machine's apt sources (read through its signed chain)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from verifier.farm.database import Database
from verifier.farm.jobs import JobRequest, debian_input, submit
from verifier.farm.models import Job, JobState
from verifier.farm.sync import plan_sync

SOURCES = {"hello": "2.10-3", "cowsay": "3.03+dfsg2-8", "dash": "0.5.12-2", "zlib": "1:1.2.13.dfsg-1"}


def _finish(db: Database, source: str, state: JobState) -> None:
    job_id = submit(db, JobRequest(debian_input(source))).job_id
    with db.session() as session:
        session.execute(update(Job).where(Job.id == job_id).values(state=state.value))


def test_sync_skips_verified_active_and_failed_versions(db: Database) -> None:
    _finish(db, "hello=2.10-3", JobState.DONE)
    _finish(db, "cowsay=3.03+dfsg2-7", JobState.DONE)  # an older version: the new one is queued
    submit(db, JobRequest(debian_input("dash=0.5.12-2")))  # queued
    _finish(db, "zlib=1:1.2.13.dfsg-1", JobState.FAILED)
    plan = plan_sync(db, SOURCES)
    assert [i.text for i in plan.submit] == ["cowsay=3.03+dfsg2-8"]
    assert (plan.already_verified, plan.already_active, plan.failed_before) == (1, 1, 1)
    again = plan_sync(db, SOURCES, retry_failed=True)
    assert [i.text for i in again.submit] == ["cowsay=3.03+dfsg2-8", "zlib=1:1.2.13.dfsg-1"]
    only = plan_sync(db, SOURCES, ("cowsay", "nonexistent"))
    assert [i.text for i in only.submit] == ["cowsay=3.03+dfsg2-8"] and only.not_in_suite == ("nonexistent",)


@pytest.mark.slow
@pytest.mark.network_archive
def test_sync_reads_the_real_suite_and_queues_only_the_packages_asked(tmp_path: Path, capsys) -> None:
    from verifier.cli.app import run
    from verifier.errors import ExitCode

    farm = ["--farm-dir", str(tmp_path / "farm"), "--cache-dir", str(tmp_path / "cache"), "--allow-private-addresses"]
    code = run(["farm", "sync", "--debian", "bookworm", "--packages", "hello,dash", "--dry-run", *farm])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "2 to queue" in out.err and "would queue: hello=2.10-" in out.out and "would queue: dash=" in out.out
    code = run(["farm", "sync", "--debian", "bookworm", "--packages", "no-such-source-xyz", "--dry-run", *farm])
    assert code == ExitCode.BAD_INPUT and "no-such-source-xyz" in capsys.readouterr().err
