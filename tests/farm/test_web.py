"""`farm serve`'s dashboard and API under a real uvicorn on 127.0.0.1, over HTTP, on a
farm database filled through the farm's models: hostile names escaped on every page and
kept exact in the JSON, downloads byte for byte (checked by `verifier report verify`),
metrics, and the write token."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import replace
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from verifier.cli.app import run
from verifier.report.codec import load_report, report_bytes
from verifier.errors import InfrastructureError, InputError
from verifier.farm.database import Database, create, open_database
from verifier.farm.models import Job
from verifier.farm.web.auth import TOKEN_ENV, WriteToken, load_token
from verifier.farm.web.context import WebConfig
from verifier.farm.web.keys import load_keys
from verifier.farm.web.source import DatabaseReader, FarmGate

from tests.farm.services import create_roles, free_port
from tests.farm.web_server import HOSTILE, REPORTS, TOKEN, Filled, add_result, filled_farm, request, running

pytestmark = pytest.mark.timeout(60)
RAW = ("<script>", "\x1b", "\u202e", "alert('x')</script>")
SHOWN = "evil&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&#34;&#39;&amp;\\x1b[31m\\x0aVERDICT"


@pytest.fixture
def filled(tmp_path: Path) -> Iterator[Filled]:
    farm = filled_farm(tmp_path)
    yield farm
    farm.db.dispose()


def _config(filled: Filled, **changes: object) -> WebConfig:
    fields: dict[str, object] = {"reader": filled.reader, "writer": filled.gate, "token": WriteToken(TOKEN.encode()),
                                 "keys": load_keys(list(filled.keys))}
    return WebConfig(**(fields | changes))  # type: ignore[arg-type]


@pytest.fixture
def farm_url(filled: Filled) -> Iterator[str]:
    with running(_config(filled)) as url:
        yield url


def _assert_escaped(html: str) -> None:
    for raw in RAW:
        assert raw not in html, raw
    assert "\nVERDICT" not in html  # the newline in the name is shown as \x0a, not a line of its own


@pytest.mark.parametrize("path", ["/", "/jobs", "/jobs?state=DONE", "/release?name=evil{h}&version=1.0%00%3Cb%3E", "/release?name=evil{h}",
                                  "/jobs/{evil}", "/jobs/{failed}", "/keys"])
def test_every_page_escapes_hostile_names(farm_url: str, filled: Filled, path: str) -> None:
    reply = request(farm_url + path.format(h=quote(HOSTILE), evil=filled.hostile, failed=filled.failed))
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/html")
    _assert_escaped(reply.text)
    if "evil" in path or path in ("/", "/jobs", "/jobs?state=DONE"):
        assert SHOWN in reply.text
    if path == "/jobs/{failed}":
        assert "podman failed &lt;script&gt;" in reply.text and reply.text.count("podman failed") == 4
    csp = reply.headers["content-security-policy"]
    assert csp.startswith("default-src 'none'") and "script-src" not in csp
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_job_page_shows_verdict_difference_attempts_and_downloads(farm_url: str, filled: Filled) -> None:
    page = request(f"{farm_url}/jobs/{filled.hostile}").text
    assert re.search(r'<header id="verdict" class="verdict v-DIFFERENT">\s*<h1>DIFFERENT</h1>', page)
    diff = page[page.index('<pre class="diff">'):]
    assert "-build-id 0123abcd" in diff and "&lt;b&gt;unchanged&lt;/b&gt;" in diff  # the difference, as text
    assert f'href="/jobs/{filled.hostile}/report.intoto.json"' in page and "(42.0 s)" in page
    assert f'<iframe class="report" sandbox src="/jobs/{filled.hostile}/report.html"' in page
    unsigned = request(f"{farm_url}/jobs/{filled.unsigned}").text
    assert "not signed yet" in unsigned and "report.intoto.json" not in unsigned
    assert request(f"{farm_url}/jobs/{filled.unsigned}/report.intoto.json").status == 404
    assert request(f"{farm_url}/jobs/{filled.failed}/report.json").status == 404  # no result


def test_embedded_report_is_the_html_presenter_with_its_own_policy(farm_url: str, filled: Filled) -> None:
    reply = request(f"{farm_url}/jobs/{filled.hostile}/report.html")
    assert reply.status == 200
    csp = reply.headers["content-security-policy"]
    assert csp.startswith("default-src 'none'; style-src 'unsafe-inline'") and "frame-ancestors 'self'" in csp
    _assert_escaped(reply.text)


def test_json_holds_what_the_pages_show_with_names_exact(farm_url: str, filled: Filled) -> None:
    summary = json.loads(request(f"{farm_url}/api/summary").body)
    assert summary["counts"]["jobs"] == {"QUEUED": 2, "RUNNING": 0, "DONE": 3, "FAILED": 1}
    assert summary["counts"]["verdicts"] == {"DIFFERENT": 2, "REPRODUCIBLE": 1}
    assert summary["counts"]["unsigned_results"] == 2
    assert [(r["name"], r["version"]) for r in summary["releases"]] == [
        ("broken", "0.1"), ("hello", "1.0"), (f"evil{HOSTILE}", "1.0\x00<b>")]
    assert [j["target"] for j in summary["active"]] == ["http://127.0.0.1:9/hello/release.json", "hello=1.1"]
    detail = json.loads(request(f"{farm_url}/api/jobs/{filled.hostile}").body)
    result = detail["result"]
    assert result["worker"] == f"w{HOSTILE}" and f"reason {HOSTILE}" in result["reasons"]
    assert result["seconds"] == 42.0 and result["signer"] == "farm-key"
    assert result["downloads"]["envelope"] == f"/jobs/{filled.hostile}/report.intoto.json"
    assert any("<b>unchanged</b>" in line for d in result["differences"] for line in d["lines"])
    failed = json.loads(request(f"{farm_url}/api/jobs/{filled.failed}").body)
    assert failed["job"]["error"] == f"podman failed {HOSTILE}" and failed["job"]["state"] == "FAILED"
    assert [a["outcome"] for a in failed["attempts"]] == ["INFRASTRUCTURE_ERROR"] * 3 and failed["result"] is None
    queued = json.loads(request(f"{farm_url}/api/jobs?state=QUEUED").body)["jobs"]
    assert [j["kind"] for j in queued] == ["manifest", "debian"]
    history = json.loads(request(f"{farm_url}/api/release?name=hello").body)["history"]
    assert [(j["version"], j["verdict"]) for j in history] == [("1.0", "DIFFERENT")]


@pytest.mark.slow
def test_the_same_pages_on_postgresql_as_the_api_role(postgres_url: str, tmp_path: Path) -> None:
    """`farm serve` as the least role the docs give it (farm_api: reads, creates and requeues
    jobs), never the owner: every page, the metrics, a submission and a requeue."""
    filled = filled_farm(tmp_path, postgres_url)
    filled.db.dispose()
    roles = create_roles(postgres_url)
    api = open_database(postgres_url.replace("farm_admin@", f"{roles.api}@"))
    published: list[tuple[int, str, float]] = []
    gate = FarmGate(api, lambda job_id, queue, limit: published.append((job_id, queue, limit)))
    try:
        with running(WebConfig(DatabaseReader(api), gate, WriteToken(TOKEN.encode()), load_keys(list(filled.keys)))) as url:
            summary = json.loads(request(f"{url}/api/summary").body)
            page = request(f"{url}/jobs/{filled.hostile}").text
            metrics = request(f"{url}/metrics").text
            history = json.loads(request(f"{url}/api/release?name={quote('evil' + HOSTILE)}&version=1.0%7F%3Cb%3E").body)
            created = _post(f"{url}/api/jobs", {"kind": "debian", "target": "hello=2.10-3"})
            requeued = _post(f"{url}/api/jobs/{filled.failed}/requeue", {})
            envelope = request(f"{url}/jobs/{filled.hostile}/report.intoto.json")
    finally:
        api.dispose()
    assert summary["counts"]["jobs"] == {"QUEUED": 2, "RUNNING": 0, "DONE": 3, "FAILED": 1}
    assert [r["name"] for r in summary["releases"]] == ["broken", "hello", f"evil{HOSTILE}"]
    assert SHOWN in page and "-build-id 0123abcd" in page
    assert 'verifier_farm_job_duration_seconds_sum{verdict="DIFFERENT"} 54.5' in metrics
    assert [j["id"] for j in history["history"]] == [filled.hostile]
    assert created.status == 201 and requeued.status == 201 and envelope.status == 200
    assert [p[0] for p in published] == [json.loads(r.body)["job"]["id"] for r in (created, requeued)]


def test_a_release_history_marks_a_changed_verdict(filled: Filled) -> None:
    with filled.db.session() as s:
        again = s.scalars(select(Job).where(Job.id == filled.unsigned)).one()
        job = Job(kind=again.kind, input=again.input, dedupe_key=again.dedupe_key, queue="verify", state="DONE",
                  attempts=1, max_attempts=3, time_limit=3600.0, created_at=again.created_at, updated_at=again.updated_at)
        s.add(job)
        s.flush()
        add_result(s, job, "REPRODUCIBLE", "hello", "1.0", b"{}", 5.0)
    with running(_config(filled)) as url:
        page = request(f"{url}/release?name=hello&version=1.0").text
        history = json.loads(request(f"{url}/api/release?name=hello&version=1.0").body)["history"]
    assert [(j["verdict"], j["changed_from"]) for j in history] == [("REPRODUCIBLE", "DIFFERENT"), ("DIFFERENT", None)]
    assert page.count('class="change"') == 1 and '<span class="change">was DIFFERENT</span>' in page


def test_a_huge_report_gives_a_bounded_page(filled: Filled) -> None:
    """3,000 differing artifacts and as many reasons: the page and its JSON show the first
    ones and say how many more (the report itself keeps everything)."""
    canonical = load_report(REPORTS / "canonical.json")
    differing = canonical.artifacts[1]
    huge = replace(canonical, artifacts=tuple(replace(differing, name=f"lib{i}<i>.tar.gz") for i in range(3000)),
                   reasons=tuple(f"lib{i}<i>.tar.gz: rebuilt bytes differ" for i in range(3000)))
    with filled.db.session() as s:
        job = s.scalars(select(Job).where(Job.state == "QUEUED")).first()
        job.state = "DONE"
        add_result(s, job, "DIFFERENT", "huge", "1", report_bytes(huge), 60.0)
        job_id = job.id
    with running(_config(filled)) as url:
        started = time.monotonic()
        page = request(f"{url}/jobs/{job_id}")
        doc = json.loads(request(f"{url}/api/jobs/{job_id}").body)["result"]
        elapsed = time.monotonic() - started
    assert page.status == 200 and len(page.body) < 2_000_000 and elapsed < 20
    assert "… and 2,980 more reasons, see the report" in page.text or "… and 2980 more reasons" in page.text
    assert len(doc["reasons"]) == 20 and doc["more_reasons"] == 2980
    assert len(doc["differences"]) == 50 and doc["more_differences"] == 2950
    assert "lib0&lt;i&gt;.tar.gz" in page.text and "<i>" not in page.text


def test_a_broken_stored_report_is_named_not_a_server_error(farm_url: str, filled: Filled) -> None:
    page = request(f"{farm_url}/jobs/{filled.broken}")
    assert page.status == 200 and "the stored report cannot be read" in page.text
    assert request(f"{farm_url}/jobs/{filled.broken}/report.html").status == 422
    doc = json.loads(request(f"{farm_url}/api/jobs/{filled.broken}").body)["result"]
    assert doc["problem"].startswith(f"job {filled.broken}: report")


@pytest.mark.parametrize("path,status", [("/jobs/999", 404), ("/api/jobs/999", 404), ("/jobs/0", 404),
                                         ("/release", 400), ("/api/jobs?limit=0", 400), ("/api/jobs?state=%3Cx%3E", 400),
                                         ("/release?name=%3Cscript%3Enope", 404), ("/keys/..%2Fetc%2Fpasswd", 404),
                                         ("/jobs/4/report.html", 404), ("/jobs?state=%3Cscript%3E", 400)])
def test_errors_are_one_line_json_or_escaped_html(farm_url: str, path: str, status: int) -> None:
    reply = request(farm_url + path)
    assert reply.status == status
    if path.startswith("/api/"):
        assert set(json.loads(reply.body)) == {"api_version", "error"}
    else:
        assert "<script>" not in reply.text and 'id="error"' in reply.text


def test_downloaded_envelope_and_keys_verify_with_report_verify(tmp_path: Path, filled: Filled, capsys) -> None:
    """Two farms, each with its own key: downloaded from each farm's /keys, both keys make
    --threshold 2 pass once farm B's operator co-signed the envelope farm A serves."""
    (tmp_path / "b").mkdir()
    second = filled_farm(tmp_path / "b")
    got = {}
    with running(_config(filled)) as a, running(_config(second)) as b:
        for farm, url in (("a", a), ("b", b)):
            keys = json.loads(request(f"{url}/api/keys").body)["keys"]
            assert len(keys) == 1
            (tmp_path / f"{farm}.pem").write_bytes(request(url + keys[0]["url"]).body)
            got[farm] = request(f"{url}/jobs/{filled.hostile}/report.intoto.json")
            assert got[farm].headers["content-disposition"] == f'attachment; filename="job-{filled.hostile}.intoto.json"'
        report = request(f"{a}/jobs/{filled.hostile}/report.json").body
    second.db.dispose()
    assert (tmp_path / "a.pem").read_bytes() == filled.keys[0].read_bytes()
    assert got["a"].body == filled.reader.envelope(filled.hostile) and report == filled.reader.report(filled.hostile)
    (tmp_path / "env.json").write_bytes(got["a"].body)
    (tmp_path / "report.json").write_bytes(report)
    keys = ["--key", str(tmp_path / "a.pem"), "--key", str(tmp_path / "b.pem")]
    assert run(["report", "verify", str(tmp_path / "env.json"), *keys[:2], "--report", str(tmp_path / "report.json")]) == 1  # FAILED: DIFFERENT
    assert run(["report", "verify", str(tmp_path / "env.json"), *keys, "--threshold", "2"]) == 4  # only A signed
    assert run(["report", "sign", str(tmp_path / "report.json"), "--signing-key", f"file:{second.key}",
                "--append-to", str(tmp_path / "env.json"), "--out", str(tmp_path / "both.json")]) == 0
    assert run(["report", "verify", str(tmp_path / "both.json"), *keys, "--threshold", "2"]) == 1
    assert "signature verified by 2 key(s)" in capsys.readouterr().out


