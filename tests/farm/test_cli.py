"""`verifier farm` commands that need no worker: their exit codes, one-line errors naming the
input, and output that shows hostile inputs escaped."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.farm.services import RedisServer, free_port
from verifier.cli.app import run
from verifier.errors import ExitCode
from verifier.farm import queries
from verifier.farm.database import open_database


def farm_args(tmp_path: Path, broker: str | None = None) -> list[str]:
    return ["--farm-dir", str(tmp_path / "farm"), *(["--broker", broker] if broker else [])]


def test_submit_then_status_shows_hostile_inputs_escaped(tmp_path: Path, redis_server: RedisServer,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    hostile = "https://example.test/\u202egnp.json?<b>x</b>"
    assert run(["farm", "submit", hostile, "--debian", "hello=2.10-3", "--pypi", "Attrs==23.2.0",
                *farm_args(tmp_path, redis_server.url)]) == 0
    out = capsys.readouterr().out
    assert "job 3 queued: attrs==23.2.0" in out and "\u202e" not in out
    assert run(["farm", "status", *farm_args(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "QUEUED 3" in out and "\\u202e" in out and "\u202e" not in out
    assert run(["farm", "status", "1", *farm_args(tmp_path)]) == 0
    assert "job 1: QUEUED (manifest, queue verify)" in capsys.readouterr().out


def test_bad_inputs_and_unknown_jobs_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text("debian hello=2.10-3\npypi not a requirement\n")
    assert run(["farm", "submit", "--list", str(listing), *farm_args(tmp_path)]) == ExitCode.BAD_INPUT
    assert f"{listing}:2: --pypi 'not a requirement'" in capsys.readouterr().err
    assert run(["farm", "submit", *farm_args(tmp_path)]) == ExitCode.BAD_INPUT
    assert "nothing to submit" in capsys.readouterr().err
    assert run(["farm", "status", "7", *farm_args(tmp_path)]) == ExitCode.BAD_INPUT
    assert "job 7: no such job" in capsys.readouterr().err


def test_a_broker_that_is_down_fails_the_job_it_could_not_queue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"
    code = run(["farm", "submit", "--debian", "hello=2.10-3", *farm_args(tmp_path, down)])
    assert code == ExitCode.INFRASTRUCTURE and "cannot send" in capsys.readouterr().err
    db = open_database(f"sqlite:///{(tmp_path / 'farm' / 'farm.db').resolve()}")
    [job] = queries.list_jobs(db)
    db.dispose()
    assert job.state == "FAILED" and (job.error or "").startswith("not queued: ")  # a new submit is not blocked


def test_roles_prints_grants_for_the_names_given(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["farm", "roles", "--worker-role", "builder"]) == 0
    assert "GRANT SELECT, INSERT ON farm_results TO builder;" in capsys.readouterr().out
    assert run(["farm", "roles", "--worker-role", "x; DROP TABLE farm_jobs"]) == ExitCode.BAD_INPUT
