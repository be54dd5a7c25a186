"""Every download ends in bounded time: a total deadline (--download-deadline) and a minimum
transfer rate, whatever a misbehaving server on 127.0.0.1 does (trickle, stall after the
head, stall mid-body, trickle the head itself). Exit 5, one line naming the URL."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures_http import Server
from verifier.cache import ContentCache
from verifier.cli.app import run
from verifier.errors import ExitCode, FetchError
from verifier.fetch import fetch_file
from verifier.manifest import PinnedFile
from verifier.settings import FetchLimits, Settings

SIZE = 200_000
BODY = bytes(range(256)) * (SIZE // 256) + bytes(SIZE % 256)
HEAD = f"HTTP/1.1 200 OK\r\nContent-Length: {SIZE}\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
DEADLINE = 3.0
MARGIN = 3.0  # scheduling, thread start-up, the manifest's own fetch

Behaviour = Callable[[socket.socket, threading.Event], None]


def trickle_body(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(HEAD)
    for byte in BODY:
        if stop.wait(0.5):
            return
        conn.sendall(bytes([byte]))


def stall_after_head(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(HEAD)
    stop.wait(60)


def stall_mid_body(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(HEAD + BODY[: SIZE // 2])
    stop.wait(60)


def trickle_head(conn: socket.socket, stop: threading.Event) -> None:
    for byte in HEAD[:-2] + b"X-Slow: " + b"a" * 1000:
        if stop.wait(0.5):
            return
        conn.sendall(bytes([byte]))


def steady(rate: int) -> Behaviour:
    """Sends the whole body at about ``rate`` bytes/s (in 10 slices a second)."""

    def send(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(HEAD)
        step = max(rate // 10, 1)
        for start in range(0, SIZE, step):
            if stop.wait(0.1):
                return
            conn.sendall(BODY[start:start + step])

    return send


class Misbehaving:
    """A raw TCP server on 127.0.0.1 that answers every connection with ``behaviour``."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.connections = 0
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/env.tar"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)  # the request head (small, one segment on loopback)
                self.behaviour(conn, self.stop)
            except OSError:
                pass  # the client gave up: what the test wants

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.fixture
def misbehaving() -> Iterator[Callable[[Behaviour], Misbehaving]]:
    servers: list[Misbehaving] = []

    def start(behaviour: Behaviour) -> Misbehaving:
        servers.append(Misbehaving(behaviour))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def manifest_for(url: str) -> bytes:
    entry = {"name": "env.tar", "url": url, "sha256": hashlib.sha256(BODY).hexdigest(), "size": SIZE}
    return json.dumps({"manifest_version": 1, "name": "x", "version": "1",
                       "environment": {**entry, "format": "rootfs"}, "lockfile": None, "sources": [],
                       "build": {"command": "true", "workdir": "/build", "outputs": ["*"],
                                 "source_date_epoch": 0, "variables": {}},
                       "artifacts": []}).encode()


@pytest.mark.parametrize("behaviour", [trickle_body, stall_after_head, stall_mid_body, trickle_head],
                         ids=["trickle-body", "stall-after-head", "stall-mid-body", "trickle-head"])
def test_download_ends_at_the_deadline(behaviour: Behaviour, misbehaving, http_server: Server, tmp_path: Path,
                                       capsys) -> None:
    server = misbehaving(behaviour)
    manifest = http_server.add("/release.json", body=manifest_for(server.url))
    started = time.monotonic()
    code = run(["fetch", manifest, "--cache-dir", str(tmp_path / "cache"), "--download-deadline", str(DEADLINE)])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == ExitCode.INFRASTRUCTURE, err
    assert elapsed < DEADLINE + MARGIN, f"took {elapsed:.1f} s"
    assert err.count("\n") == 1 and err.startswith(f"verifier: error: {server.url}: download deadline of 3 s exceeded")
    assert not (tmp_path / "cache" / "sha256").exists() or not any((tmp_path / "cache" / "sha256").rglob("*.*"))


def test_manifest_download_ends_at_the_deadline(misbehaving, tmp_path: Path, capsys) -> None:
    server = misbehaving(trickle_body)
    started = time.monotonic()
    code = run(["fetch", server.url, "--cache-dir", str(tmp_path / "cache"), "--download-deadline", str(DEADLINE)])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == ExitCode.INFRASTRUCTURE and elapsed < DEADLINE + MARGIN, (err, elapsed)
    assert err.count("\n") == 1 and f"{server.url}: download deadline of 3 s exceeded for the manifest" in err


def fast_limits(settings: Settings, **changes: float) -> Settings:
    limits = FetchLimits(connect_timeout=2, read_timeout=5, total_deadline=30, min_rate=2000, rate_window=1,
                         retries=3, allow_private_addresses=True)
    return dataclasses.replace(settings, fetch=dataclasses.replace(limits, **changes))


def pin(url: str) -> PinnedFile:
    return PinnedFile("env.tar", url, hashlib.sha256(BODY).hexdigest(), SIZE)


def test_transfer_below_the_minimum_rate_fails_at_once(misbehaving, settings: Settings) -> None:
    server = misbehaving(steady(500))  # 500 bytes/s: under the 2000 bytes/s minimum
    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        fetch_file(pin(server.url), ContentCache(settings.cache_dir), fast_limits(settings))
    elapsed = time.monotonic() - started
    assert str(err.value).startswith(f"{server.url}: transfer slower than 2000 bytes/s over 1 s")
    assert elapsed < 1 + MARGIN and server.connections == 1, "a too slow transfer is not retried"


def test_transfer_above_the_minimum_rate_completes(misbehaving, settings: Settings) -> None:
    server = misbehaving(steady(150_000))  # about 1.3 s for the body
    cached = fetch_file(pin(server.url), ContentCache(settings.cache_dir), fast_limits(settings))
    assert cached.path.read_bytes() == BODY


def test_a_trickled_head_is_cut_at_connect_plus_read_timeout(misbehaving, settings: Settings) -> None:
    server = misbehaving(trickle_head)
    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        fetch_file(pin(server.url), ContentCache(settings.cache_dir),
                   fast_limits(settings, connect_timeout=1, read_timeout=1, retries=0))
    elapsed = time.monotonic() - started
    assert str(err.value) == f"{server.url}: no complete response head within 2 s (after 1 attempt(s))"
    assert elapsed < 2 + MARGIN


def test_a_zero_minimum_rate_turns_the_check_off(misbehaving, settings: Settings) -> None:
    server = misbehaving(steady(500))
    with pytest.raises(FetchError, match="download deadline of 2 s exceeded"):
        fetch_file(pin(server.url), ContentCache(settings.cache_dir), fast_limits(settings, min_rate=0, total_deadline=2))


@pytest.mark.parametrize(("option", "value"), [("--download-deadline", "0"), ("--download-deadline", "-1"),
                                               ("--min-download-rate", "-5")])
def test_bad_option_values_are_refused(option: str, value: str, tmp_path: Path, capsys) -> None:
    code = run(["fetch", str(tmp_path / "release.json"), "--cache-dir", str(tmp_path / "c"), option, value])
    assert code == ExitCode.BAD_INPUT and option in capsys.readouterr().err
