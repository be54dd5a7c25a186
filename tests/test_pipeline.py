"""`pipeline.verify` end to end with the fake sandbox: real fetch, cache, output collection,
comparison, verdict and report; only the container is replaced. Milliseconds per case."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.test_lockfile_build import build_deb, lockfile_for
from verifier.cache import ContentCache
from verifier.pipeline import VerifyOptions, verify
from verifier.render import render
from verifier.render.formats import ReportFormat
from verifier.report.codec import load_report
from verifier.sandbox.fake import FakeBuild, FakeSandbox
from verifier.settings import Settings
from verifier.stages import BuildStatus, InstalledPackage, Verdict

A = b"official artifact a\n"
B = b"official artifact b\n"


def pin(path: Path, **extra: object) -> dict:
    data = path.read_bytes()
    return {"name": path.name, "url": path.name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), **extra}


def release(tmp: Path, artifacts: dict[str, bytes], lockfile: Path | None = None) -> Path:
    """A release directory made in code: an environment, one source archive, the artifacts."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "env.tar").write_bytes(b"\0" * 1024)  # never run: the fake sandbox only records its import
    (tmp / "src").mkdir()
    (tmp / "src" / "input.txt").write_text("source\n")
    subprocess.run(["tar", "-C", str(tmp), "-cf", str(tmp / "src.tar"), "src"], check=True)
    for name, data in artifacts.items():
        (tmp / name).write_bytes(data)
    doc = {"manifest_version": 1, "name": "fake", "version": "1",
           "environment": pin(tmp / "env.tar", format="rootfs"),
           "lockfile": pin(lockfile, format="verifier") if lockfile else None,
           "sources": [pin(tmp / "src.tar", unpack=True)],
           "build": {"command": "make", "workdir": "/build/src", "outputs": ["out/*"],
                     "source_date_epoch": 1700000000, "variables": {}},
           "artifacts": [pin(tmp / name) for name in artifacts]}
    (tmp / "release.json").write_text(json.dumps(doc))
    return tmp / "release.json"


def run_verify(settings: Settings, manifest: Path, build: FakeBuild, explain: bool = True):
    sandbox = FakeSandbox(settings, build)
    outcome = verify(str(manifest), settings, sandbox, ContentCache(settings.cache_dir),
                     VerifyOptions(explain=explain, report_path=settings.work_dir / "report.json"))
    assert outcome.report_path.is_file()
    return outcome, sandbox


def test_reproducible(settings: Settings, tmp_path: Path) -> None:
    manifest = release(tmp_path / "rel", {"a.txt": A, "b.txt": B})
    started = time.monotonic()
    outcome, sandbox = run_verify(settings, manifest, FakeBuild({"out/a.txt": A, "out/b.txt": B}))
    assert outcome.verdict.verdict == Verdict.REPRODUCIBLE, outcome.verdict.reasons
    assert [c.pin.name for c in sandbox.imported] == ["env.tar"] and sandbox.preparations == [None]
    assert json.loads(outcome.report_path.read_text())["verdict"] == "REPRODUCIBLE"
    assert time.monotonic() - started < 5


def test_sources_are_placed_in_the_fake_build_directory(settings: Settings, tmp_path: Path) -> None:
    manifest = release(tmp_path / "rel", {"input.txt": b"source\n"})
    outcome, _ = run_verify(settings, manifest, FakeBuild({"out/input.txt": b"source\n"}))
    assert outcome.verdict.verdict == Verdict.REPRODUCIBLE


def test_different_bytes(settings: Settings, tmp_path: Path) -> None:
    manifest = release(tmp_path / "rel", {"a.txt": A, "b.txt": B})
    outcome, _ = run_verify(settings, manifest, FakeBuild({"out/a.txt": A, "out/b.txt": b"rebuilt b\n"}))
    assert outcome.verdict.verdict == Verdict.DIFFERENT
    assert any("b.txt" in r and "differ" in r for r in outcome.verdict.reasons), outcome.verdict.reasons


