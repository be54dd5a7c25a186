"""`farm serve`'s dashboard and API under a real uvicorn on 127.0.0.1, over HTTP: hostile
names escaped on every page and kept exact in the JSON, downloads byte for byte (checked
by `verifier report verify`), metrics, and the write token."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from verifier.cli.app import run
from verifier.errors import InputError
from verifier.farm.web.auth import TOKEN_ENV, WriteToken, load_token
from verifier.farm.web.context import WebConfig
from verifier.farm.web.keys import load_keys

from tests.farm.web_server import HOSTILE, TOKEN, Filled, filled_farm, request, running

pytestmark = pytest.mark.timeout(60)
RAW = ("<script>", "\x1b", "\u202e", "alert('x')</script>")


@pytest.fixture
def filled(tmp_path: Path) -> Filled:
    return filled_farm(tmp_path)


@pytest.fixture
def farm_url(filled: Filled) -> Iterator[str]:
    config = WebConfig(filled.farm, filled.farm, WriteToken(TOKEN.encode()), load_keys(list(filled.keys)))
    with running(config) as url:
        yield url


def _assert_escaped(html: str) -> None:
    for raw in RAW:
        assert raw not in html, raw
    assert "\nVERDICT" not in html  # the newline in the name is shown as \x0a, not a line of its own


@pytest.mark.parametrize("path", ["/", "/release?name=evil{h}&version=1.0%00%3Cb%3E", "/release?name=evil{h}",
                                  "/jobs/1", "/jobs/5", "/results/{r}", "/keys"])
def test_every_page_escapes_hostile_names(farm_url: str, filled: Filled, path: str) -> None:
    from urllib.parse import quote

    reply = request(farm_url + path.format(h=quote(HOSTILE), r=filled.hostile_result))
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/html")
    _assert_escaped(reply.text)
    if "evil" in path or path == "/" or path.startswith("/results") or path == "/jobs/1":
        assert "evil&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&#34;&#39;&amp;\\x1b[31m\\x0aVERDICT" in reply.text
    assert "script-src" not in reply.headers["content-security-policy"]
    assert reply.headers["content-security-policy"].startswith("default-src 'none'")
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_result_page_shows_verdict_difference_and_downloads(farm_url: str, filled: Filled) -> None:
    page = request(f"{farm_url}/results/{filled.hostile_result}").text
    assert re.search(r'<header id="verdict" class="verdict v-DIFFERENT">\s*<h1>DIFFERENT</h1>', page)
    diff = page[page.index('<pre class="diff">'):]
    assert "-build-id 0123abcd" in diff and "&lt;b&gt;unchanged&lt;/b&gt;" in diff  # the difference, as text
    assert f'href="/results/{filled.hostile_result}/report.intoto.json"' in page
    assert f'<iframe class="report" sandbox src="/results/{filled.hostile_result}/report.html"' in page
    unsigned = request(f"{farm_url}/results/{filled.unsigned_result}").text
    assert "not signed yet" in unsigned and "report.intoto.json" not in unsigned
    assert request(f"{farm_url}/results/{filled.unsigned_result}/report.intoto.json").status == 404


def test_embedded_report_is_the_html_presenter_with_its_own_policy(farm_url: str, filled: Filled) -> None:
    reply = request(f"{farm_url}/results/{filled.hostile_result}/report.html")
    assert reply.status == 200
    assert reply.headers["content-security-policy"].startswith("default-src 'none'; style-src 'unsafe-inline'")
    _assert_escaped(reply.text)
    assert "frame-ancestors 'self'" in reply.headers["content-security-policy"]


def test_json_holds_what_the_pages_show_with_names_exact(farm_url: str, filled: Filled) -> None:
    summary = json.loads(request(f"{farm_url}/api/summary").body)
    assert summary["counts"] == {"jobs": {"done": 3, "failed": 1, "queued": 2},
                                 "verdicts": {"DIFFERENT": 2, "REPRODUCIBLE": 1}}
    names = {(r["name"], r["version"]) for r in summary["releases"]}
    assert (f"evil{HOSTILE}", "1.0\x00<b>") in names and ("hello", "1.1") in names
    assert [j["id"] for j in summary["active"]] == [6, 4]  # queued, newest first
    result = json.loads(request(f"{farm_url}/api/results/{filled.hostile_result}").body)["result"]
    assert result["worker"] == f"w{HOSTILE}" and f"reason {HOSTILE}" in result["reasons"]
    assert result["downloads"]["envelope"] == f"/results/{filled.hostile_result}/report.intoto.json"
    assert any("<b>unchanged</b>" in line for d in result["differences"] for line in d["lines"])
    job = json.loads(request(f"{farm_url}/api/jobs/5").body)["job"]
    assert job["error"] == f"podman failed {HOSTILE}" and job["state"] == "failed" and job["attempts"] == 3
    queued = json.loads(request(f"{farm_url}/api/jobs?state=queued").body)["jobs"]
    assert [j["id"] for j in queued] == [6, 4]
    history = json.loads(request(f"{farm_url}/api/release?name=hello").body)["history"]
    assert [(j["version"], j["state"]) for j in history] == [("1.0", "queued"), ("1.1", "queued"), ("1.0", "done")]


def test_a_broken_stored_report_is_named_not_a_server_error(farm_url: str, filled: Filled) -> None:
    page = request(f"{farm_url}/results/{filled.broken_result}")
    assert page.status == 200 and "the stored report cannot be read" in page.text
    assert request(f"{farm_url}/results/{filled.broken_result}/report.html").status == 422
    doc = json.loads(request(f"{farm_url}/api/results/{filled.broken_result}").body)["result"]
    assert doc["problem"].startswith(f"result {filled.broken_result}: report")


@pytest.mark.parametrize("path,status", [("/results/999", 404), ("/api/results/999", 404), ("/jobs/0", 404),
                                         ("/release", 400), ("/api/jobs?limit=0", 400), ("/api/jobs?state=%3Cx%3E", 400),
                                         ("/release?name=%3Cscript%3Enope", 404), ("/keys/..%2Fetc%2Fpasswd", 404)])
def test_errors_are_one_line_json_or_escaped_html(farm_url: str, path: str, status: int) -> None:
    reply = request(farm_url + path)
    assert reply.status == status
    if path.startswith("/api/"):
        assert set(json.loads(reply.body)) == {"api_version", "error"}
    else:
        assert "<script>" not in reply.text and 'id="error"' in reply.text


def test_downloaded_envelope_and_keys_verify_with_report_verify(tmp_path: Path, filled: Filled, capsys) -> None:
    """Two farms, each with its own key: farm B's operator co-signed the envelope farm A
    serves; both keys downloaded from the farms' /keys make --threshold 2 pass."""
    (tmp_path / "b").mkdir()
    second = filled_farm(tmp_path / "b")
    got = {}
    with running(WebConfig(filled.farm, keys=load_keys(list(filled.keys)))) as a, \
            running(WebConfig(second.farm, keys=load_keys(list(second.keys)))) as b:
        for farm, url in (("a", a), ("b", b)):
            keys = json.loads(request(f"{url}/api/keys").body)["keys"]
            assert len(keys) == 1
            (tmp_path / f"{farm}.pem").write_bytes(request(url + keys[0]["url"]).body)
            got[farm] = request(f"{url}/results/1/report.intoto.json")
            assert got[farm].headers["content-disposition"] == 'attachment; filename="result-1.intoto.json"'
        report = request(f"{a}/results/1/report.json").body
    assert (tmp_path / "a.pem").read_bytes() == filled.keys[0].read_bytes()
    assert got["a"].body == filled.farm.result(1).envelope and report == filled.farm.result(1).report
    (tmp_path / "env.json").write_bytes(got["a"].body)
    (tmp_path / "report.json").write_bytes(report)
    keys = ["--key", str(tmp_path / "a.pem"), "--key", str(tmp_path / "b.pem")]
    assert run(["report", "verify", str(tmp_path / "env.json"), *keys[:2], "--report", str(tmp_path / "report.json")]) == 1  # FAILED: DIFFERENT
    assert run(["report", "verify", str(tmp_path / "env.json"), *keys, "--threshold", "2"]) == 4  # only A signed
    assert run(["report", "sign", str(tmp_path / "report.json"), "--signing-key", f"file:{tmp_path / 'b' / 'farm.key'}",
                "--append-to", str(tmp_path / "env.json"), "--out", str(tmp_path / "both.json")]) == 0
    assert run(["report", "verify", str(tmp_path / "both.json"), *keys, "--threshold", "2"]) == 1
    assert "signature verified by 2 key(s)" in capsys.readouterr().out


