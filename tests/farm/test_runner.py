"""A job runs the same code path as its command: which function each kind calls, with what."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.fixtures_http import Server
from verifier.errors import InputError, VerifierError
from verifier.farm import runner
from verifier.farm.runner import RunnerOptions, run_job
from verifier.report.codec import load_report
from verifier.settings import Settings

REPORT = load_report(Path(__file__).resolve().parents[2] / "fixtures" / "reports" / "canonical.json")


class Outcome:
    report = REPORT


def test_each_kind_calls_its_command_with_the_job_limit_and_its_own_directory(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: dict[str, tuple[object, ...]] = {}

    def fake(name: str):  # type: ignore[no-untyped-def]
        def call(*args: object) -> Outcome:
            calls[name] = args
            return Outcome()
        return call

    monkeypatch.setattr(runner, "verify", fake("verify"))
    monkeypatch.setattr(runner, "verify_debian", fake("debian"))
    monkeypatch.setattr(runner, "verify_pypi", fake("pypi"))
    monkeypatch.setattr(runner, "open_sandbox", lambda settings: "sandbox")
    monkeypatch.setattr(runner.Podman, "from_settings", classmethod(lambda cls, settings: "podman"))
    options = RunnerOptions(debian_archive="http://mirror.test/debian", debian_suite="trixie",
                            pypi_index_url="http://index.test/simple")
    settings = Settings(cache_dir=tmp_path / "cache", work_dir=tmp_path / "w")
    found = run_job("manifest", "/srv/r/release.json", settings, tmp_path / "job", 30.0, options)
    assert found.verdict == REPORT.verdict.value and found.release_name == REPORT.release.name
    location, used, *_ = calls["verify"]
    assert location == "/srv/r/release.json" and used.sandbox.build_timeout == 30.0  # type: ignore[attr-defined]
    assert used.work_dir == tmp_path / "job" / "work"  # type: ignore[attr-defined]
    run_job("debian", "hello=2.10-3", settings, tmp_path / "job", 30.0, options)
    request = calls["debian"][0]
    assert (request.target, request.archive, request.suite) == ("hello=2.10-3", "http://mirror.test/debian", "trixie")  # type: ignore[attr-defined]
    run_job("pypi", "attrs==23.2.0", settings, tmp_path / "job", 30.0, options)
    request = calls["pypi"][0]
    assert (request.requirement, request.index_url) == ("attrs==23.2.0", "http://index.test/simple")  # type: ignore[attr-defined]
    with pytest.raises(InputError):
        run_job("rpm", "x", settings, tmp_path / "job", 30.0, options)


def test_a_job_manifest_url_on_loopback_is_refused_unless_the_worker_allows_it(tmp_path: Path, http_server: Server) -> None:
    """`verify URL` trusts a loopback URL its user typed; a farm worker must not: whoever
    submitted the job is not on the worker's machine (its Redis, its farm API listen there)."""
    url = http_server.add("/release.json", body=b"not a manifest")
    settings = Settings(cache_dir=tmp_path / "cache", work_dir=tmp_path / "w")
    with pytest.raises(VerifierError, match="loopback") as refused:
        run_job("manifest", url, settings, tmp_path / "job", 30.0)
    assert url in refused.value.message and http_server.routes["/release.json"].hits == []
    allowed = dataclasses.replace(settings, fetch=dataclasses.replace(settings.fetch, allow_private_addresses=True))
    with pytest.raises(InputError, match="not valid JSON"):  # fetched, then read as the manifest it is not
        run_job("manifest", url, allowed, tmp_path / "job", 30.0)