def test_metrics_are_prometheus_text_read_from_the_farm(farm_url: str) -> None:
    reply = request(f"{farm_url}/metrics")
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(reply.text) for s in family.samples}
    assert json.loads(request(f"{farm_url}/healthz").body)["ok"] is True
    assert samples[("verifier_farm_queue_length", ())] == 2
    assert samples[("verifier_farm_queued", (("queue", "verify"),))] == 2
    assert samples[("verifier_farm_running", ())] == 0
    assert samples[("verifier_farm_jobs", (("state", "FAILED"),))] == 1
    assert samples[("verifier_farm_unsigned_results", ())] == 2
    assert samples[("verifier_farm_results_total", (("verdict", "DIFFERENT"),))] == 2
    assert samples[("verifier_farm_job_duration_seconds_count", (("verdict", "DIFFERENT"),))] == 2
    assert samples[("verifier_farm_job_duration_seconds_sum", (("verdict", "DIFFERENT"),))] == 54.5
    assert samples[("verifier_farm_job_duration_seconds_bucket", (("le", "15.0"), ("verdict", "DIFFERENT")))] == 1
    assert samples[("verifier_farm_job_duration_seconds_bucket", (("le", "+Inf"), ("verdict", "DIFFERENT")))] == 2
    assert ("verifier_farm_seconds_to_result", (("quantile", "0.95"),)) in samples