def test_missing_output(settings: Settings, tmp_path: Path) -> None:
    manifest = release(tmp_path / "rel", {"a.txt": A, "b.txt": B})
    outcome, _ = run_verify(settings, manifest, FakeBuild({"out/a.txt": A}))
    assert outcome.verdict.verdict == Verdict.DIFFERENT
    assert any("b.txt" in r and "did not produce" in r for r in outcome.verdict.reasons), outcome.verdict.reasons


def test_extra_output(settings: Settings, tmp_path: Path) -> None:
    manifest = release(tmp_path / "rel", {"a.txt": A})
    outcome, _ = run_verify(settings, manifest, FakeBuild({"out/a.txt": A, "out/stray.txt": b"?"}))
    assert outcome.verdict.verdict == Verdict.DIFFERENT
    assert any("stray.txt" in r for r in outcome.verdict.reasons)


def test_build_failed(settings: Settings, tmp_path: Path) -> None:
    manifest = release(tmp_path / "rel", {"a.txt": A})
    failed = FakeBuild({"out/a.txt": A}, status=BuildStatus.FAILED, exit_status=2,
                       reason="the build command exited with status 2: make: *** [all] Error 1")
    outcome, _ = run_verify(settings, manifest, failed)
    assert outcome.verdict.verdict == Verdict.INCONCLUSIVE
    assert "FAILED" in outcome.verdict.reasons[0] and "status 2" in outcome.verdict.reasons[0]
    assert json.loads(outcome.report_path.read_text())["artifacts"][0]["status"] == "MISSING", \
        "nothing is collected from a failed build"


# a Debian build whose test suite fails, then hundreds of lines of cleanup after the errors
FAILING_LOG = ("dh_auto_build\n" + "gcc -O2 -c x.c -Werror=format-security\n" * 3
               + "checking whether strerror_r returns char... no\n" + "# XFAIL: 0\n# FAIL:  0\n"
               + "FAIL: test_parse.sh\n" + "x.c:3:5: error: 'y' undeclared\n"
               + "make[2]: *** [Makefile:100: check] Error 1\n" + "cleanup line\n" * 300
               + "dh_auto_test: error: make -j2 check returned exit code 2\n")


def test_a_failed_build_shows_its_first_error_lines_in_the_summary(settings: Settings, tmp_path: Path) -> None:
    manifest = release(tmp_path / "rel", {"a.txt": A})
    failed = FakeBuild({}, status=BuildStatus.FAILED, exit_status=2, log=FAILING_LOG,
                       reason="the build command exited with status 2: dh_auto_test: error: make -j2 check returned exit code 2")
    outcome, _ = run_verify(settings, manifest, failed)
    report = json.loads(outcome.report_path.read_text())
    assert report["build"]["log_errors"] == ["FAIL: test_parse.sh", "x.c:3:5: error: 'y' undeclared",
                                             "make[2]: *** [Makefile:100: check] Error 1",
                                             "dh_auto_test: error: make -j2 check returned exit code 2"]
    text = render(load_report(outcome.report_path), ReportFormat.TEXT)
    summary = text[:text.index("\n\n")]
    assert "first error-looking lines of the build log:" in summary and "│ FAIL: test_parse.sh" in summary
    assert "Werror" not in summary and "strerror_r" not in summary, "compiler flags and configure checks are not errors"
    assert "FAIL:  0" not in summary, "a test summary with no failure is not an error"
    for fmt in (ReportFormat.MARKDOWN, ReportFormat.HTML):
        assert "undeclared" in render(load_report(outcome.report_path), fmt)


def test_a_build_that_succeeds_has_no_error_lines(settings: Settings, tmp_path: Path) -> None:
    manifest = release(tmp_path / "rel", {"a.txt": A})
    outcome, _ = run_verify(settings, manifest, FakeBuild({"out/a.txt": A}, log="error: harmless\n"))
    assert "log_errors" not in json.loads(outcome.report_path.read_text())["build"], "left out: golden files unchanged"
    assert "error-looking" not in render(load_report(outcome.report_path), ReportFormat.TEXT)


BUILDINFO = """Format: 1.0
Source: fake
Version: 1
Architecture: all
Build-Architecture: amd64
Build-Date: Sat, 03 Feb 2024 12:00:00 +0000
Installed-Build-Depends:
 tar (= 1.34+dfsg-1.2)
"""


