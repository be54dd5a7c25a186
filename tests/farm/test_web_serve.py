"""`verifier farm serve` as a user starts it: a real process on a free port of 127.0.0.1
over a farm database, stopped by SIGTERM; its log never holds the token and shows request
paths escaped; bad options are one-line errors with their exit code."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import redis

from tests.farm.services import RedisServer
from tests.farm.web_server import HOSTILE, TOKEN, Filled, filled_farm, request
from verifier.cli.app import run

pytestmark = [pytest.mark.timeout(60)]
CLI = [sys.executable, "-c", "from verifier.cli.app import main; main()"]


@pytest.fixture
def filled(tmp_path: Path) -> Iterator[Filled]:
    farm = filled_farm(tmp_path)
    yield farm
    farm.db.dispose()


def _start(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """`farm serve --port 0` started; its URL from the line it prints first (lines before it,
    a library's warning say, are skipped)."""
    proc = subprocess.Popen([*CLI, "farm", "serve", "--port", "0", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    seen = []
    for _ in range(20):
        line = proc.stderr.readline()
        seen.append(line)
        found = re.match(r"farm serve: (http://127\.0\.0\.1:\d+)/ on sqlite:///\S+, (.*)$", line)
        if found:
            return proc, found.group(1)
        if not line:
            break
    proc.kill()
    pytest.fail(f"farm serve did not start: {''.join(seen)}{proc.communicate()[1]}")


def test_serve_read_only_then_stops_on_sigterm(filled: Filled, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "VERIFIER_FARM_TOKEN"}
    url_arg = ["--database", str(filled.db.engine.url), "--public-key", str(filled.keys[0])]
    proc, url = _start(url_arg, env)
    try:
        assert request(f"{url}/").status == 200
        job = json.loads(request(f"{url}/api/jobs/{filled.hostile}").body)
        assert job["result"]["name"] == f"evil{HOSTILE}"
        assert request(f"{url}/keys/{json.loads(request(f'{url}/api/keys').body)['keys'][0]['file']}").body == \
            filled.keys[0].read_bytes()
        posted = request(f"{url}/api/jobs", b'{"kind": "pypi", "target": "a==1"}',
                         {"Authorization": f"Bearer {TOKEN}"}, "POST")
        assert posted.status == 403  # no token configured: writes are closed
        assert request(f"{url}/release?name={quote(HOSTILE)}").status == 404
        assert request(f"{url}/jobs/%0Aforged%1b[31m").status == 404
        assert request(f"{url}/", headers={"Host": "rebound.example"}).status == 400  # bound to loopback: loopback names only
    finally:
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and time.monotonic() - started < 10
    lines = err.splitlines()
    assert any(" GET /api/jobs/1 200 " in line for line in lines)
    forged = [line for line in lines if "forged" in line]  # the path's newline is escaped: no line of its own
    assert len(forged) == 1 and " GET /jobs/\\x0aforged\\x1b[31m 404 " in forged[0]
    assert TOKEN not in err


def test_serve_refuses_bad_options_in_one_line(filled: Filled, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = tmp_path / "token"
    token.write_text(TOKEN)
    token.chmod(0o644)
    database = ["--database", str(filled.db.engine.url)]
    assert run(["farm", "serve", *database, "--token-file", str(token)]) == 2
    assert "readable by others" in capsys.readouterr().err
    assert run(["farm", "serve", *database, "--public-key", str(tmp_path / "missing.pem")]) == 2
    assert "missing.pem" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        assert run(["farm", "serve", *database, "--port", port]) == 5
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in capsys.readouterr().err
    assert run(["farm", "serve", *database, "--port", "70000"]) == 2


def test_serve_submits_to_the_real_broker_with_the_token(filled: Filled, redis_server: RedisServer,
                                                         tmp_path: Path) -> None:
    """A submission through the API is a job row and one message on the broker's queue,
    as `farm submit` makes them; the token never reaches the log."""
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    token.chmod(0o600)
    proc, url = _start(["--database", str(filled.db.engine.url), "--broker", redis_server.url,
                        "--token-file", str(token)], {k: v for k, v in os.environ.items() if k != "VERIFIER_FARM_TOKEN"})
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    try:
        body = b'{"kind": "debian", "target": "hello=2.10-3"}'
        first = request(f"{url}/api/jobs", body, auth, "POST")
        again = request(f"{url}/api/jobs", body, auth, "POST")
        refused = request(f"{url}/api/jobs", body, {"Authorization": "Bearer " + "x" * len(TOKEN)}, "POST")
        requeued = request(f"{url}/api/jobs/{filled.failed}/requeue", b"", auth, "POST")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert (first.status, again.status, refused.status, requeued.status) == (201, 200, 401, 201)
    job = json.loads(first.body)["job"]
    assert job["state"] == "QUEUED" and json.loads(again.body)["job"]["id"] == job["id"]
    client = redis.Redis.from_url(redis_server.url)
    try:
        messages = [json.loads(m) for m in client.lrange("verify", 0, -1)]
    finally:
        client.close()
    assert sorted(m["headers"]["argsrepr"] for m in messages) == sorted(
        [f"[{job['id']}]", f"[{json.loads(requeued.body)['job']['id']}]"])  # one message per new job
    assert proc.returncode == 0 and TOKEN not in err and "s3cr3t" not in err
