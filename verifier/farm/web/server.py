"""Running the app under uvicorn: our own access log (escaped paths), no server header, no
trust in X-Forwarded-* headers, a bound on concurrent connections and a graceful stop."""

from __future__ import annotations

import logging
import sys

import uvicorn
from starlette.applications import Starlette

MAX_CONNECTIONS = 256
GRACEFUL_STOP_SECONDS = 10


def make_server(app: Starlette, host: str, port: int, *, log_level: str = "info") -> uvicorn.Server:
    config = uvicorn.Config(app, host=host, port=port, access_log=False, server_header=False, proxy_headers=False,
                            lifespan="off", log_level=log_level, limit_concurrency=MAX_CONNECTIONS,
                            timeout_graceful_shutdown=GRACEFUL_STOP_SECONDS)
    return uvicorn.Server(config)


def serve(app: Starlette, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM; one access-log line per request on standard error."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    web_log = logging.getLogger("verifier.farm.web")
    web_log.addHandler(handler)
    web_log.setLevel(logging.INFO)
    make_server(app, host, port).run()
