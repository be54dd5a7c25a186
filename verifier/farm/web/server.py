"""Running the app under uvicorn: our own access log (escaped paths), no server header, no
trust in X-Forwarded-* headers, a bound on concurrent connections and a graceful stop."""

from __future__ import annotations

import logging
import socket
import sys

import uvicorn
from starlette.applications import Starlette

from verifier.errors import InfrastructureError, InputError
from verifier.printable import one_line

MAX_CONNECTIONS = 256
GRACEFUL_STOP_SECONDS = 10
BACKLOG = 2048


def make_server(app: Starlette, host: str, port: int, *, log_level: str = "info") -> uvicorn.Server:
    config = uvicorn.Config(app, host=host, port=port, access_log=False, server_header=False, proxy_headers=False,
                            lifespan="off", log_level=log_level, limit_concurrency=MAX_CONNECTIONS,
                            timeout_graceful_shutdown=GRACEFUL_STOP_SECONDS)
    return uvicorn.Server(config)


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before uvicorn starts (uvicorn would exit the process on a
    port in use): a one-line error naming the address instead."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except (OSError, UnicodeError) as exc:
        raise InputError(f"--host {one_line(host)}: {exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise InfrastructureError(f"cannot listen on {one_line(host)}:{port}: {exc.strerror}") from None
    return sock


def serve(app: Starlette, sock: socket.socket) -> None:
    """Serve until SIGINT or SIGTERM (a normal stop, after the requests in flight end); one
    access-log line per request on standard error."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    web_log = logging.getLogger("verifier.farm.web")
    web_log.addHandler(handler)
    web_log.setLevel(logging.INFO)
    host, port = sock.getsockname()[:2]
    try:
        make_server(app, host, port).run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn stopped gracefully, then raised the signal again: that is how a server stops
    finally:
        sock.close()
