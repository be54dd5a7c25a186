"""The API's JSON: one function per view, the one place the web side's dataclasses become
JSON. Each page's document holds everything the page shows (and links to the bytes it
offers for download). Strings from inputs are carried as they are: JSON escapes them, and
the responses are ``application/json`` with ``nosniff``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from verifier.farm.web.keys import PublicKeyFile
from verifier.farm.web.results import ResultDetail
from verifier.farm.web.views import Counts, JobView, ReleaseView, ResultView

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
        "id": job.id, "kind": job.kind, "target": job.target, "name": job.name, "version": job.version,
        "state": job.state, "attempts": job.attempts, "submitted": when(job.submitted),
        "finished": when(job.finished), "verdict": job.verdict, "error": job.error or None,
        "result": f"/api/results/{job.result_id}" if job.result_id is not None else None,
        "page": f"/jobs/{job.id}",
    }


def release_json(release: ReleaseView) -> Json:
    return {"name": release.name, "version": release.version, "runs": release.runs,
            "latest": job_json(release.latest), "page": release_path(release.name, release.version)}


def counts_json(counts: Counts) -> Json:
    return {"jobs": dict(sorted(counts.by_state.items())), "verdicts": dict(sorted(counts.by_verdict.items()))}


def result_json(detail: ResultDetail) -> Json:
    r: ResultView = detail.result
    return {
        "id": r.id, "job": job_json(r.job), "name": detail.name, "version": detail.version,
        "verdict": r.verdict, "worker": r.worker, "started": when(r.started), "finished": when(r.finished),
        "seconds": r.seconds, "report_sha256": r.report_sha256, "reasons": list(detail.reasons),
        "differences": [{"artifact": d.name, "status": d.status, "lines": list(d.lines), "more_lines": d.more_lines}
                        for d in detail.diffs],
        "more_differences": detail.more_diffs, "problem": detail.problem or None,
        "downloads": downloads(r), "page": f"/results/{r.id}",
    }


def downloads(r: ResultView) -> Json:
    return {"report": f"/results/{r.id}/report.json", "report_html": f"/results/{r.id}/report.html",
            "envelope": f"/results/{r.id}/report.intoto.json" if r.envelope is not None else None}


def key_json(key: PublicKeyFile) -> Json:
    return {"keyid": key.keyid, "file": key.file_name, "url": f"/keys/{key.file_name}"}


def dumps(doc: Json) -> bytes:
    return json.dumps({"api_version": API_VERSION, **doc}, ensure_ascii=True, sort_keys=True, indent=1).encode()
