"""The API's JSON: one function per view, the one place the web side's dataclasses become
JSON. Each page's document holds everything the page shows (and links to the bytes it
offers for download). Strings from inputs are carried as they are: JSON escapes them, and
the responses are ``application/json`` with ``nosniff``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from verifier.farm.web.keys import PublicKeyFile
from verifier.farm.web.results import ResultDetail
from verifier.farm.web.views import AttemptView, Counts, JobDetail, JobView, ReleaseView, ResultView

API_VERSION = 1
Json = dict[str, Any]


def when(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value.tzinfo else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def release_path(name: str, version: str | None = None) -> str:
    query = {"name": name} | ({"version": version} if version is not None else {})
    return "/release?" + urlencode(query)


def job_json(job: JobView) -> Json:
    return {
        "id": job.id, "kind": job.kind, "target": job.target, "queue": job.queue, "state": job.state,
        "attempts": job.attempts, "max_attempts": job.max_attempts, "submitted": when(job.submitted),
        "updated": when(job.updated), "verdict": job.verdict, "name": job.name or None,
        "version": job.version or None, "signed": job.signed, "error": job.error or None,
        "page": f"/jobs/{job.id}", "api": f"/api/jobs/{job.id}",
    }


def history_json(history: Sequence[JobView]) -> list[Json]:
    """Newest first; ``changed_from``: the verdict of the run before, where it differs (as the page marks it)."""
    older = [*history[1:], None]
    return [job_json(j) | {"changed_from": o.verdict if o and o.verdict and j.verdict and o.verdict != j.verdict else None}
            for j, o in zip(history, older)]


def release_json(release: ReleaseView) -> Json:
    return {"name": release.name, "version": release.version, "runs": release.runs,
            "latest": job_json(release.latest), "page": release_path(release.name, release.version)}


def counts_json(counts: Counts) -> Json:
    return {"jobs": dict(counts.by_state), "verdicts": dict(sorted(counts.by_verdict.items())),
            "oldest_queued_seconds": counts.oldest_queued_seconds, "running_past_deadline": counts.running_past_deadline,
            "unsigned_results": counts.unsigned_results, "queued_by_queue": dict(sorted(counts.queued_by_queue.items())),
            "seconds_to_result": {"p50": counts.latency_p50, "p95": counts.latency_p95}}


def attempt_json(a: AttemptView) -> Json:
    return {"number": a.number, "worker": a.worker, "started": when(a.started), "deadline": when(a.deadline),
            "finished": when(a.finished), "outcome": a.outcome, "error": a.error or None}


def result_json(detail: ResultDetail) -> Json:
    r: ResultView = detail.result
    return {
        "verdict": r.verdict, "name": r.name, "version": r.version, "worker": r.worker, "attempt": r.attempt,
        "started": when(r.started), "finished": when(r.finished), "seconds": r.seconds,
        "report_sha256": r.report_sha256, "report_size": r.report_size, "signer": r.signer or None,
        "signed": when(r.signed_at), "reasons": list(detail.reasons), "more_reasons": detail.more_reasons,
        "differences": [{"artifact": d.name, "status": d.status, "lines": list(d.lines), "more_lines": d.more_lines}
                        for d in detail.diffs],
        "more_differences": detail.more_diffs, "problem": detail.problem or None, "downloads": downloads(r),
    }


def job_detail_json(job: JobDetail, result: ResultDetail | None) -> Json:
    return {"job": job_json(job.job), "attempts": [attempt_json(a) for a in job.attempts],
            "result": result_json(result) if result is not None else None}


def downloads(r: ResultView) -> Json:
    base = f"/jobs/{r.job_id}"
    return {"report": f"{base}/report.json", "report_html": f"{base}/report.html",
            "envelope": f"{base}/report.intoto.json" if r.signed_at is not None else None}


def key_json(key: PublicKeyFile) -> Json:
    return {"keyid": key.keyid, "file": key.file_name, "url": f"/keys/{key.file_name}"}


def dumps(doc: Json) -> bytes:
    return json.dumps({"api_version": API_VERSION, **doc}, ensure_ascii=True, sort_keys=True, indent=1).encode()
