"""The cache under hostile conditions (issue 14, defects 4, 5, 8 and 9): peers fetching the
same manifest at once, planted symlinks, short complete answers, poisoned entries, kills.

Every test serves its own files from a real HTTP server on 127.0.0.1 and checks the exit
code, the one-line message naming the path or input, and what is left in the cache."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.fixtures_http import QuietHTTPServer, Server
from verifier.cache import CacheTampered, ContentCache
from verifier.cli.app import run
from verifier.digests import FileDigest, digest_file
from verifier.errors import ExitCode, FetchError, IntegrityError
from verifier.fetch import fetch_file
from verifier.manifest import PinnedFile
from verifier.settings import FetchLimits, Settings

ROOT = Path(__file__).resolve().parent.parent
ART = os.urandom(2 * (1 << 20) + 77)
ENV = os.urandom(24_000)
HALF = 1 << 20


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pin_for(url: str, data: bytes, name: str = "art.bin") -> PinnedFile:
    return PinnedFile(name=name, url=url, sha256=sha(data), size=len(data))


@pytest.fixture
def fast(settings: Settings) -> Settings:
    limits = FetchLimits(connect_timeout=2, read_timeout=1, total_deadline=20, retries=2, max_redirects=3,
                         allow_private_addresses=True)  # the test server listens on 127.0.0.1
    return dataclasses.replace(settings, fetch=limits)


def manifest_url(server: Server, env: bytes = ENV, art: bytes = ART, art_size: int | None = None) -> str:
    def pin(name: str, data: bytes, size: int | None = None) -> dict:
        return {"name": name, "url": name, "sha256": sha(data), "size": len(data) if size is None else size}

    doc = {"manifest_version": 1, "name": "x", "version": "1",
           "environment": {**pin("env.tar", env), "format": "rootfs"}, "lockfile": None, "sources": [],
           "build": {"command": "true", "workdir": "/build", "outputs": ["*"], "source_date_epoch": 0,
                     "variables": {}},
           "artifacts": [pin("art.bin", art, art_size)]}
    return server.add("/release.json", body=json.dumps(doc).encode())


def fetch_cli(url: str, cache: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = run(["fetch", url, "--cache-dir", str(cache)])
    return code, capsys.readouterr().err.strip().splitlines()


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if not p.is_dir()) if path.exists() else []


def cli_process(args: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", "from verifier.cli.app import main; main()", *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


# -- defect 4: peers sharing one cache -----------------------------------------------------

def test_concurrent_fetch_processes_share_one_cache(http_server: Server, tmp_path: Path) -> None:
    http_server.add("/env.tar", body=ENV, delay=0.5)
    http_server.add("/art.bin", body=ART, delay=1.0)  # keeps the first downloader busy while peers arrive
    url = manifest_url(http_server)
    cache = tmp_path / "cache"
    procs = [cli_process(["fetch", url, "--cache-dir", str(cache)]) for _ in range(6)]
    results = [(p.wait(timeout=120), p.stderr.read().decode()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert [code for code, _ in results] == [0] * 6, results
    for data in (ENV, ART):
        entry = ContentCache(cache).entry_path(sha(data))
        assert digest_file(entry) == FileDigest(sha(data), len(data))
    assert len(http_server.routes["/art.bin"].hits) == 1, "peers wait for the one download, then use its entry"
    assert len(http_server.routes["/env.tar"].hits) == 1
    assert files_under(cache / "partial") == [] and files_under(cache / "tmp") == []
    assert len(files_under(cache / "sha256")) == 3  # the manifest, the environment, the artifact


def test_commit_uses_a_peers_entry_and_checks_it(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    data = b"the same bytes, committed twice"
    first, digest = cache.add_bytes(data)
    with cache.temp_file() as tmp:
        tmp.write_bytes(data)
        assert cache.commit(tmp, digest) == first
        assert not tmp.exists()
    first.chmod(0o644)
    first.write_bytes(b"poisoned by someone else")  # a corrupt peer entry is not silently kept
    with cache.temp_file() as tmp:
        tmp.write_bytes(data)
        with pytest.raises(IntegrityError, match="cache entry corrupt"):
            cache.commit(tmp, digest)
    assert not first.exists()


def test_a_peer_holding_the_lock_too_long_is_waited_for_at_most_the_deadline(http_server: Server,
                                                                              fast: Settings) -> None:
    url = http_server.add("/a", body=ART)
    cache = ContentCache(fast.cache_dir)
    quick = dataclasses.replace(fast, fetch=dataclasses.replace(fast.fetch, total_deadline=1))
    with cache.download_slot(sha(ART), "art.bin", wait=1):  # a stuck peer (flock is per open file)
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"^art.bin: another verifier process has been downloading it for "
                                             r"over 1 s \(it holds .*partial/[0-9a-f]{64}\.lock\)"):
            fetch_file(pin_for(url, ART), cache, quick)
        assert 0.9 < time.monotonic() - started < 5
    assert http_server.routes["/a"].hits == []
    assert fetch_file(pin_for(url, ART), cache, quick).path.read_bytes() == ART
    assert files_under(fast.cache_dir / "partial") == []


# -- defect 5: planted symlinks and a tampered layout --------------------------------------

def plant_shard_link(cache: Path, digest: str, outside: Path) -> Path:
    (cache / "sha256").mkdir(parents=True)
    (cache / "sha256" / digest[:2]).symlink_to(outside, target_is_directory=True)
    return cache / "sha256" / digest[:2]


def plant_entry_link(cache: Path, digest: str, outside: Path) -> Path:
    (cache / "sha256" / digest[:2]).mkdir(parents=True)
    (outside / "copy").write_bytes(ART)  # even the right bytes are refused through a link
    (cache / "sha256" / digest[:2] / digest).symlink_to(outside / "copy")
    return cache / "sha256" / digest[:2] / digest


def plant_partial_dir_link(cache: Path, digest: str, outside: Path) -> Path:
    cache.mkdir(parents=True)
    (cache / "partial").symlink_to(outside, target_is_directory=True)
    return cache / "partial"


def plant_partial_file_link(cache: Path, digest: str, outside: Path) -> Path:
    (cache / "partial").mkdir(parents=True)
    (outside / "victim").write_bytes(b"do not truncate me")
    (cache / "partial" / digest).symlink_to(outside / "victim")
    return cache / "partial" / digest


def plant_lock_link(cache: Path, digest: str, outside: Path) -> Path:
    (cache / "partial").mkdir(parents=True)
    (outside / "victim").write_bytes(b"do not touch me")
    (cache / "partial" / f"{digest}.lock").symlink_to(outside / "victim")
    return cache / "partial" / f"{digest}.lock"


def plant_shard_file(cache: Path, digest: str, outside: Path) -> Path:
    (cache / "sha256").mkdir(parents=True)
    (cache / "sha256" / digest[:2]).write_bytes(b"not a directory")
    return cache / "sha256" / digest[:2]


def plant_entry_fifo(cache: Path, digest: str, outside: Path) -> Path:
    (cache / "sha256" / digest[:2]).mkdir(parents=True)
    os.mkfifo(cache / "sha256" / digest[:2] / digest)  # reading it would block for ever
    return cache / "sha256" / digest[:2] / digest


@pytest.mark.parametrize("plant", [plant_shard_link, plant_entry_link, plant_partial_dir_link,
                                   plant_partial_file_link, plant_lock_link, plant_shard_file, plant_entry_fifo])
def test_tampered_layout_is_refused_and_nothing_is_written_through_it(http_server: Server, tmp_path: Path,
                                                                      capsys, plant) -> None:
    http_server.add("/env.tar", body=ENV)
    http_server.add("/art.bin", body=ART)
    url = manifest_url(http_server)
    outside = tmp_path / "outside"
    outside.mkdir()
    before = {p.name: p.read_bytes() for p in outside.iterdir()}
    cache = tmp_path / "cache"
    planted = plant(cache, sha(ART), outside)
    before = {p.name: p.read_bytes() for p in outside.iterdir()}
    started = time.monotonic()
    code, err = fetch_cli(url, cache, capsys)
    assert code == ExitCode.INTEGRITY and time.monotonic() - started < 15
    assert len(err) == 1 and err[0].startswith(f"verifier: error: {planted}: cache layout tampered with"), err
    assert {p.name: p.read_bytes() for p in outside.iterdir()} == before, "nothing written through the link"


def test_tmp_dir_link_is_refused_for_local_files(tmp_path: Path, fast: Settings) -> None:
    src = tmp_path / "local.bin"
    src.write_bytes(ENV)
    outside = tmp_path / "outside"
    outside.mkdir()
    fast.cache_dir.mkdir(parents=True)
    (fast.cache_dir / "tmp").symlink_to(outside, target_is_directory=True)
    with pytest.raises(CacheTampered, match=f"^{fast.cache_dir / 'tmp'}: cache layout tampered with"):
        fetch_file(pin_for(src.as_uri(), ENV), ContentCache(fast.cache_dir), fast)
    assert list(outside.iterdir()) == []


def test_urls_dir_link_is_refused(http_server: Server, tmp_path: Path, capsys) -> None:
    http_server.add("/env.tar", body=ENV)
    http_server.add("/art.bin", body=ART)
    outside = tmp_path / "outside"
    outside.mkdir()
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "urls").symlink_to(outside, target_is_directory=True)
    code, err = fetch_cli(manifest_url(http_server), cache, capsys)
    assert code == ExitCode.INTEGRITY and err[0].startswith(f"verifier: error: {cache / 'urls'}: cache layout")
    assert list(outside.iterdir()) == []


def test_cache_root_may_be_a_symlink(http_server: Server, tmp_path: Path, capsys) -> None:
    http_server.add("/env.tar", body=ENV)
    http_server.add("/art.bin", body=ART)
    real = tmp_path / "real-cache"
    real.mkdir()
    (tmp_path / "cache").symlink_to(real, target_is_directory=True)
    code, err = fetch_cli(manifest_url(http_server), tmp_path / "cache", capsys)
    assert code == ExitCode.OK, err
    assert digest_file(ContentCache(real).entry_path(sha(ART))).sha256 == sha(ART)


# -- defect 8: a short complete answer; which partial files survive -------------------------

def test_short_complete_answer_is_an_integrity_failure_at_once(http_server: Server, tmp_path: Path,
                                                               capsys) -> None:
    page = b"<html><body>Not found</body></html>".ljust(40, b"\n")
    http_server.add("/env.tar", body=page)  # a 40-byte page with a matching Content-Length
    http_server.add("/art.bin", body=ART)
    url = manifest_url(http_server)
    cache = tmp_path / "cache"
    started = time.monotonic()
    code, err = fetch_cli(url, cache, capsys)
    assert code == ExitCode.INTEGRITY and time.monotonic() - started < 10
    assert len(err) == 1 and err[0].startswith("verifier: error: env.tar: the server's complete answer ends after 40")
    assert f"{http_server.base}/env.tar" in err[0]
    assert len(http_server.routes["/env.tar"].hits) == 1, "no retries for a complete answer"
    assert files_under(cache / "partial") == [] and files_under(cache / "tmp") == []


def test_short_complete_answer_to_a_range_request(http_server: Server, fast: Settings) -> None:
    """A 206 whose body ends, as announced, before the pinned size is no broken transfer either."""
    url = http_server.add("/a", body=ART[:5000])
    cache = ContentCache(fast.cache_dir)
    cache.partial_path(sha(ART)).write_bytes(ART[:1000])
    with pytest.raises(IntegrityError, match="complete answer ends after 5000 of the pinned"):
        fetch_file(pin_for(url, ART), cache, fast)
    assert http_server.routes["/a"].hits == ["bytes=1000-"]
    assert files_under(fast.cache_dir / "partial") == []


def test_broken_transfer_keeps_its_bytes_and_the_next_run_resumes(http_server: Server, fast: Settings) -> None:
    url = http_server.add("/a", body=ART, truncate_at=1 << 20, ranges=False)
    cache = ContentCache(fast.cache_dir)
    with pytest.raises(FetchError, match="body ended|Connection|closed|IncompleteRead|Protocol"):
        fetch_file(pin_for(url, ART), cache, fast)
    assert cache.partial_path(sha(ART)).stat().st_size == 1 << 20
    assert files_under(fast.cache_dir / "partial") == [sha(ART)], "only the partial file, no lock file"
    http_server.routes["/a"].ranges, http_server.routes["/a"].truncate_at = True, None
    http_server.routes["/a"].hits.clear()
    assert fetch_file(pin_for(url, ART), cache, fast).path.read_bytes() == ART
    assert http_server.routes["/a"].hits == [f"bytes={1 << 20}-"]
    assert files_under(fast.cache_dir / "partial") == []


@pytest.mark.parametrize("route", [{"status": 404}, {"body": b"x" * 100}])
def test_a_failure_no_resume_can_fix_removes_the_partial(http_server: Server, fast: Settings, route) -> None:
    url = http_server.add("/a", **route)
    cache = ContentCache(fast.cache_dir)
    cache.partial_path(sha(ART)).write_bytes(ART[:10])  # left by an earlier run
    with pytest.raises((FetchError, IntegrityError)):
        fetch_file(pin_for(url, ART), cache, fast)
    assert files_under(fast.cache_dir / "partial") == []


class _Stalling(BaseHTTPRequestHandler):
    """Sends the first MiB of ART (one read's worth for the client), then stalls."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Length", str(len(ART)))
        self.end_headers()
        self.wfile.write(ART[:HALF])
        self.wfile.flush()
        time.sleep(30)


def test_killed_fetch_leaves_no_entry_and_is_resumed(http_server: Server, tmp_path: Path, capsys) -> None:
    stalling = QuietHTTPServer(("127.0.0.1", 0), _Stalling)
    stalling.daemon_threads = True
    threading.Thread(target=stalling.serve_forever, daemon=True).start()
    try:
        port = stalling.server_address[1]
        http_server.add("/env.tar", body=ENV)
        http_server.add("/art.bin", location=f"http://127.0.0.1:{port}/art.bin")
        url = manifest_url(http_server)
        cache = tmp_path / "cache"
        proc = cli_process(["fetch", url, "--cache-dir", str(cache)])
        partial = cache / "partial" / sha(ART)
        # The client writes through a buffered file: up to one buffer (8 KiB) of what it
        # received may still be in its memory when it is killed, and is lost with it.
        on_disk = HALF - io.DEFAULT_BUFFER_SIZE
        deadline = time.monotonic() + 30
        while not (partial.exists() and partial.stat().st_size >= on_disk) and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    finally:
        stalling.shutdown()
        stalling.server_close()
    kept = partial.read_bytes()
    assert on_disk <= len(kept) <= HALF and kept == ART[:len(kept)], "a prefix of what was sent, nothing else"
    assert not ContentCache(cache).entry_path(sha(ART)).exists(), "no half file under a final name"
    http_server.add("/art.bin", body=ART)
    code, err = fetch_cli(url, cache, capsys)
    assert code == ExitCode.OK, err
    assert http_server.routes["/art.bin"].hits == [f"bytes={len(kept)}-"]
    assert files_under(cache / "partial") == []


# -- defect 9: a poisoned entry is reported and removed --------------------------------------

@pytest.mark.parametrize("poison", [lambda b: b[:-1], lambda b: b + b"!", lambda b: b"X" + b[1:], lambda b: b""],
                         ids=["truncated", "appended", "flipped", "emptied"])
def test_poisoned_entry_is_reported_and_removed(http_server: Server, tmp_path: Path, capsys, poison) -> None:
    http_server.add("/env.tar", body=ENV)
    http_server.add("/art.bin", body=ART)
    url = manifest_url(http_server)
    cache = tmp_path / "cache"
    assert fetch_cli(url, cache, capsys)[0] == ExitCode.OK
    entry = ContentCache(cache).entry_path(sha(ART))
    entry.write_bytes(poison(ART))
    http_server.routes["/art.bin"].hits.clear()
    code, err = fetch_cli(url, cache, capsys)
    assert code == ExitCode.INTEGRITY
    assert len(err) == 1 and err[0].startswith(f"verifier: error: art.bin: cache entry corrupt: {entry}"), err
    assert not entry.exists() and http_server.routes["/art.bin"].hits == [], "removed, not silently re-fetched"
    assert fetch_cli(url, cache, capsys)[0] == ExitCode.OK, "the next run fetches it again"
    assert entry.read_bytes() == ART


def test_a_huge_planted_entry_is_refused_without_reading_it(tmp_path: Path, fast: Settings) -> None:
    cache = ContentCache(fast.cache_dir)
    entry = cache.entry_path(sha(ENV))
    entry.parent.mkdir(parents=True)
    with open(entry, "wb") as f:
        f.truncate(64 << 30)  # sparse: 64 GiB that would take minutes to hash
    started = time.monotonic()
    with pytest.raises(IntegrityError, match=f"cache entry corrupt: {entry} .*found size {64 << 30}"):
        fetch_file(pin_for("http://127.0.0.1:9/env.tar", ENV, "env.tar"), cache, fast)
    assert time.monotonic() - started < 2 and not entry.exists()


def test_a_resumed_download_that_mismatches_is_fetched_again_from_the_start(http_server: Server,
                                                                           fast: Settings) -> None:
    """An earlier run's bytes that are not the file's prefix do not fail the pin for good."""
    url = http_server.add("/a", body=ART)
    cache = ContentCache(fast.cache_dir)
    cache.partial_path(sha(ART)).write_bytes(b"\0" * 1000)
    assert fetch_file(pin_for(url, ART), cache, fast).path.read_bytes() == ART
    assert http_server.routes["/a"].hits == ["bytes=1000-", ""]
    assert files_under(fast.cache_dir / "partial") == []


def test_a_partial_file_hard_linked_elsewhere_is_not_written_through(http_server: Server, tmp_path: Path,
                                                                     fast: Settings) -> None:
    url = http_server.add("/a", body=ART)
    victim = tmp_path / "victim"
    victim.write_bytes(b"someone else's file, not to be changed")
    cache = ContentCache(fast.cache_dir)
    os.link(victim, cache.partial_path(sha(ART)))
    assert fetch_file(pin_for(url, ART), cache, fast).path.read_bytes() == ART
    assert victim.read_bytes() == b"someone else's file, not to be changed"
    assert http_server.routes["/a"].hits == [""], "nothing resumed from the planted bytes"


def test_a_killed_runs_temp_files_are_swept_once_a_day_old(tmp_path: Path, fast: Settings) -> None:
    src = tmp_path / "local.bin"
    src.write_bytes(ENV)
    tmp = fast.cache_dir / "tmp"
    tmp.mkdir(parents=True)
    (tmp / "old.part").write_bytes(b"left by a killed run")
    os.utime(tmp / "old.part", (time.time() - 2 * 86400,) * 2)
    (tmp / "recent.part").write_bytes(b"a live peer's")
    fetch_file(pin_for(src.as_uri(), ENV), ContentCache(fast.cache_dir), fast)
    assert files_under(tmp) == ["recent.part"]
