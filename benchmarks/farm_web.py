#!/usr/bin/env python3
"""Benchmark: `farm serve` on a large farm. A SQLite farm (the farm's own migration and
models) holds N jobs, half with results over 3,000 releases; each page and API document
is fetched over HTTP from a real uvicorn and timed against the reader call behind it in
the same process (the database's share), median of the runs. The first /metrics scrape
tallies every result's duration once; the later ones read only new results.

    /work/main/.venv/bin/python benchmarks/farm_web.py [--jobs 20000] [--runs 5]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.farm.web_server import REPORTS, T0, filled_farm, request, running  # noqa: E402
from verifier.farm.models import Attempt, Job, Result  # noqa: E402
from verifier.farm.web.context import WebConfig  # noqa: E402
from verifier.farm.web.source import DatabaseReader  # noqa: E402

GOAL_SECONDS = 0.5  # every page at 20,000 jobs (the dashboard reloads every 30 s)


def fill(reader: DatabaseReader, jobs: int) -> None:
    report = (REPORTS / "canonical.json").read_bytes()
    done = range(1, jobs, 2)
    with reader.db.engine.begin() as c:
        c.execute(insert(Job), [dict(id=100 + i, kind="pypi", input=f"p{i}==1", queue="verify", attempts=1 if i % 2 else 0,
                                     dedupe_key=hashlib.sha256(str(i).encode()).hexdigest(), max_attempts=3,
                                     state="DONE" if i % 2 else "QUEUED", time_limit=3600.0, created_at=T0,
                                     updated_at=T0) for i in range(jobs)])
        c.execute(insert(Attempt), [dict(id=100 + i, job_id=100 + i, number=1, worker="w", started_at=T0,
                                         deadline_at=T0 + timedelta(hours=1), outcome="VERDICT") for i in done])
        c.execute(insert(Result), [dict(job_id=100 + i, attempt_id=100 + i, verdict="REPRODUCIBLE",
                                        release_name=f"p{i % 3000}", release_version="1", report=report,
                                        report_sha256="0" * 64, report_size=len(report), timings={}, worker="w",
                                        created_at=T0 + timedelta(seconds=i % 500)) for i in done])


def median(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        farm = filled_farm(Path(tmp))
        reader = farm.reader
        fill(reader, args.jobs)
        job = 100 + 1
        cases: list[tuple[str, Callable[[], object]]] = [
            ("/", lambda: (reader.counts(), reader.releases(100), reader.jobs(None, 50))),
            ("/api/summary", lambda: (reader.counts(), reader.releases(100), reader.jobs(None, 50))),
            ("/release?name=p7", lambda: reader.history("p7", None, 100)),
            (f"/jobs/{job}", lambda: (reader.job(job), reader.report(job))),
            ("/api/jobs?limit=1000", lambda: reader.jobs(None, 1000)),
            ("/metrics", reader.counts),
        ]
        with running(WebConfig(reader)) as url:
            first = median(lambda: request(f"{url}/metrics"), 1)
            print(f"{args.jobs} jobs, {len(range(1, args.jobs, 2))} results; first /metrics scrape {first:.3f} s")
            print(f"{'page':24} {'HTTP s':>8} {'reader s':>9}  goal {GOAL_SECONDS} s")
            worst = 0.0
            for path, direct in cases:
                web, db = median(lambda: request(url + path), args.runs), median(direct, args.runs)
                worst = max(worst, web)
                print(f"{path:24} {web:8.3f} {db:9.3f}")
        farm.db.dispose()
    return 0 if worst <= GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
