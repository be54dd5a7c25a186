"""Real Debian packages from the real archive, through the one command `verifier debian`
(docs/debian.md): dh-python rebuilds bit for bit, from its name (environment re-resolved)
and from a .buildinfo (the environment it names); hello differs and the report says why;
a .buildinfo version the archive lacks gives INCONCLUSIVE naming it, never DIFFERENT.
The `verifier lock` tests at the end lock a .buildinfo's pins by hand.

The runs share one cache (environments are built once per pin set, keyed by the
lockfile's digest), so the module costs about two environment builds and five rebuilds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifier.cli.app import run
from verifier.errors import ExitCode

pytestmark = [pytest.mark.network_archive, pytest.mark.podman, pytest.mark.slow]
DH_PYTHON = "dh-python=5.20230130+deb12u1"


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("debian-cache")


def debian(work: Path, cache: Path, *args: str) -> tuple[int, dict]:
    code = run(["debian", *args, "--cache-dir", str(cache), "--work-dir", str(work),
                "--output", str(work / "summary.txt"),
                "--allow-private-addresses"])  # the archive may be a mirror on a private address (it is on CI)
    reports = sorted(work.glob("*/report.json"))
    return code, json.loads(reports[0].read_text()) if reports else {}


def test_dh_python_bit_for_bit_from_its_name_then_from_a_buildinfo(tmp_path: Path, shared_cache: Path) -> None:
    code, report = debian(tmp_path / "a", shared_cache, DH_PYTHON)
    assert report["build"]["status"] == "SUCCEEDED", report["build"]["log_tail"]
    assert [a["status"] for a in report["artifacts"]] == ["IDENTICAL"] * 3, json.dumps(report["artifacts"])[:3000]
    assert code == ExitCode.OK and report["verdict"] == "REPRODUCIBLE"
    d = report["debian"]
    assert d["environment"] == "re-resolved" and any("re-resolved" in r for r in report["reasons"])
    assert "re-resolved" in (tmp_path / "a" / "summary.txt").read_text()
    assert d["archive"]["signed_by"] and len(d["archive"]["release_sha256"]) == 64
    assert report["sandbox"]["network"] == "none" and report["packages"]["status"] == "MATCH"
    run_dir = tmp_path / "a" / "dh-python-5.20230130+deb12u1"
    kept = {Path(p).name for p in d["rebuilt_files"]}
    assert "dh-python_5.20230130+deb12u1_all.deb" in kept and all(Path(p).is_file() for p in d["rebuilt_files"])
    assert (run_dir / "release.json").is_file() and (run_dir / "lock.json").is_file()

    again = run(["verify", str(run_dir / "release.json"), "--offline", "--cache-dir", str(shared_cache),
                 "--work-dir", str(tmp_path / "offline"), "--output", str(tmp_path / "offline.txt")])
    assert again == ExitCode.OK

    buildinfo = next(p for p in map(Path, d["rebuilt_files"]) if p.suffix == ".buildinfo")
    code, report = debian(tmp_path / "b", shared_cache, "--buildinfo", str(buildinfo))
    assert code == ExitCode.OK and report["verdict"] == "REPRODUCIBLE", report["reasons"]
    assert report["debian"]["environment"] == "buildinfo" and report["debian"]["buildinfo_signature"] == "not signed"
    assert report["packages"]["status"] == "MATCH" and not any("re-resolved" in r for r in report["reasons"])

    old = tmp_path / "old.buildinfo"
    text = buildinfo.read_text()
    line = next(l for l in text.splitlines() if l.startswith(" make (= "))
    old.write_text(text.replace(line, line.split("(")[0] + "(= 4.3-0.1)" + line.split(")")[1]))
    code, report = debian(tmp_path / "c", shared_cache, "--buildinfo", str(old))
    assert code == ExitCode.INCONCLUSIVE and report["verdict"] == "INCONCLUSIVE"
    assert "make=4.3-0.1" in report["reasons"][0] and report["debian"]["missing_packages"] == ["make=4.3-0.1"]


def test_hello_differs_and_the_report_says_why(tmp_path: Path, shared_cache: Path, capsys) -> None:
    code, report = debian(tmp_path / "a", shared_cache, "hello")
    assert report["build"]["status"] == "SUCCEEDED", report["build"]["log_tail"]
    assert code == ExitCode.DIFFERENT and report["verdict"] == "DIFFERENT"
    tree = json.dumps(report["artifacts"][0]["difference"])
    assert "usr/bin/hello" in tree and "build-id" in tree
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