def test_the_durations_histogram_counts_new_results_once(filled: Filled, tmp_path: Path) -> None:
    reader = filled.reader
    before = reader.counts().durations["DIFFERENT"]
    # one result more after the first scrape
    with filled.db.session() as s:
        job = s.scalars(select(Job).where(Job.state == "QUEUED")).first()
        job.state = "DONE"
        add_result(s, job, "DIFFERENT", "hello", "1.1", b"{}", 700.0)
    after, again = reader.counts().durations["DIFFERENT"], reader.counts().durations["DIFFERENT"]
    assert after == again and after.total == before.total + 700.0
    assert dict(after.buckets)[600.0] == dict(before.buckets)[600.0] and dict(after.buckets)[1800.0] == 3


def _post(url: str, body: object, token: str | None = TOKEN, raw: bytes | None = None):
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    return request(url, raw if raw is not None else json.dumps(body).encode(), headers, "POST")


def _job_count(filled: Filled) -> int:
    with filled.db.session() as s:
        return len(s.scalars(select(Job.id)).all())


def test_writes_need_the_token_and_never_log_it(farm_url: str, filled: Filled, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wanted = {"kind": "pypi", "target": "Attrs==23.2.0"}
    for token in (None, "wrong", TOKEN[:-1], TOKEN + "x", TOKEN.upper()):
        reply = _post(f"{farm_url}/api/jobs", wanted, token)
        assert reply.status == 401 and reply.headers["www-authenticate"] == "Bearer"
    assert _post(f"{farm_url}/api/jobs/{filled.failed}/requeue", {}, "wrong").status == 401
    assert _job_count(filled) == 6 and filled.published == []  # nothing written, nothing sent
    first = _post(f"{farm_url}/api/jobs", wanted)
    created = json.loads(first.body)
    assert first.status == 201 and created["job"]["target"] == "attrs==23.2.0" and created["job"]["state"] == "QUEUED"
    again = _post(f"{farm_url}/api/jobs", wanted)
    assert again.status == 200 and json.loads(again.body) == {**created, "created": False}
    assert filled.published == [(created["job"]["id"], "verify", 3600.0)]  # sent to the broker once
    requeued = _post(f"{farm_url}/api/jobs/{filled.failed}/requeue", {})
    new = json.loads(requeued.body)["job"]
    assert requeued.status == 201 and new["id"] != filled.failed and new["target"] == "pkg==2"
    assert _post(f"{farm_url}/api/jobs/99/requeue", {}).status == 404
    assert TOKEN not in caplog.text and "s3cr3t" not in caplog.text


@pytest.mark.parametrize("body,status", [(b"not json", 400), (b"[1]", 400), (b"\xff", 400),
                                         (b'{"kind": "pypi", "target": "a==1", "target": "b==2"}', 400), (b'{"kind": "rpm", "target": "x"}', 400),
                                         (b'{"kind": "pypi", "target": ""}', 400),
                                         (b'{"kind": "pypi", "target": "<script>==1"}', 400),
                                         (b'{"kind": "manifest", "target": "http://u:p@127.0.0.1/r.json"}', 400),
                                         (b'{"kind": "manifest", "target": "file:///etc/shadow"}', 400),
                                         (b'{"kind": "manifest", "target": "/etc/shadow"}', 400),
                                         (b'{"kind": "manifest", "target": "etc/release.json"}', 400),
                                         (b'{"kind": "pypi", "target": "attrs==-rreq.txt"}', 400),
                                         (b'{"kind": "pypi", "target": "' + b"x" * 70000 + b'"}', 413)])
def test_bad_submissions_are_refused(farm_url: str, filled: Filled, body: bytes, status: int) -> None:
    reply = _post(f"{farm_url}/api/jobs", None, raw=body)
    assert reply.status == status and set(json.loads(reply.body)) == {"api_version", "error"}
    assert _job_count(filled) == 6 and filled.published == []


def test_without_a_token_writes_are_closed(filled: Filled) -> None:
    with running(_config(filled, token=None)) as url:
        assert _post(f"{url}/api/jobs", {"kind": "pypi", "target": "a==1"}).status == 403
        assert _post(f"{url}/api/jobs", {"kind": "pypi", "target": "a==1"}, None).status == 403
    assert _job_count(filled) == 6


def test_a_broker_that_refuses_fails_the_job_at_once(filled: Filled) -> None:
    def refuse(job_id: int, queue: str, time_limit: float) -> None:
        raise InfrastructureError("broker redis://127.0.0.1:9/0: cannot send verifier.farm.verify")

    gate = FarmGate(filled.db, refuse)
    with running(_config(filled, writer=gate)) as url:
        reply = _post(f"{url}/api/jobs", {"kind": "debian", "target": "zlib=1:1.2.13"})
    assert reply.status == 503 and "cannot send" in json.loads(reply.body)["error"]
    state = filled.reader.jobs("FAILED", 10)[0]
    assert state.target == "zlib=1:1.2.13" and state.error.startswith("not queued: broker")


def test_a_database_that_went_away_is_503_in_one_line() -> None:
    url = f"postgresql://farm:s3cret-pw@127.0.0.1:{free_port()}/farm"
    gone = Database(url, create(url), sessionmaker(create(url)))  # as if the server stopped after start-up
    with running(WebConfig(DatabaseReader(gone))) as base:
        api, page, health = request(f"{base}/api/summary"), request(f"{base}/"), request(f"{base}/healthz")
    gone.dispose()
    assert api.status == page.status == health.status == 503
    error = json.loads(api.body)["error"]
    assert error.startswith("the farm's database is unavailable: ") and "\n" not in error and "s3cret" not in error
    assert 'id="error"' in page.text and "s3cret" not in page.text


def test_token_matching_and_loading(tmp_path: Path) -> None:
    token = WriteToken(TOKEN.encode())
    assert token.matches(f"Bearer {TOKEN}") and token.matches(f"bearer  {TOKEN}")
    for header in (None, "", TOKEN, f"Basic {TOKEN}", f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}\u00e9", "Bearer"):
        assert not token.matches(header)
    assert TOKEN not in repr(token)
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    os.chmod(path, 0o600)
    assert load_token(path, {}) == token
    os.chmod(path, 0o640)
    with pytest.raises(InputError, match="readable by others"):
        load_token(path, {})
    assert load_token(None, {TOKEN_ENV: TOKEN}) == token and load_token(None, {}) is None
    with pytest.raises(InputError, match="at least 16") as short:
        load_token(None, {TOKEN_ENV: "short"})
    assert "short" not in str(short.value)


def test_only_the_configured_host_names_are_answered(filled: Filled) -> None:
    """A page that rebinds its own name to 127.0.0.1 sends its name as Host: refused."""
    with running(_config(filled, allowed_hosts=("127.0.0.1", "localhost", "::1"))) as url:
        assert request(f"{url}/api/summary").status == 200
        assert request(f"{url}/api/summary", headers={"Host": "localhost:1"}).status == 200
        rebound = request(f"{url}/api/summary", headers={"Host": "attacker.example"})
        assert rebound.status == 400 and rebound.headers["x-content-type-options"] == "nosniff"
        assert _post(f"{url}/api/jobs", {"kind": "pypi", "target": "a==1"}).status == 201
