"""What `verifier farm status` prints: the queue's counts and newest jobs, or one job in full.
Every string from an input (inputs, release names, errors) is shown escaped on one line."""

from __future__ import annotations

from datetime import datetime

import typer
from tabulate import tabulate

from verifier.errors import InputError
from verifier.farm import queries
from verifier.farm.database import Database
from verifier.printable import one_line

INPUT_WIDTH = 60


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _short(text: str, width: int = INPUT_WIDTH) -> str:
    shown = one_line(text)
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def show_overview(db: Database, state: str | None, limit: int) -> None:
    stats = queries.queue_stats(db)
    typer.echo("jobs: " + ", ".join(f"{k} {v}" for k, v in stats.by_state.items()))
    typer.echo("verdicts: " + (", ".join(f"{k} {v}" for k, v in sorted(stats.by_verdict.items())) or "none yet"))
    if stats.unsigned_results:
        typer.echo(f"unsigned results: {stats.unsigned_results}")
    jobs = queries.list_jobs(db, state=state.upper() if state else None, limit=limit)
    rows = [(j.id, j.kind, j.state, j.verdict or "-", f"{j.attempts}/{j.max_attempts}", _short(j.input),
             _when(j.updated_at)) for j in jobs]
    typer.echo(tabulate(rows, headers=("id", "kind", "state", "verdict", "attempts", "input", "updated")))


def show_job(db: Database, job_id: int) -> None:
    detail = queries.job_detail(db, job_id)
    if detail is None:
        raise InputError(f"job {job_id}: no such job")
    job = detail.job
    typer.echo(f"job {job.id}: {job.state} ({job.kind}, queue {one_line(job.queue)})")
    typer.echo(f"input: {one_line(job.input)}")
    typer.echo(f"attempts: {job.attempts} of {job.max_attempts}; time limit {job.time_limit:g} s")
    if job.error:
        typer.echo(f"error: {one_line(job.error)}")
    rows = [(a.number, one_line(a.worker), _when(a.started_at), _when(a.finished_at), a.outcome,
             _short(a.error or "", 80)) for a in detail.attempts]
    if rows:
        typer.echo(tabulate(rows, headers=("#", "worker", "started", "finished", "outcome", "error")))
    result = detail.result
    if result is not None:
        typer.echo(f"verdict: {result.verdict} ({one_line(result.release_name)} {one_line(result.release_version)})")
        typer.echo(f"report: sha256 {result.report_sha256}, {result.report_size} bytes, by {one_line(result.worker)}")
        typer.echo(f"signed: {_when(result.signed_at)}" + (f" by {one_line(result.signer or '')}" if result.signed_at else ""))
