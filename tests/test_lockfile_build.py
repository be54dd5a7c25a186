"""A lockfile's packages fetched over HTTP, checked, installed in the network-less sandbox
from the offline repository, and compared with what the sandbox reports as installed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.fixtures_http import Server
from verifier.cli.app import run
from verifier.errors import ExitCode

pytestmark = [pytest.mark.podman, pytest.mark.slow]


def build_deb(tmp: Path, name: str, version: str, marker: str) -> Path:
    require_tool("dpkg-deb")
    root = tmp / f"{name}-{version}"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: t <t@example.invalid>\n"
        f"Description: test package\n")
    (root / "usr/share" / name).mkdir(parents=True)
    (root / "usr/share" / name / "marker").write_text(marker)
    out = tmp / f"{name}_{version}_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(out)], check=True,
                   capture_output=True, env=dict(os.environ, SOURCE_DATE_EPOCH="1700000000"))
    return out


def lockfile_for(debs: list[tuple[Path, str, str]], url_of) -> dict:
    return {"lockfile_version": 1, "package_manager": "apt", "packages": [
        {"name": name, "version": version, "architecture": "all", "url": url_of(deb),
         "size": deb.stat().st_size, "sha256": hashlib.sha256(deb.read_bytes()).hexdigest()}
        for deb, name, version in debs]}


@pytest.fixture(scope="module")
def probe_deb(tmp_path_factory) -> Path:
    return build_deb(tmp_path_factory.mktemp("deb"), "verifier-probe", "1.0", "locked marker\n")


def publish_with_lock(tmp: Path, env: Path, lock: dict) -> Path:
    (tmp / "lock.json").write_text(json.dumps(lock))
    out = tmp / "published"
    code = run(["publish", "--name", "locked", "--version", "1", "--env", str(env), "--lockfile", str(tmp / "lock.json"),
                "--build", "mkdir -p out && cp /usr/share/verifier-probe/marker out/marker.txt",
                "--output", "out/*", "--source-date-epoch", "1700000000", "--out", str(out),
                "--cache-dir", str(tmp / "pcache"), "--work-dir", str(tmp / "pwork"), "--allow-private-addresses"])
    assert code == ExitCode.OK
    return out


def test_locked_packages_install_offline_and_match(tmp_path: Path, debian_build_env: Path, probe_deb: Path,
                                                   http_server: Server) -> None:
    http_server.add("/pool/probe.deb", body=probe_deb.read_bytes())
    lock = lockfile_for([(probe_deb, "verifier-probe", "1.0")], lambda d: http_server.base + "/pool/probe.deb")
    published = publish_with_lock(tmp_path, debian_build_env, lock)
    assert (published / "artifacts" / "marker.txt").read_text() == "locked marker\n"
    assert run(["fetch", str(published / "release.json"), "--cache-dir", str(tmp_path / "vcache"),
                "--allow-private-addresses"]) == ExitCode.OK
    http_server.routes.clear()  # everything must now come from the cache
    report = tmp_path / "report.json"
    code = run(["verify", str(published / "release.json"), "--cache-dir", str(tmp_path / "vcache"), "--offline",
                "--work-dir", str(tmp_path / "vwork"), "--report", str(report), "--output", str(tmp_path / "o.txt")])
    doc = json.loads(report.read_text())
    assert code == ExitCode.OK, doc["reasons"]
    assert doc["packages"]["status"] == "MATCH" and doc["packages"]["counts"]["lockfile"] == 1
    installed = (report.parent / doc["packages"]["manifest"]).read_text()
    assert "verifier-probe\t1.0\tall" in installed and "apt\t" in installed


def test_package_whose_inside_differs_from_the_lockfile(tmp_path: Path, debian_build_env: Path, probe_deb: Path,
                                                        http_server: Server, capsys) -> None:
    http_server.add("/pool/probe.deb", body=probe_deb.read_bytes())
    lock = lockfile_for([(probe_deb, "verifier-probe", "1.0")], lambda d: http_server.base + "/pool/probe.deb")
    lock["packages"][0]["version"] = "2.0"
    (tmp_path / "lock.json").write_text(json.dumps(lock))
    code = run(["publish", "--env", str(debian_build_env), "--lockfile", str(tmp_path / "lock.json"),
                "--build", "true", "--output", "*", "--source-date-epoch", "0", "--out", str(tmp_path / "o"),
                "--cache-dir", str(tmp_path / "c"), "--work-dir", str(tmp_path / "w"), "--allow-private-addresses"])
    assert code == ExitCode.INTEGRITY
    err = capsys.readouterr().err
    assert "package says it is verifier-probe 1.0 (all), the lockfile says verifier-probe 2.0" in err


def test_lockfile_naming_a_missing_package(tmp_path: Path, debian_build_env: Path, probe_deb: Path,
                                           http_server: Server, capsys) -> None:
    lock = lockfile_for([(probe_deb, "verifier-probe", "1.0")], lambda d: http_server.base + "/pool/gone.deb")
    (tmp_path / "lock.json").write_text(json.dumps(lock))
    code = run(["publish", "--env", str(debian_build_env), "--lockfile", str(tmp_path / "lock.json"),
                "--build", "true", "--output", "*", "--source-date-epoch", "0", "--out", str(tmp_path / "o"),
                "--cache-dir", str(tmp_path / "c"), "--work-dir", str(tmp_path / "w"), "--allow-private-addresses"])
    assert code == ExitCode.INFRASTRUCTURE
    assert "HTTP 404" in capsys.readouterr().err


def test_drift_from_the_official_buildinfo_keeps_it_from_reproducible(tmp_path: Path, debian_build_env: Path,
                                                                       probe_deb: Path, http_server: Server) -> None:
    http_server.add("/pool/probe.deb", body=probe_deb.read_bytes())
    lock = lockfile_for([(probe_deb, "verifier-probe", "1.0")], lambda d: http_server.base + "/pool/probe.deb")
    published = publish_with_lock(tmp_path, debian_build_env, lock)
    buildinfo = published / "official.buildinfo"
    buildinfo.write_text("Format: 1.0\nSource: locked\nBinary: locked\nArchitecture: all\nVersion: 1\n"
                         "Build-Architecture: amd64\nInstalled-Build-Depends:\n verifier-probe (= 0.9)\n")
    manifest = json.loads((published / "release.json").read_text())
    data = buildinfo.read_bytes()
    manifest["official_buildinfo"] = {"name": buildinfo.name, "url": buildinfo.name, "size": len(data),
                                      "sha256": hashlib.sha256(data).hexdigest()}
    (published / "release.json").write_text(json.dumps(manifest))
    report = tmp_path / "report.json"
    code = run(["verify", str(published / "release.json"), "--cache-dir", str(tmp_path / "vcache"),
                "--work-dir", str(tmp_path / "vwork"), "--report", str(report), "--output", str(tmp_path / "o.txt"),
                "--allow-private-addresses"])
    doc = json.loads(report.read_text())
    assert code == ExitCode.INCONCLUSIVE, doc["reasons"]
    assert doc["packages"]["status"] == "DRIFT"
    assert doc["packages"]["drift"] == [{"name": "verifier-probe", "lockfile": "1.0", "installed": "1.0",
                                         "buildinfo": "0.9"}]
    assert doc["inputs"]["official_buildinfo"]["name"] == "official.buildinfo"
