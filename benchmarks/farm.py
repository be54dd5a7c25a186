#!/usr/bin/env python3
"""Benchmark: cheap busybox jobs through `verifier farm` with 1, 2 and 4 worker processes,
against the same verifications run one after another by `verifier verify` in this run;
then a run with a worker SIGKILLed and Redis restarted midway (zero lost, zero duplicated).

Every job is a distinct release (its own manifest, so none is deduplicated) built in the
same busybox rootfs: one podman container each. A real redis-server (append-only file, on
127.0.0.1, temp dir) and a SQLite farm database per configuration (`--postgres`: a
PostgreSQL server started for the run). Prints a markdown table.

    .venv/bin/python benchmarks/farm.py [--jobs 500] [--workers 1,2,4] [--baseline 50]
                                        [--fault-workers 2] [--no-fault] [--postgres]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[0] = str(REPO)  # the repository first, then nothing from benchmarks/ shadows a package

from sqlalchemy import func, select  # noqa: E402

from tests.conftest import _busybox_rootfs  # noqa: E402  (the same tiny rootfs the tests use)
from tests.farm.harness import Farm, reproducible_release  # noqa: E402
from tests.farm.services import create_database, start_postgres, start_redis  # noqa: E402
from verifier.cli.app import run  # noqa: E402
from verifier.farm import queries  # noqa: E402
from verifier.farm.database import migrate  # noqa: E402
from verifier.farm.models import Attempt, Result  # noqa: E402


@dataclass(frozen=True)
class Figures:
    label: str
    jobs: int
    seconds: float
    p50: float
    p95: float
    done: int
    lost: int
    duplicated: int
    verify_seconds: float  # `verifier verify` per release, measured just before this row
    attempts: str  # attempt outcomes other than VERDICT (what the faults hit)

    @property
    def per_minute(self) -> float:
        return self.jobs / self.seconds * 60


def releases(root: Path, rootfs: Path, count: int) -> list[Path]:
    tag = secrets.token_hex(3)  # distinct from any earlier run's jobs
    return [reproducible_release(root / f"r{i}", rootfs, f"bench-{tag}", str(i)) for i in range(count)]


def baseline(tmp: Path, manifests: list[Path]) -> float:
    """Seconds per `verifier verify` (in this process, one after another, warm cache)."""
    cache, work = tmp / "cache", tmp / "verify-work"
    run(["verify", str(manifests[0]), "--cache-dir", str(cache), "--work-dir", str(work), "--output", str(tmp / "s.txt")])
    t0 = time.perf_counter()
    for manifest in manifests:
        code = run(["verify", str(manifest), "--cache-dir", str(cache), "--work-dir", str(work),
                    "--output", str(tmp / "s.txt")])
        assert code == 0, code
    shutil.rmtree(work, ignore_errors=True)
    return (time.perf_counter() - t0) / len(manifests)


def new_farm(root: Path, database: str, cache: Path) -> Farm:
    (root / "redis").mkdir(parents=True)
    migrate(database)
    return Farm(root, start_redis(root / "redis"), database, cache=cache)  # one cache: the env is imported once


def submit_all(farm: Farm, manifests: list[Path]) -> None:
    listing = farm.root / "list.txt"
    listing.write_text("".join(f"{m}\n" for m in manifests))
    with open(os.devnull, "w") as quiet:
        saved, sys.stdout = sys.stdout, quiet
        try:
            code = farm.cli("submit", "--list", str(listing))
        finally:
            sys.stdout = saved
    assert code == 0, code


def count_done(farm: Farm) -> int:
    db = farm.open()
    try:
        return queries.counts_by_state(db)["DONE"]
    finally:
        db.dispose()


def measure(farm: Farm, label: str, jobs: int, t0: float, per_verify: float) -> Figures:
    seconds = time.perf_counter() - t0
    db = farm.open()
    try:
        stats = queries.queue_stats(db, latest=jobs)
        with db.session() as session:
            per_job = session.execute(select(Result.job_id, func.count()).group_by(Result.job_id)).all()
            outcomes = session.execute(select(Attempt.outcome, func.count()).where(Attempt.outcome != "VERDICT")
                                       .group_by(Attempt.outcome)).all()
        done = stats.by_state["DONE"]
    finally:
        db.dispose()
    duplicated = sum(n - 1 for _, n in per_job)
    attempts = ", ".join(f"{n} {o}" for o, n in sorted(outcomes)) or "none"
    return Figures(label, jobs, seconds, stats.result_seconds_p50 or 0.0, stats.result_seconds_p95 or 0.0,
                   done, jobs - done, duplicated, per_verify, attempts)


def throughput(root: Path, database: str, cache: Path, manifests: list[Path], workers: int,
               per_verify: float) -> Figures:
    farm = new_farm(root, database, cache)
    names = [f"b{i}" for i in range(workers)]
    try:
        for name in names:
            farm.worker(name, "--visibility-timeout", "120")
        farm.wait_ready(names)
        t0 = time.perf_counter()
        submit_all(farm, manifests)
        farm.wait_states({"DONE": len(manifests)}, 60 * 60)
        return measure(farm, f"{workers} worker{'s' if workers > 1 else ''}", len(manifests), t0, per_verify)
    finally:
        farm.close()
        farm.redis.stop()


def faults(root: Path, database: str, cache: Path, manifests: list[Path], workers: int,
           per_verify: float) -> Figures:
    """A worker SIGKILLed at a third of the jobs (and started again), Redis restarted at two thirds."""
    farm = new_farm(root, database, cache)
    names = [f"f{i}" for i in range(workers)]
    total = len(manifests)
    try:
        processes = {name: farm.worker(name, "--visibility-timeout", "20", "--sweep-every", "10") for name in names}
        farm.wait_ready(names)
        t0 = time.perf_counter()
        submit_all(farm, manifests)
        farm.wait(lambda db: queries.counts_by_state(db)["DONE"] >= total // 3, 60 * 60, "a third done")
        os.killpg(processes[names[0]].pid, signal.SIGKILL)
        processes[names[0]].wait()
        farm.worker(names[0], "--visibility-timeout", "20", "--sweep-every", "10")
        farm.wait(lambda db: queries.counts_by_state(db)["DONE"] >= 2 * total // 3, 60 * 60, "two thirds done")
        farm.redis.restart()
        farm.wait(lambda db: queries.counts_by_state(db)["DONE"] + queries.counts_by_state(db)["FAILED"] == total,
                  60 * 60, "every job finished")
        return measure(farm, f"{workers} workers, one SIGKILLed, Redis restarted", total, t0, per_verify)
    finally:
        farm.close()
        farm.redis.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--baseline", type=int, default=50, help="verifications in the `verifier verify` baseline")
    parser.add_argument("--fault-workers", type=int, default=2)
    parser.add_argument("--no-fault", action="store_true")
    parser.add_argument("--postgres", action="store_true", help="the farm's database on PostgreSQL, not SQLite")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the workers and Redis it started
    tmp = Path(tempfile.mkdtemp(prefix="verifier-bench-farm-"))
    server = start_postgres() if args.postgres else None
    try:
        rootfs = _busybox_rootfs(tmp / "rootfs")
        cache = tmp / "cache"
        reference = releases(tmp / "baseline", rootfs, args.baseline)
        rows: list[Figures] = []
        for index, workers in enumerate(int(w) for w in args.workers.split(",")):
            manifests = releases(tmp / f"jobs{index}", rootfs, args.jobs)
            database = create_database(server, f"bench{index}") if server else f"sqlite:///{tmp}/farm{index}.db"
            per_verify = baseline(tmp, reference)  # just before each row: the shared machine's load drifts
            rows.append(throughput(tmp / f"farm{index}", database, cache, manifests, workers, per_verify))
            print(f"{rows[-1]}", file=sys.stderr)
        if not args.no_fault:
            manifests = releases(tmp / "jobs-fault", rootfs, args.jobs)
            database = create_database(server, "benchfault") if server else f"sqlite:///{tmp}/farm-fault.db"
            per_verify = baseline(tmp, reference)
            rows.append(faults(tmp / "farm-fault", database, cache, manifests, args.fault_workers, per_verify))
        report(rows, args)
    finally:
        if server is not None:
            server.stop()
        subprocess.run(["umount", "-R", str(tmp)], capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def report(rows: list[Figures], args: argparse.Namespace) -> None:
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\n{args.jobs} busybox jobs per row, {backend}, {os.cpu_count()} cores; `verifier verify` of "
          f"{args.baseline} releases one after another measured just before each row\n")
    print("| run | jobs/min | wall s | s per job | verify s per release | overhead per job | submit→result p50 | p95 "
          "| done | lost | duplicated | other attempt outcomes |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        workers = int(r.label.split()[0])
        per_job = r.seconds / r.jobs
        overhead = per_job * workers - r.verify_seconds  # each worker's time per job, less verify's own
        print(f"| {r.label} | {r.per_minute:.1f} | {r.seconds:.0f} | {per_job:.2f} | {r.verify_seconds:.2f} | "
              f"{overhead:+.2f} s | {r.p50:.0f} s | {r.p95:.0f} s | {r.done} | {r.lost} | {r.duplicated} | {r.attempts} |")
    print("\noverhead per job: wall time x workers / jobs - verify's time per release; with more workers than "
          "cores it includes the contention for the cores, not only the farm's scheduling. All jobs are submitted "
          "at once, so submit->result is mostly time waiting in the queue.")


if __name__ == "__main__":
    main()
