"""Real Debian packages from the real archive, through the one command `verifier debian`
(docs/debian.md): dh-python rebuilds bit for bit from its name (environment re-resolved),
its release.json repeats with `verifier verify --offline`, and it rebuilds bit for bit from
a .buildinfo (the environment it names); hello differs and the report says why.
The `verifier lock` tests at the end lock a .buildinfo's pins by hand.

Four builds in all: the dh-python run from its name is a module fixture the next tests
reuse, and the runs share one cache (environments are built once per pin set, keyed by the
lockfile's digest: dh-python's and hello's re-resolved runs share theirs). What needs no
build is covered against a small signed archive instead (tests/test_debian_inputs.py: a
.buildinfo version the archive lacks is INCONCLUSIVE naming it, in release.json too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from verifier.cli.app import run
from verifier.errors import ExitCode

pytestmark = [pytest.mark.network_archive, pytest.mark.podman, pytest.mark.slow]
DH_PYTHON = "dh-python=5.20230130+deb12u1"


@dataclass(frozen=True)
class Run:
    work: Path
    code: int
    report: dict


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("debian-cache")


@pytest.fixture(scope="module")
def dh_python(tmp_path_factory: pytest.TempPathFactory, shared_cache: Path) -> Run:
    """`verifier debian dh-python=…`, once for the module."""
    work = tmp_path_factory.mktemp("dh-python")
    return Run(work, *debian(work, shared_cache, DH_PYTHON))


def debian(work: Path, cache: Path, *args: str) -> tuple[int, dict]:
    code = run(["debian", *args, "--cache-dir", str(cache), "--work-dir", str(work),
                "--output", str(work / "summary.txt"),
                "--allow-private-addresses"])  # the archive may be a mirror on a private address (it is on CI)
    reports = sorted(work.glob("*/report.json"))
    return code, json.loads(reports[0].read_text()) if reports else {}


def test_dh_python_bit_for_bit_from_its_name(dh_python: Run) -> None:
    report = dh_python.report
    assert report["build"]["status"] == "SUCCEEDED", report["build"]["log_tail"]
    assert [a["status"] for a in report["artifacts"]] == ["IDENTICAL"] * 3, json.dumps(report["artifacts"])[:3000]
    assert dh_python.code == ExitCode.OK and report["verdict"] == "REPRODUCIBLE"
    d = report["debian"]
    assert d["environment"] == "re-resolved" and any("re-resolved" in r for r in report["reasons"])
    assert "re-resolved" in (dh_python.work / "summary.txt").read_text()
    assert d["archive"]["signed_by"] and len(d["archive"]["release_sha256"]) == 64
    assert report["sandbox"]["network"] == "none" and report["packages"]["status"] == "MATCH"
    run_dir = dh_python.work / "dh-python-5.20230130+deb12u1"
    kept = {Path(p).name for p in d["rebuilt_files"]}
    assert "dh-python_5.20230130+deb12u1_all.deb" in kept and all(Path(p).is_file() for p in d["rebuilt_files"])
    assert (run_dir / "release.json").is_file() and (run_dir / "lock.json").is_file()


def test_its_release_repeats_with_verify_offline(dh_python: Run, tmp_path: Path, shared_cache: Path) -> None:
    release = dh_python.work / "dh-python-5.20230130+deb12u1" / "release.json"
    again = run(["verify", str(release), "--offline", "--cache-dir", str(shared_cache),
                 "--work-dir", str(tmp_path / "offline"), "--output", str(tmp_path / "offline.txt")])
    assert again == ExitCode.OK
    report = json.loads(next((tmp_path / "offline").glob("*/report.json")).read_text())
    assert report["verdict"] == "REPRODUCIBLE" and report["sandbox"]["network"] == "none"


def test_dh_python_bit_for_bit_from_a_buildinfo(dh_python: Run, tmp_path: Path, shared_cache: Path) -> None:
    buildinfo = next(p for p in map(Path, dh_python.report["debian"]["rebuilt_files"]) if p.suffix == ".buildinfo")
    code, report = debian(tmp_path, shared_cache, "--buildinfo", str(buildinfo))
    assert code == ExitCode.OK and report["verdict"] == "REPRODUCIBLE", report["reasons"]
    assert report["debian"]["environment"] == "buildinfo" and report["debian"]["buildinfo_signature"] == "not signed"
    assert report["packages"]["status"] == "MATCH" and not any("re-resolved" in r for r in report["reasons"])
    assert report["debian"]["missing_packages"] == []


def test_hello_differs_and_the_report_says_why(tmp_path: Path, shared_cache: Path, capsys) -> None:
    code, report = debian(tmp_path / "a", shared_cache, "hello")
    assert report["build"]["status"] == "SUCCEEDED", report["build"]["log_tail"]
    assert code == ExitCode.DIFFERENT and report["verdict"] == "DIFFERENT"
    tree = json.dumps(report["artifacts"][0]["difference"])
    assert "usr/bin/hello" in tree and "build-id" in tree
    hints = report["artifacts"][0]["difference"]["hints"]  # the cause in words: `hello --version`'s year
    assert any("build clock leaks in" in h and "usr/bin/hello" in h for h in hints), hints
    kept = [Path(p).name for p in report["debian"]["rebuilt_files"]]
    assert any(n.startswith("hello-dbgsym_") for n in kept), kept
    capsys.readouterr()
    rebuilt_buildinfo = next(p for p in report["debian"]["rebuilt_files"] if p.endswith(".buildinfo"))
    code, _ = debian(tmp_path / "b", shared_cache, "--buildinfo", rebuilt_buildinfo)
    err = capsys.readouterr().err
    assert code == ExitCode.INTEGRITY and "Checksums-Sha256" in err and err.count("\n") == 1


BUILDINFO = """Format: 1.0
Source: demo
Binary: demo
Architecture: all
Version: 1.0
Build-Architecture: amd64
Installed-Build-Depends:
 make (= {make}),
 patch (= 2.7.6-7)
Environment:
 SOURCE_DATE_EPOCH="1700000000"
"""


def test_buildinfo_is_turned_into_a_pinned_lockfile(tmp_path: Path, debian_build_env: Path) -> None:
    (tmp_path / "demo.buildinfo").write_text(BUILDINFO.format(make="4.3-4.1"))
    assert run(["lock", "--env", str(debian_build_env), "--buildinfo", str(tmp_path / "demo.buildinfo"),
                "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c"), "--work-dir", str(tmp_path / "w")]) == 0
    packages = json.loads((tmp_path / "out" / "lock.json").read_text())["packages"]
    assert [(p["name"], p["version"]) for p in packages] == [("make", "4.3-4.1"), ("patch", "2.7.6-7")]
    assert all(len(p["sha256"]) == 64 and p["url"].endswith(".deb") for p in packages)


def test_a_version_the_archive_no_longer_has(tmp_path: Path, debian_build_env: Path, capsys) -> None:
    (tmp_path / "demo.buildinfo").write_text(BUILDINFO.format(make="4.3-0.1"))
    code = run(["lock", "--env", str(debian_build_env), "--buildinfo", str(tmp_path / "demo.buildinfo"),
                "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c"), "--work-dir", str(tmp_path / "w")])
    assert code == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "4.3-0.1" in err and "not found" in err


def test_an_unsatisfiable_build_dependency(tmp_path: Path, debian_build_env: Path, capsys) -> None:
    code = run(["lock", "--env", str(debian_build_env), "--package", "no-such-package-verifier",
                "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c"), "--work-dir", str(tmp_path / "w")])
    assert code == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no-such-package-verifier" in err
