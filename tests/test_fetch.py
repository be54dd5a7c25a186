"""The fetch step against a real HTTP server on 127.0.0.1, and the cache's promises."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import socket
from pathlib import Path

import pytest

from tests.fixtures_http import Server, gzip_bytes
from verifier.cache import ContentCache
from verifier.cli.app import run
from verifier.errors import ExitCode, FetchError, InputError, IntegrityError
from verifier.fetch import fetch_file, load_manifest
from verifier.manifest import PinnedFile
from verifier.settings import FetchLimits, Settings

BODY = os.urandom(3 * (1 << 20) + 123)


def pin_for(url: str, data: bytes = BODY, name: str = "file.bin") -> PinnedFile:
    return PinnedFile(name=name, url=url, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


@pytest.fixture
def fast(settings: Settings) -> Settings:
    limits = FetchLimits(connect_timeout=2, read_timeout=1, total_deadline=20, retries=2, max_redirects=3,
                         allow_private_addresses=True)  # the test server listens on 127.0.0.1
    return dataclasses.replace(settings, fetch=limits)


def cache_of(settings: Settings) -> ContentCache:
    return ContentCache(settings.cache_dir)


def final_entries(settings: Settings) -> list[Path]:
    return sorted((settings.cache_dir / "sha256").rglob("*")) if (settings.cache_dir / "sha256").exists() else []


def test_fetch_stores_by_digest_and_reuses(http_server: Server, fast: Settings) -> None:
    url = http_server.add("/a", body=BODY)
    pin = pin_for(url)
    cached = fetch_file(pin, cache_of(fast), fast)
    assert cached.path.name == pin.sha256 and cached.path.read_bytes() == BODY
    again = fetch_file(pin, cache_of(fast), fast)
    assert again.path == cached.path
    assert len(http_server.routes["/a"].hits) == 1, "a cache hit must not download again"


def test_wrong_digest_names_input_expected_and_actual(http_server: Server, fast: Settings) -> None:
    url = http_server.add("/a", body=BODY)
    pin = dataclasses.replace(pin_for(url), sha256="0" * 64)
    with pytest.raises(IntegrityError) as err:
        fetch_file(pin, cache_of(fast), fast)
    message = str(err.value)
    assert message.startswith("file.bin: digest mismatch") and "0" * 64 in message
    assert hashlib.sha256(BODY).hexdigest() in message
    assert final_entries(fast) == []
    assert not any((fast.cache_dir / "partial").iterdir())


def test_body_longer_than_pin_stops(http_server: Server, fast: Settings) -> None:
    url = http_server.add("/a", body=BODY)
    pin = dataclasses.replace(pin_for(url), size=1000)
    with pytest.raises(IntegrityError, match="longer than the pinned size 1000"):
        fetch_file(pin, cache_of(fast), fast)
    assert final_entries(fast) == []


def test_truncated_body_resumes_with_range(http_server: Server, fast: Settings) -> None:
    url = http_server.add("/a", body=BODY, truncate_at=1 << 20)
    cached = fetch_file(pin_for(url), cache_of(fast), fast)
    assert cached.path.read_bytes() == BODY
    hits = http_server.routes["/a"].hits
    assert hits[0] == "" and hits[1].startswith("bytes=") and int(hits[1][6:-1]) > 0


def test_server_ignoring_range_restarts(http_server: Server, fast: Settings) -> None:
    url = http_server.add("/a", body=BODY, ranges=False)
    pin = pin_for(url)
    partial = cache_of(fast).partial_path(pin.sha256)
    partial.write_bytes(b"garbage that is not the file's prefix")
    cached = fetch_file(pin, cache_of(fast), fast)
    assert cached.path.read_bytes() == BODY


def test_content_encoding_is_not_decoded(http_server: Server, fast: Settings) -> None:
    raw = gzip_bytes(b"hello " * 1000)
    url = http_server.add("/a.gz", body=raw, gzip_encoding=True)
    cached = fetch_file(pin_for(url, raw), cache_of(fast), fast)
    assert cached.path.read_bytes() == raw


@pytest.mark.parametrize(("status", "message"), [(404, "HTTP 404"), (403, "HTTP 403")])
def test_http_errors_are_one_line(http_server: Server, fast: Settings, status: int, message: str) -> None:
    url = http_server.add("/a", status=status)
    with pytest.raises(FetchError, match=message) as err:
        fetch_file(pin_for(url), cache_of(fast), fast)
    assert url in str(err.value) and "\n" not in str(err.value)


def test_server_errors_are_retried_then_succeed(http_server: Server, fast: Settings) -> None:
    url = http_server.add("/a", body=BODY, fail_times=2)
    assert fetch_file(pin_for(url), cache_of(fast), fast).path.read_bytes() == BODY


def test_persistent_server_error_gives_up(http_server: Server, fast: Settings) -> None:
    url = http_server.add("/a", body=BODY, fail_times=100)
    with pytest.raises(FetchError, match=r"HTTP 503 \(after 3 attempt"):
        fetch_file(pin_for(url), cache_of(fast), fast)


def test_slow_server_times_out(http_server: Server, fast: Settings) -> None:
    url = http_server.add("/a", body=BODY, delay=3)
    with pytest.raises(FetchError, match="timed out"):
        fetch_file(pin_for(url), cache_of(dataclasses.replace(fast, fetch=dataclasses.replace(fast.fetch, retries=0))),
                   dataclasses.replace(fast, fetch=dataclasses.replace(fast.fetch, retries=0)))


def test_connection_refused(fast: Settings) -> None:
    # The port stays bound (and not listening) by this test throughout, so the refusal is
    # certain and no parallel run can take the port between its choice and the connect.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with pytest.raises(FetchError, match="connection refused"):
            fetch_file(pin_for(f"http://127.0.0.1:{port}/x"), cache_of(fast), fast)


def test_redirects_are_followed_and_bounded(http_server: Server, fast: Settings) -> None:
    target = http_server.add("/real", body=BODY)
    first = http_server.add("/moved", location=target)
    assert fetch_file(pin_for(first), cache_of(fast), fast).path.read_bytes() == BODY
    http_server.add("/loop", location="/loop")
    with pytest.raises(FetchError, match="more than 3 redirects"):
        fetch_file(pin_for(http_server.base + "/loop", b"other"), cache_of(fast), fast)


def test_redirect_to_a_local_file_is_refused(http_server: Server, fast: Settings) -> None:
    url = http_server.add("/evil", location="file:///etc/passwd")
    with pytest.raises(InputError, match="redirect to a file URL refused"):  # a policy refusal: exit 2
        fetch_file(pin_for(url), cache_of(fast), fast)


def test_corrupt_cache_entry_is_detected_on_use(http_server: Server, fast: Settings) -> None:
    url = http_server.add("/a", body=BODY)
    pin = pin_for(url)
    cached = fetch_file(pin, cache_of(fast), fast)
    with open(cached.path, "r+b") as f:
        f.write(b"X")
    with pytest.raises(IntegrityError, match="cache entry corrupt"):
        fetch_file(pin, cache_of(fast), fast)
    assert not cached.path.exists(), "a corrupt entry is removed"


def test_offline_uses_only_the_cache(http_server: Server, fast: Settings) -> None:
    url = http_server.add("/a", body=BODY)
    offline = dataclasses.replace(fast, offline=True)
    with pytest.raises(FetchError, match="--offline"):
        fetch_file(pin_for(url), cache_of(offline), offline)
    fetch_file(pin_for(url), cache_of(fast), fast)
    assert fetch_file(pin_for(url), cache_of(offline), offline).path.read_bytes() == BODY


def test_local_files_are_checked_too(tmp_path: Path, fast: Settings) -> None:
    src = tmp_path / "local.bin"
    src.write_bytes(BODY)
    assert fetch_file(pin_for(src.as_uri()), cache_of(fast), fast).path.read_bytes() == BODY
    with pytest.raises(InputError, match="no such file"):
        fetch_file(pin_for((tmp_path / "missing").as_uri(), b"other"), cache_of(fast), fast)


def manifest_doc(url_env: str, env: bytes, url_art: str, art: bytes) -> dict:
    def pin(name: str, url: str, data: bytes) -> dict:
        return {"name": name, "url": url, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

    return {"manifest_version": 1, "name": "x", "version": "1",
            "environment": {**pin("env.tar", url_env, env), "format": "rootfs"}, "lockfile": None,
            "sources": [], "build": {"command": "true", "workdir": "/build", "outputs": ["*"],
                                     "source_date_epoch": 0, "variables": {}},
            "artifacts": [pin("art.bin", url_art, art)]}


def test_fetch_command_then_offline_manifest(http_server: Server, settings: Settings, capsys) -> None:
    http_server.add("/env.tar", body=b"env")
    http_server.add("/art.bin", body=BODY)
    doc = manifest_doc("env.tar", b"env", "art.bin", BODY)
    url = http_server.add("/release.json", body=json.dumps(doc).encode())
    assert run(["fetch", url, "--cache-dir", str(settings.cache_dir)]) == ExitCode.OK
    assert "all 2 pinned files verified" in capsys.readouterr().out
    http_server.routes.clear()
    assert run(["fetch", url, "--cache-dir", str(settings.cache_dir), "--offline"]) == ExitCode.OK
    loaded = load_manifest(url, dataclasses.replace(settings, offline=True), cache_of(settings))
    assert loaded.manifest.artifacts[0].url == http_server.base + "/art.bin"


def test_fetch_command_pin_mismatch_exit_code(http_server: Server, settings: Settings, capsys) -> None:
    http_server.add("/env.tar", body=b"ENV")
    http_server.add("/art.bin", body=BODY)
    url = http_server.add("/release.json", body=json.dumps(manifest_doc("env.tar", b"env", "art.bin", BODY)).encode())
    assert run(["fetch", url, "--cache-dir", str(settings.cache_dir)]) == ExitCode.INTEGRITY
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("verifier: error: env.tar: digest mismatch")


@pytest.mark.parametrize(("route", "code"), [({"status": 404}, ExitCode.INFRASTRUCTURE),
                                             ({"body": b"{oops"}, ExitCode.BAD_INPUT)])
def test_bad_manifest_exit_codes(http_server: Server, settings: Settings, capsys, route, code) -> None:
    url = http_server.add("/release.json", **route)
    assert run(["fetch", url, "--cache-dir", str(settings.cache_dir)]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and url in err
