"""Helpers of the web tests: a real uvicorn on 127.0.0.1 (a socket bound to a free port
before the server starts, so no other process can take it), plain urllib requests (no
proxy), and a farm filled with hostile names, reports and signed envelopes."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from verifier.attestation import SigningRequest, generate_keypair, sign_report
from verifier.farm.web.app import create_app
from verifier.farm.web.context import WebConfig
from verifier.farm.web.server import make_server
from verifier.report.codec import load_report, report_bytes

from tests.farm.web_fake import FakeFarm

REPORTS = Path(__file__).parent.parent.parent / "fixtures" / "reports"
HOSTILE = "<script>alert('x')</script>\"'&\x1b[31m\nVERDICT: REPRODUCIBLE\u202e"
TOKEN = "tok-" + "s3cr3t" * 6


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
            method: str | None = None) -> Reply:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with _OPENER.open(req, timeout=20) as resp:
            return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return Reply(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


@contextlib.contextmanager
def running(config: WebConfig) -> Iterator[str]:
    """The app under a real uvicorn in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = make_server(create_app(config), "127.0.0.1", port, log_level="warning")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


@dataclass(frozen=True)
class Filled:
    farm: FakeFarm
    keys: tuple[Path, ...]  # public keys, as `farm serve --public-key` takes them
    hostile_result: int  # a DIFFERENT result of a release with a hostile name, signed
    unsigned_result: int
    broken_result: int  # its stored report is not a report


def filled_farm(tmp: Path) -> Filled:
    """Releases with hostile names in every state, results signed and not, one broken."""
    farm = FakeFarm()
    canonical = load_report(REPORTS / "canonical.json")
    hostile = replace(canonical, release=replace(canonical.release, name=f"evil{HOSTILE}", version="1.0\x00<b>"),
                      reasons=(*canonical.reasons, f"reason {HOSTILE}"))
    data = report_bytes(hostile)
    key = tmp / "farm.key"
    generate_keypair(key, tmp / "farm.pem")
    envelope = sign_report(hostile, hashlib.sha256(data).hexdigest(), SigningRequest((f"file:{key}",))).envelope
    job = farm.add_job(hostile.release.name, hostile.release.version, "running",
                       target=f"http://127.0.0.1:9/{HOSTILE}/release.json", attempts=1)
    signed = farm.add_result(job, "DIFFERENT", data, envelope, seconds=42.0, worker=f"w{HOSTILE}")
    plain = farm.add_result(farm.add_job("hello", "1.0", "running"), "DIFFERENT", report_bytes(canonical), None)
    broken = farm.add_result(farm.add_job("broken", "0.1", "running"), "REPRODUCIBLE", b'{"report_version": 1}', None,
                             seconds=3.0)
    farm.add_job("hello", "1.1", "queued", kind="debian", target="hello=1.1")
    farm.add_job(f"pkg{HOSTILE}", "2", "failed", kind="pypi", target=f"pkg{HOSTILE}==2", attempts=3,
                 error=f"podman failed {HOSTILE}")
    farm.add_job("hello", "1.0", "queued")
    return Filled(farm, (tmp / "farm.pem",), signed.id, plain.id, broken.id)