def test_the_official_build_date_reaches_the_build_clock_hint(settings: Settings, tmp_path: Path) -> None:
    """A .buildinfo pinned as official_buildinfo: its Build-Date is the official build's time,
    so its date in the official artifact where the rebuild has its own is the build clock."""
    manifest = release(tmp_path / "rel", {"a.txt": b"built on 2024-02-03\n"})
    (tmp_path / "rel" / "fake.buildinfo").write_text(BUILDINFO)
    doc = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**doc, "official_buildinfo": pin(tmp_path / "rel" / "fake.buildinfo")}))
    today = time.strftime("%Y-%m-%d", time.gmtime())
    outcome, _ = run_verify(settings, manifest, FakeBuild({"out/a.txt": f"built on {today}\n".encode()}))
    hints = json.loads(outcome.report_path.read_text())["artifacts"][0]["difference"]["hints"]
    assert any("official '2024-02-03' (the official build's), rebuild " in h for h in hints), hints


def test_build_produced_no_outputs(settings: Settings, tmp_path: Path) -> None:
    manifest = release(tmp_path / "rel", {"a.txt": A})
    outcome, _ = run_verify(settings, manifest, FakeBuild({"elsewhere/a.txt": A}))
    assert outcome.verdict.verdict != Verdict.REPRODUCIBLE
    report = json.loads(outcome.report_path.read_text())
    assert report["build"]["status"] == BuildStatus.NO_OUTPUTS.value


def test_release_without_artifacts_is_never_reproducible(settings: Settings, tmp_path: Path) -> None:
    manifest = release(tmp_path / "rel", {})
    outcome, _ = run_verify(settings, manifest, FakeBuild({}))
    assert outcome.verdict.verdict == Verdict.INCONCLUSIVE
    assert outcome.verdict.reasons, "an empty artifact list says why"


@pytest.fixture
def locked_release(tmp_path: Path) -> Path:
    deb = build_deb(tmp_path / "debs", "verifier-probe", "1.0", "marker\n")
    rel = tmp_path / "rel"
    rel.mkdir(parents=True)
    (rel / deb.name).write_bytes(deb.read_bytes())
    lock = rel / "lock.json"
    lock.write_text(json.dumps(lockfile_for([(rel / deb.name, "verifier-probe", "1.0")], lambda d: d.name)))
    return release(rel, {"a.txt": A}, lockfile=lock)


def test_lockfile_match(settings: Settings, locked_release: Path) -> None:
    installed = (InstalledPackage("verifier-probe", "1.0", "all"),)
    outcome, sandbox = run_verify(settings, locked_release, FakeBuild({"out/a.txt": A}, installed=installed))
    assert sandbox.preparations[0] is not None, "the lockfile's offline repository was prepared"
    assert outcome.verdict.verdict == Verdict.REPRODUCIBLE, outcome.verdict.reasons


def test_lockfile_drift(settings: Settings, locked_release: Path) -> None:
    installed = (InstalledPackage("verifier-probe", "0.9", "all"),)
    outcome, _ = run_verify(settings, locked_release, FakeBuild({"out/a.txt": A}, installed=installed))
    assert outcome.verdict.verdict == Verdict.INCONCLUSIVE
    assert any("drifted" in r and "verifier-probe" in r for r in outcome.verdict.reasons), outcome.verdict.reasons
    assert json.loads(outcome.report_path.read_text())["packages"]["status"] == "DRIFT"


def test_output_notes_reach_the_report(settings: Settings, tmp_path: Path) -> None:
    manifest = release(tmp_path / "rel", {"a.txt": A})
    build = FakeBuild({"out/a.txt": A}, symlinks={"out/passwd": "/etc/passwd"})
    outcome, _ = run_verify(settings, manifest, build)
    assert outcome.verdict.verdict == Verdict.REPRODUCIBLE, "a refused output is not an extra artifact"
    note = "out/passwd: matched 'out/*' but is a symlink (not followed); not collected"
    assert json.loads(outcome.report_path.read_text())["sandbox"]["output_notes"] == [note]
    assert note in render(outcome.report, ReportFormat.TEXT)
