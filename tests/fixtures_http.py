"""A real HTTP server on 127.0.0.1 with switchable misbehaviours, for fetch tests."""

from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    truncate_at: int | None = None  # close the connection after this many body bytes
    delay: float = 0.0  # seconds before answering
    ranges: bool = True  # honour Range requests
    gzip_encoding: bool = False  # send Content-Encoding: gzip (body is the gzip bytes)
    location: str | None = None  # redirect target
    fail_times: int = 0  # answer 503 this many times first
    hits: list[str] = field(default_factory=list)  # Range headers seen


class QuietHTTPServer(ThreadingHTTPServer):
    """Clients that hang up early (timeouts, size caps) are expected here: no tracebacks on
    stderr, where they would land in another test's captured output."""

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class Server:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        handler = type("Handler", (_Handler,), {"owner": self})
        self.httpd = QuietHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, path: str, **kwargs: object) -> str:
        self.routes[path] = Route(**kwargs)  # type: ignore[arg-type]
        return self.base + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    owner: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        route = self.owner.routes.get(self.path.split("?")[0])
        if route is None:
            return self._plain(404, b"not found")
        route.hits.append(self.headers.get("Range", ""))
        time.sleep(route.delay)
        if route.fail_times > 0:
            route.fail_times -= 1
            return self._plain(503, b"try later")
        if route.location:
            self.send_response(route.status if route.status in (301, 302, 307, 308) else 302)
            self.send_header("Location", route.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if route.status != 200:
            return self._plain(route.status, b"error")
        self._body(route)

    def _plain(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self, route: Route) -> None:
        body, start = route.body, 0
        asked = self.headers.get("Range", "")
        if route.ranges and asked.startswith("bytes=") and asked.endswith("-"):
            start = int(asked[6:-1])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        if route.gzip_encoding:
            self.send_header("Content-Encoding", "gzip")
        part = body[start:]
        self.send_header("Content-Length", str(len(part)))
        self.end_headers()
        if route.truncate_at is not None and start == 0:
            self.wfile.write(part[: route.truncate_at])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(part)


@pytest.fixture
def http_server():
    server = Server()
    yield server
    server.close()


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)
