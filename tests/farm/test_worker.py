"""Real farms on one machine: redis-server, `verifier farm worker` and `attester` processes,
busybox releases built in podman. Submissions, signatures, retries, and the faults of issue
11: a worker SIGKILLed mid-build, Redis restarted with jobs queued."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import require_tool
from tests.farm.harness import Farm, busybox_release, reproducible_release
from tests.farm.services import create_roles, free_port
from verifier.cli.app import run
from verifier.errors import ExitCode
from verifier.farm import queries
from verifier.farm.models import Result
from verifier.sandbox.podman_sandbox import BUILD_LABEL

pytestmark = [pytest.mark.podman, pytest.mark.slow]


def containers(label: str) -> list[str]:
    done = subprocess.run(["podman", "ps", "--all", "--quiet", "--filter", f"label={BUILD_LABEL}={label}"],
                          capture_output=True, text=True, check=True)
    return done.stdout.split()


def results_per_job(farm: Farm) -> dict[int, int]:
    db = farm.open()
    try:
        with db.session() as session:
            return dict(session.execute(select(Result.job_id, func.count()).group_by(Result.job_id)).all())
    finally:
        db.dispose()


def test_submitted_releases_are_verified_once_signed_and_their_envelopes_verify(
        farm: Farm, busybox_rootfs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_tool("podman")
    key = tmp_path / "farm.key"
    assert run(["keygen", "--out", str(key)]) == 0
    good = reproducible_release(tmp_path / "good", busybox_rootfs, "good")
    bad = busybox_release(tmp_path / "bad", busybox_rootfs, "mkdir -p out && echo other > out/a.txt",
                          {"a.txt": b"official\n"}, "bad")
    listing = tmp_path / "list.txt"
    listing.write_text(f"# two releases\n{good}\nmanifest {bad}\n\n")
    assert farm.cli("submit", "--list", str(listing)) == 0
    assert farm.cli("submit", str(good)) == 0  # already queued: not a second job
    assert "job 1 already QUEUED" in capsys.readouterr().out
    farm.worker("w1", concurrency=2)
    farm.attester(key)
    farm.wait_states({"DONE": 2}, 180)
    farm.wait(lambda db: queries.queue_stats(db).unsigned_results == 0, 60, "both results signed")

    db = farm.open()
    jobs = {j.release_name: j for j in queries.list_jobs(db)}
    assert len(jobs) == 2 and jobs["good"].verdict == "REPRODUCIBLE" and jobs["bad"].verdict == "DIFFERENT"
    for name, expected in (("good", ExitCode.OK), ("bad", ExitCode.DIFFERENT)):
        envelope, report = tmp_path / f"{name}.intoto.json", tmp_path / f"{name}.json"
        envelope.write_bytes(queries.envelope_bytes(db, jobs[name].id) or b"")
        report.write_bytes(queries.report_bytes(db, jobs[name].id) or b"")
        code = run(["report", "verify", str(envelope), "--key", f"{key}.pub", "--report", str(report)])
        assert code == expected  # PASSED and FAILED are both signed
    db.dispose()
    assert results_per_job(farm) == {1: 1, 2: 1}
    assert farm.cli("status", "1") == 0 and "verdict: REPRODUCIBLE" in capsys.readouterr().out
    assert "signing" not in farm.log("w1").lower() and str(key) not in farm.log("w1")
    assert containers(farm.label("w1")) == [] and not any((farm.farm_dir / "workers" / farm.node("w1")).iterdir())


def test_a_worker_killed_mid_build_leaves_nothing_and_its_job_finishes_once(
        farm: Farm, busybox_rootfs: Path, tmp_path: Path) -> None:
    """Two worker nodes (as on two machines); the one running the job is SIGKILLed mid-build.
    Redis gives the unacknowledged job to the other node, which leaves it to the live-looking
    attempt; the killed node starts again, removes its leftovers and queues the job again."""
    require_tool("podman")
    manifest = reproducible_release(tmp_path / "slow", busybox_rootfs, "slow", sleep=8)
    options = ("--visibility-timeout", "6", "--sweep-every", "0")
    workers = {name: farm.worker(name, *options) for name in ("wa", "wb")}
    farm.wait_ready(list(workers))
    assert farm.cli("submit", str(manifest)) == 0
    farm.wait(lambda db: any(containers(farm.label(n)) for n in workers), 120, "the build container started")
    running = next(n for n in workers if containers(farm.label(n)))
    Farm.kill(workers[running])
    assert containers(farm.label(running)) != []  # the killed worker's build is still there
    assert list((farm.farm_dir / "workers" / farm.node(running)).iterdir())  # and its job directory
    time.sleep(8)  # past the visibility timeout: Redis has given the job to the other node by now

    farm.worker(running, *options)
    farm.wait_states({"DONE": 1}, 180)
    assert "removed 1 leftover containers, 1 leftover directories; queued again 1 jobs" in farm.log(running)
    db = farm.open()
    detail = queries.job_detail(db, 1)
    db.dispose()
    assert detail is not None and detail.result is not None and detail.result.verdict == "REPRODUCIBLE"
    assert [a.outcome for a in detail.attempts] == ["LOST", "VERDICT"]
    assert results_per_job(farm) == {1: 1}
    time.sleep(1)
    for name in workers:
        assert containers(farm.label(name)) == [] and not any((farm.farm_dir / "workers" / farm.node(name)).iterdir())


def test_jobs_queued_while_redis_restarts_are_not_lost(farm: Farm, busybox_rootfs: Path, tmp_path: Path) -> None:
    require_tool("podman")
    manifests = [reproducible_release(tmp_path / f"r{i}", busybox_rootfs, f"r{i}") for i in range(6)]
    assert farm.cli("submit", *map(str, manifests)) == 0
    farm.redis.restart(kill=True)  # a crash (SIGKILL, no snapshot: --save ""): only the append-only file, fsynced when each job was sent, holds them
    farm.worker("w1", concurrency=2)
    farm.wait_states({"DONE": 6}, 240)
    assert results_per_job(farm) == {i: 1 for i in range(1, 7)}


def test_infrastructure_failures_are_retried_with_backoff_up_to_max_attempts(farm: Farm, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/release.json"  # nothing listens: a fetch error (exit 5 class)
    assert farm.cli("submit", url, "--max-attempts", "3") == 0
    farm.worker("w1", "--retry-delay", "0.5")
    farm.wait_states({"FAILED": 1}, 120)
    db = farm.open()
    detail = queries.job_detail(db, 1)
    db.dispose()
    assert detail is not None and detail.result is None
    assert [a.outcome for a in detail.attempts] == ["INFRASTRUCTURE_ERROR"] * 3
    assert detail.job.error is not None and detail.job.error.startswith("gave up after 3 attempts: ")
    gaps = [(b.started_at - a.finished_at).total_seconds() for a, b in zip(detail.attempts, detail.attempts[1:])]
    assert gaps[0] >= 0.4 and gaps[1] >= 0.9  # 0.5 s, then 1 s


def test_bad_input_fails_at_once_and_a_verdict_is_never_retried(farm: Farm, busybox_rootfs: Path, tmp_path: Path) -> None:
    require_tool("podman")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    failing = busybox_release(tmp_path / "f", busybox_rootfs, "exit 3", {"a.txt": b"x"}, "failing")
    assert farm.cli("submit", str(broken), str(failing), "--max-attempts", "5") == 0
    farm.worker("w1", "--retry-delay", "0.2")
    farm.wait_states({"FAILED": 1, "DONE": 1}, 120)
    db = farm.open()
    bad, done = queries.job_detail(db, 1), queries.job_detail(db, 2)
    db.dispose()
    assert bad is not None and [a.outcome for a in bad.attempts] == ["INPUT_ERROR"] and "broken.json" in (bad.job.error or "")
    assert done is not None and done.result is not None and done.result.verdict == "INCONCLUSIVE"
    assert [a.outcome for a in done.attempts] == ["VERDICT"]


def test_a_build_past_the_time_limit_ends_and_the_job_does_not_stay_running(
        farm: Farm, busybox_rootfs: Path, tmp_path: Path) -> None:
    require_tool("podman")
    forever = busybox_release(tmp_path / "forever", busybox_rootfs, "sleep 600", {"a.txt": b"x"}, "forever")
    assert farm.cli("submit", str(forever), "--time-limit", "4", "--max-attempts", "3") == 0
    farm.worker("w1")
    farm.wait(lambda db: queries.counts_by_state(db)["RUNNING"] == 1, 60, "the job started")
    started = time.monotonic()
    farm.wait_states({"FAILED": 1}, 60)
    assert time.monotonic() - started < 15  # 4 s, and the time to stop the build
    db = farm.open()
    detail = queries.job_detail(db, 1)
    db.dispose()
    assert detail is not None and detail.result is None
    assert [a.outcome for a in detail.attempts] == ["TIMED_OUT"]  # a time-out is final, not retried
    assert "time limit of 4 s" in (detail.job.error or "")
    assert containers(farm.label("w1")) == []  # the build container was stopped and removed


def test_requeue_runs_a_finished_job_again_as_a_new_job(farm: Farm, busybox_rootfs: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    require_tool("podman")
    assert farm.cli("submit", str(reproducible_release(tmp_path / "r", busybox_rootfs))) == 0
    farm.worker("w1")
    farm.wait_states({"DONE": 1}, 120)
    assert farm.cli("requeue", "1") == 0 and "job 2 queued (requeue of job 1)" in capsys.readouterr().out
    farm.wait_states({"DONE": 2}, 120)
    assert farm.cli("requeue", "99") == ExitCode.BAD_INPUT
    assert "job 99: no such job" in capsys.readouterr().err


def test_workers_on_postgresql_with_their_own_roles_share_the_jobs(
        tmp_path: Path, redis_server, postgres_server, postgres_url: str, busybox_rootfs: Path) -> None:  # type: ignore[no-untyped-def]
    """Two worker nodes (as on two machines) log in as the worker role, the attester as its
    role, submitters as the api role; nobody but `migrate` uses the owner role."""
    require_tool("podman")
    from verifier.farm.database import migrate

    migrate(postgres_url)
    roles = create_roles(postgres_url)
    as_role = {name: postgres_url.replace("farm_admin@", f"{role}@") for name, role in
               (("worker", roles.worker), ("attester", roles.attester), ("submit", roles.api), ("status", roles.api))}
    farm = Farm(tmp_path, redis_server, postgres_url, databases=as_role)
    key = tmp_path / "farm.key"
    assert run(["keygen", "--out", str(key)]) == 0
    try:
        manifests = [reproducible_release(tmp_path / f"r{i}", busybox_rootfs, f"pg{i}") for i in range(6)]
        farm.worker("m1")
        farm.worker("m2")
        farm.attester(key)
        farm.wait_ready(["m1", "m2"])
        assert farm.cli("submit", *map(str, manifests)) == 0
        farm.wait_states({"DONE": 6}, 240)
        farm.wait(lambda db: queries.queue_stats(db).unsigned_results == 0, 60, "all signed")
        db = farm.open()
        with db.session() as session:
            workers = {w.split("/")[0] for w in session.scalars(select(Result.worker))}
        db.dispose()
        assert workers == {farm.node("m1"), farm.node("m2")}  # both nodes took jobs
        assert results_per_job(farm) == {i: 1 for i in range(1, 7)}
    finally:
        farm.close()
