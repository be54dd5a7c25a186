"""The dashboard: HTML pages rendered from the package's templates, and the downloads
(report JSON, its HTML rendering, the signed envelope, public keys) as their exact bytes.

Each page links to the API document holding the same data (``documents.py``).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from verifier.errors import InputError
from verifier.farm.web.context import farm_of, limit_of, release_of
from verifier.farm.web.views import JobView, ResultView

REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
RECENT = 50


def _page(request: Request, template: str, **context: object) -> HTMLResponse:
    farm = farm_of(request)
    html = farm.templates.get_template(template).render(refresh=farm.config.refresh_seconds, **context)
    return HTMLResponse(html)


def _job(request: Request) -> JobView:
    job = farm_of(request).reader.job(request.path_params["job_id"])
    if job is None:
        raise HTTPException(404, "no such job")
    return job


def result_or_404(request: Request) -> ResultView:
    result = farm_of(request).reader.result(request.path_params["result_id"])
    if result is None:
        raise HTTPException(404, "no such result")
    return result


def index(request: Request) -> HTMLResponse:
    reader = farm_of(request).reader
    return _page(request, "index.html", counts=reader.counts(), releases=reader.releases(limit_of(request)),
                 active=[*reader.jobs("running", RECENT), *reader.jobs("queued", RECENT)],
                 recent=reader.jobs(None, RECENT))


def release(request: Request) -> HTMLResponse:
    name, version = release_of(request)
    history = farm_of(request).reader.history(name, version, limit_of(request))
    if not history:
        raise HTTPException(404, "no such release")
    return _page(request, "release.html", name=name, version=version, history=history)


def job(request: Request) -> HTMLResponse:
    return _page(request, "job.html", job=_job(request))


def result(request: Request) -> HTMLResponse:
    detail = farm_of(request).reports.detail(result_or_404(request))
    return _page(request, "result.html", detail=detail, r=detail.result)


def report_html(request: Request) -> Response:
    try:
        page = farm_of(request).reports.page(result_or_404(request))
    except InputError as exc:
        raise HTTPException(422, exc.message) from None
    return HTMLResponse(page, headers={"Content-Security-Policy": REPORT_CSP})


def _download(data: bytes, name: str, media_type: str) -> Response:
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def report_json(request: Request) -> Response:
    r = result_or_404(request)
    return _download(r.report, f"result-{r.id}.report.json", "application/json")


def envelope(request: Request) -> Response:
    r = result_or_404(request)
    if r.envelope is None:
        raise HTTPException(404, "this result is not signed yet")
    return _download(r.envelope, f"result-{r.id}.intoto.json", "application/json")


def keys(request: Request) -> HTMLResponse:
    return _page(request, "keys.html", keys=farm_of(request).config.keys)


def key_file(request: Request) -> Response:
    wanted = request.path_params["file"]
    for key in farm_of(request).config.keys:
        if key.file_name == wanted:
            return _download(key.data, key.file_name, key.media_type)
    raise HTTPException(404, "no such key")


def no_icon(request: Request) -> Response:
    return Response(status_code=204)  # browsers ask for one; a 404 would be an error in their console


def routes() -> list[BaseRoute]:
    return [
        Route("/", index),
        Route("/favicon.ico", no_icon),
        Route("/release", release),
        Route("/jobs/{job_id:int}", job),
        Route("/results/{result_id:int}", result),
        Route("/results/{result_id:int}/report.html", report_html),
        Route("/results/{result_id:int}/report.json", report_json),
        Route("/results/{result_id:int}/report.intoto.json", envelope),
        Route("/keys", keys),
        Route("/keys/{file}", key_file),
    ]