def test_metrics_are_prometheus_text_read_from_the_farm(farm_url: str) -> None:
    reply = request(f"{farm_url}/metrics")
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(reply.text) for s in family.samples}
    assert samples[("verifier_farm_queue_length", ())] == 2
    assert samples[("verifier_farm_running", ())] == 0
    assert samples[("verifier_farm_jobs", (("state", "failed"),))] == 1
    assert samples[("verifier_farm_results_total", (("verdict", "DIFFERENT"),))] == 2
    assert samples[("verifier_farm_job_duration_seconds_count", (("verdict", "DIFFERENT"),))] == 2
    assert samples[("verifier_farm_job_duration_seconds_sum", (("verdict", "DIFFERENT"),))] == 54.5
    assert samples[("verifier_farm_job_duration_seconds_bucket", (("le", "15.0"), ("verdict", "DIFFERENT")))] == 1


def _post(url: str, body: object, token: str | None = TOKEN, raw: bytes | None = None):
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    return request(url, raw if raw is not None else json.dumps(body).encode(), headers, "POST")


def test_writes_need_the_token_and_never_log_it(farm_url: str, filled: Filled, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wanted = {"kind": "pypi", "target": f"x{HOSTILE}==1"}
    for token in (None, "wrong", TOKEN[:-1], TOKEN + "x", TOKEN.upper()):
        reply = _post(f"{farm_url}/api/jobs", wanted, token)
        assert reply.status == 401 and reply.headers["www-authenticate"] == "Bearer"
    assert _post(f"{farm_url}/api/jobs/5/requeue", {}, "wrong").status == 401
    assert len(filled.farm.jobs_by_id) == 6 and filled.farm.job(5).state == "failed"  # nothing written
    first = _post(f"{farm_url}/api/jobs", wanted)
    assert first.status == 201 and json.loads(first.body)["job"]["target"] == f"x{HOSTILE}==1"
    again = _post(f"{farm_url}/api/jobs", wanted)
    assert again.status == 200 and json.loads(again.body) == {**json.loads(first.body), "created": False}
    requeued = _post(f"{farm_url}/api/jobs/5/requeue", {})
    assert requeued.status == 200 and json.loads(requeued.body)["job"]["state"] == "queued"
    assert _post(f"{farm_url}/api/jobs/99/requeue", {}).status == 404
    assert TOKEN not in caplog.text and "s3cr3t" not in caplog.text


@pytest.mark.parametrize("body,status", [(b"not json", 400), (b"[1]", 400), (b'{"kind": "rpm", "target": "x"}', 400),
                                         (b'{"kind": "pypi", "target": ""}', 400),
                                         (b'{"kind": "pypi", "target": "' + b"x" * 70000 + b'"}', 413)])
def test_bad_submissions_are_refused(farm_url: str, filled: Filled, body: bytes, status: int) -> None:
    assert _post(f"{farm_url}/api/jobs", None, raw=body).status == status
    assert len(filled.farm.jobs_by_id) == 6


def test_without_a_token_writes_are_closed(filled: Filled) -> None:
    with running(WebConfig(filled.farm, filled.farm, token=None)) as url:
        assert _post(f"{url}/api/jobs", {"kind": "pypi", "target": "a==1"}).status == 403
        assert _post(f"{url}/api/jobs", {"kind": "pypi", "target": "a==1"}, None).status == 403
    assert len(filled.farm.jobs_by_id) == 6


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
