"""The JSON API: the same data as each dashboard page (``documents.py``), and the two write
endpoints, which need the write token.

Writes: ``POST /api/jobs`` with ``{"kind": "manifest"|"debian"|"pypi", "target": "..."}``
(the forms of `farm submit`), answered 201 with the new job, or 200 with the job already
queued or running for that target; ``POST /api/jobs/ID/requeue``.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from verifier.farm.web import documents as doc
from verifier.farm.web.context import farm_of, limit_of, release_of, state_of
from verifier.farm.web.metrics import CONTENT_TYPE, exposition
from verifier.farm.web.pages import RECENT, active_jobs, job_or_404, result_detail
from verifier.farm.web.views import KINDS, FarmWriter, Submission, Submitted
from verifier.manifest import strict_json_loads

MAX_BODY = 64 << 10
MAX_TARGET = 4096


def _json(document: doc.Json, status: int = 200) -> Response:
    return Response(doc.dumps(document), status_code=status, media_type="application/json")


def summary(request: Request) -> Response:
    reader = farm_of(request).reader
    return _json({"counts": doc.counts_json(reader.counts()),
                  "releases": [doc.release_json(r) for r in reader.releases(limit_of(request))],
                  "active": [doc.job_json(j) for j in active_jobs(farm_of(request))],
                  "recent": [doc.job_json(j) for j in reader.jobs(None, RECENT)]})


def release(request: Request) -> Response:
    name, version = release_of(request)
    history = farm_of(request).reader.history(name, version, limit_of(request))
    if not history:
        raise HTTPException(404, "no such release")
    return _json({"name": name, "version": version, "history": doc.history_json(history)})


def jobs(request: Request) -> Response:
    state = state_of(request)
    return _json({"jobs": [doc.job_json(j) for j in farm_of(request).reader.jobs(state, limit_of(request))]})


def job(request: Request) -> Response:
    found = job_or_404(request)
    return _json(doc.job_detail_json(found, result_detail(farm_of(request), found)))


def keys(request: Request) -> Response:
    return _json({"keys": [doc.key_json(k) for k in farm_of(request).config.keys]})


def metrics(request: Request) -> Response:
    return Response(exposition(farm_of(request).reader), media_type=CONTENT_TYPE)


def health(request: Request) -> Response:
    """For a load balancer: 200 once the database answers (503 and why, when it does not)."""
    farm_of(request).reader.jobs(None, 1)
    return _json({"ok": True})


def _writer(request: Request) -> FarmWriter:
    """The writer, once the request proved it holds the token (401 otherwise; 403 when the
    farm was started without a token or a writer: writes are off, never open)."""
    config = farm_of(request).config
    if config.token is None or config.writer is None:
        raise HTTPException(403, "writes are disabled on this server (start it with a token)")
    if not config.token.matches(request.headers.get("authorization")):
        raise HTTPException(401, "a valid write token is required", headers={"WWW-Authenticate": "Bearer"})
    return config.writer


async def _body(request: Request) -> dict[str, object]:
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise HTTPException(413, f"request body larger than {MAX_BODY} bytes")
    body = strict_json_loads(data, "request body")  # duplicate keys refused: one reading of a request, not two
    if not isinstance(body, dict):
        raise HTTPException(400, "the request body must be a JSON object")
    return body


def _submission(body: dict[str, object]) -> Submission:
    kind, target = body.get("kind"), body.get("target")
    if kind not in KINDS:
        raise HTTPException(400, f"kind: one of {', '.join(KINDS)}")
    if not isinstance(target, str) or not target or len(target) > MAX_TARGET:
        raise HTTPException(400, f"target: a string of 1 to {MAX_TARGET} characters")
    return Submission(str(kind), target)


async def _answer(request: Request, submitted: Submitted, status: int) -> Response:
    found = await run_in_threadpool(farm_of(request).reader.job, submitted.job_id)
    document = {"created": submitted.created, "job": doc.job_json(found.job) if found else {"id": submitted.job_id}}
    return _json(document, status)


async def submit(request: Request) -> Response:
    writer = _writer(request)
    submitted = await run_in_threadpool(writer.submit, _submission(await _body(request)))
    return await _answer(request, submitted, 201 if submitted.created else 200)


async def requeue(request: Request) -> Response:
    """A finished job runs again as a new job (201, its history stays); a queued one is sent
    again and a running one left alone (200, that job)."""
    writer, job_id = _writer(request), request.path_params["job_id"]
    if await run_in_threadpool(farm_of(request).reader.job, job_id) is None:
        raise HTTPException(404, "no such job")
    submitted = await run_in_threadpool(writer.requeue, job_id)
    return await _answer(request, submitted, 201 if submitted.created else 200)


def routes() -> list[BaseRoute]:
    return [
        Route("/api/summary", summary),
        Route("/api/release", release),
        Route("/api/jobs", jobs),
        Route("/api/jobs", submit, methods=["POST"]),
        Route("/api/jobs/{job_id:int}", job),
        Route("/api/jobs/{job_id:int}/requeue", requeue, methods=["POST"]),
        Route("/api/keys", keys),
        Route("/metrics", metrics),
        Route("/healthz", health),
    ]
