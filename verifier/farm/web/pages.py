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
from verifier.farm.web.context import Farm, farm_of, limit_of, release_of, state_of
from verifier.farm.web.results import ResultDetail
from verifier.farm.web.views import ACTIVE, JobDetail, JobView, ResultView

REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
RECENT = 50


def _page(request: Request, template: str, **context: object) -> HTMLResponse:
    farm = farm_of(request)
    html = farm.templates.get_template(template).render(refresh=farm.config.refresh_seconds, **context)
    return HTMLResponse(html)


def job_or_404(request: Request) -> JobDetail:
    found = farm_of(request).reader.job(request.path_params["job_id"])
    if found is None:
        raise HTTPException(404, "no such job")
    return found


def result_or_404(request: Request) -> ResultView:
    result = job_or_404(request).result
    if result is None:
        raise HTTPException(404, "this job has no result yet")
    return result


def result_detail(farm: Farm, job: JobDetail) -> ResultDetail | None:
    return None if job.result is None else farm.reports.detail(job.result, farm.reader.report)


def active_jobs(farm: Farm) -> list[JobView]:
    return [j for state in ACTIVE for j in farm.reader.jobs(state, RECENT)]


def index(request: Request) -> HTMLResponse:
    farm = farm_of(request)
    return _page(request, "index.html", counts=farm.reader.counts(), releases=farm.reader.releases(limit_of(request)),
                 active=active_jobs(farm), recent=farm.reader.jobs(None, RECENT))


def release(request: Request) -> HTMLResponse:
    name, version = release_of(request)
    history = farm_of(request).reader.history(name, version, limit_of(request))
    if not history:
        raise HTTPException(404, "no such release")
    return _page(request, "release.html", name=name, version=version, history=history)


def jobs(request: Request) -> HTMLResponse:
    state = state_of(request)
    return _page(request, "jobs.html", state=state, jobs=farm_of(request).reader.jobs(state, limit_of(request)))


def job(request: Request) -> HTMLResponse:
    found = job_or_404(request)
    return _page(request, "job.html", d=found, job=found.job, detail=result_detail(farm_of(request), found))


def report_html(request: Request) -> Response:
    farm = farm_of(request)
    try:
        page = farm.reports.page(result_or_404(request), farm.reader.report)
    except InputError as exc:
        raise HTTPException(422, exc.message) from None
    return HTMLResponse(page, headers={"Content-Security-Policy": REPORT_CSP})


def _download(data: bytes | None, name: str, media_type: str) -> Response:
    if data is None:
        raise HTTPException(404, "not stored")
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def report_json(request: Request) -> Response:
    r = result_or_404(request)
    return _download(farm_of(request).reader.report(r.job_id), f"job-{r.job_id}.report.json", "application/json")


def envelope(request: Request) -> Response:
    r = result_or_404(request)
    if r.signed_at is None:
        raise HTTPException(404, "this result is not signed yet")
    return _download(farm_of(request).reader.envelope(r.job_id), f"job-{r.job_id}.intoto.json", "application/json")


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
        Route("/jobs", jobs),
        Route("/jobs/{job_id:int}", job),
        Route("/jobs/{job_id:int}/report.html", report_html),
        Route("/jobs/{job_id:int}/report.json", report_json),
        Route("/jobs/{job_id:int}/report.intoto.json", envelope),
        Route("/keys", keys),
        Route("/keys/{file}", key_file),
    ]
