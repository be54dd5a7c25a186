"""The release manager's path through the web side of a real one-machine farm: redis-server,
`farm worker` and `farm attester` processes, `farm serve`; releases submitted through the
API, watched on the dashboard, their signed reports fetched over HTTP and checked by
`verifier report verify` with the key the farm publishes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.farm.harness import LAUNCH, REPO, Farm, busybox_release, reproducible_release
from tests.farm.web_server import TOKEN, request
from tests.fixtures_http import Server
from verifier.cli.app import run
from verifier.errors import ExitCode

pytestmark = [pytest.mark.podman, pytest.mark.slow, pytest.mark.timeout(300)]


def _serve(farm: Farm, key: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`farm serve` with its log in a file (a pipe nobody reads would fill up and stop it)."""
    env = {**os.environ, "VERIFIER_FARM_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    log = farm.root / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", LAUNCH, "farm", "serve", "--port", "0", "--public-key", str(key),
                                 *farm.common()], cwd=REPO, stdout=subprocess.DEVNULL, stderr=out, env=env,
                                start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(r"^farm serve: (http://127\.0\.0\.1:\d+)/", log.read_text(errors="replace"), re.M)
        if found:
            return proc, found.group(1), log
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"farm serve did not start: {log.read_text(errors='replace')}")


def _post(url: str, kind: str, target: str) -> dict[str, object]:
    reply = request(f"{url}/api/jobs", json.dumps({"kind": kind, "target": target}).encode(),
                    {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}, "POST")
    assert reply.status in (200, 201), reply.text
    return json.loads(reply.body)


def _wait_done(url: str, count: int, timeout: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        summary = json.loads(request(f"{url}/api/summary").body)
        if summary["counts"]["jobs"]["DONE"] == count and summary["counts"]["unsigned_results"] == 0:
            return summary
        time.sleep(0.5)
    raise AssertionError(f"not {count} signed results within {timeout} s: {summary['counts']}")


def _published(server: Server, manifest: Path) -> str:
    """The release directory served over HTTP (the web API takes http(s) manifest URLs only)."""
    for file in manifest.parent.iterdir():
        server.add(f"/{manifest.parent.name}/{file.name}", body=file.read_bytes())
    return f"{server.base}/{manifest.parent.name}/{manifest.name}"


def test_submit_watch_and_fetch_signed_reports_through_the_web(farm: Farm, busybox_rootfs: Path,
                                                               tmp_path: Path, http_server: Server) -> None:
    require_tool("podman")
    key = tmp_path / "farm.key"
    assert run(["keygen", "--out", str(key)]) == 0
    good = reproducible_release(tmp_path / "good", busybox_rootfs, "good")
    bad = busybox_release(tmp_path / "bad", busybox_rootfs, "mkdir -p out && echo other > out/a.txt",
                          {"a.txt": b"official\n"}, "bad")
    urls = {"good": _published(http_server, good), "bad": _published(http_server, bad)}
    serve, url, log = _serve(farm, Path(f"{key}.pub"))
    try:
        jobs = {name: _post(url, "manifest", target)["job"] for name, target in urls.items()}
        assert _post(url, "manifest", urls["good"])["created"] is False
        queued = request(f"{url}/").text
        assert "Running and queued" in queued and urls["good"] in queued
        farm.worker("w1", concurrency=2)
        farm.attester(key)
        summary = _wait_done(url, 2, 240)
        assert summary["counts"]["verdicts"] == {"DIFFERENT": 1, "REPRODUCIBLE": 1}
        assert {(r["name"], r["latest"]["verdict"]) for r in summary["releases"]} == {
            ("good", "REPRODUCIBLE"), ("bad", "DIFFERENT")}
        page = request(f"{url}/jobs/{jobs['bad']['id']}").text
        assert '<h1>DIFFERENT</h1>' in page and "-official" in page and "+other" in page  # the diff, as text
        metrics = request(f"{url}/metrics").text
        assert 'verifier_farm_results_total{verdict="REPRODUCIBLE"} 1.0' in metrics
        keyfile = json.loads(request(f"{url}/api/keys").body)["keys"][0]["url"]
        (tmp_path / "farm.pem").write_bytes(request(url + keyfile).body)
        for name, expected in (("good", ExitCode.OK), ("bad", ExitCode.DIFFERENT)):
            base = f"{url}/jobs/{jobs[name]['id']}"
            (tmp_path / f"{name}.intoto.json").write_bytes(request(f"{base}/report.intoto.json").body)
            (tmp_path / f"{name}.json").write_bytes(request(f"{base}/report.json").body)
            assert run(["report", "verify", str(tmp_path / f"{name}.intoto.json"), "--key", str(tmp_path / "farm.pem"),
                        "--report", str(tmp_path / f"{name}.json")]) == expected
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=20)
    assert serve.returncode == 0 and TOKEN not in log.read_text(errors="replace")
