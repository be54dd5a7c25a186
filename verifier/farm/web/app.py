"""The app factory: ``create_app(WebConfig)`` gives the ASGI app `farm serve` runs.

Every response carries a strict Content-Security-Policy (no scripts at all; styles and
frames from this server only), ``nosniff``, ``no-referrer`` and a same-origin frame rule.
Errors are one line: JSON under ``/api/``, a small escaped page elsewhere. A database that
went away is 503 with its one-line reason; anything else is a bug and stays a 500.
Requests naming another Host than the configured ones are refused (400): a web page
that rebinds its DNS name to 127.0.0.1 cannot read a dashboard served there. The access log is our own, one line per request with the path escaped (uvicorn's would
print a decoded path, and a %0A in it would start a forged line).
"""

from __future__ import annotations

import logging
import time

from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from verifier.errors import InfrastructureError, InputError, VerifierError
from verifier.farm.web import api, pages
from verifier.farm.web.context import Farm, WebConfig
from verifier.farm.web.documents import dumps
from verifier.printable import one_line

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; frame-ancestors 'self'; "
       "base-uri 'none'; form-action 'none'")
HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
           (b"x-frame-options", b"SAMEORIGIN"), (b"cache-control", b"no-store")]
MAX_REQUEST_BODY = 1 << 20
log = logging.getLogger("verifier.farm.web")


class SecurityHeaders:
    """Adds the headers above to every response; a route's own CSP (the embedded report's) wins."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.monotonic(), [0]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"content-security-policy" for name, _ in headers):
                    headers.append((b"content-security-policy", CSP.encode()))
                message = {**message, "headers": headers + HEADERS}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            log.info("%s %s %s %d %.3fs", one_line(scope.get("client", ("-",))[0]), scope["method"],
                     one_line(scope["path"])[:500], status[0], time.monotonic() - started)


def _error(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    if request.url.path.startswith("/api/"):
        return Response(dumps({"error": message}), status_code=status, media_type="application/json", headers=headers)
    farm: Farm = request.app.state.farm
    html = farm.templates.get_template("error.html").render(status=status, message=message, refresh=0)
    return HTMLResponse(html, status_code=status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error(request, exc.status_code, exc.detail, exc.headers)


async def _verifier_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VerifierError)
    status = 503 if isinstance(exc, InfrastructureError) else 400 if isinstance(exc, InputError) else 409
    return _error(request, status, exc.message)


async def _database_error(request: Request, exc: Exception) -> Response:
    """The database went away (restarted, unreachable) while serving: 503 and one line."""
    assert isinstance(exc, OperationalError)
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None and str(exc.orig).strip() else type(exc).__name__
    return _error(request, 503, f"the farm's database is unavailable: {one_line(reason)}")


def create_app(config: WebConfig) -> Starlette:
    static = StaticFiles(packages=[("verifier.farm.web", "static")])
    app = Starlette(routes=[*pages.routes(), *api.routes(), Mount("/static", static, name="static")],
                    middleware=[Middleware(SecurityHeaders),
                                Middleware(TrustedHostMiddleware, allowed_hosts=list(config.allowed_hosts), www_redirect=False)],
                    exception_handlers={HTTPException: _http_error, VerifierError: _verifier_error,
                                        OperationalError: _database_error},
                    max_body_size=MAX_REQUEST_BODY)
    app.state.farm = Farm(config)
    return app
