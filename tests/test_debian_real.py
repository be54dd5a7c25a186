"""Real Debian packages from the archive: lock a source package's build dependencies
online, rebuild it with the network off from the locked packages, and compare with the
official binary package fetched with `apt-get download`.

cowsay (arch: all) rebuilds bit for bit on bookworm; hello (arch: any) shows how a
difference is explained. docs/debian-example.md walks through the same steps by hand.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_tool
from verifier.cli.app import run
from verifier.errors import ExitCode

pytestmark = [pytest.mark.network_archive, pytest.mark.podman, pytest.mark.slow]


def pin(path: Path, url: str, **extra: object) -> dict:
    data = path.read_bytes()
    return {"name": path.name, "url": url, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), **extra}


def changelog_epoch(sources: list[Path], tmp: Path) -> int:
    """SOURCE_DATE_EPOCH as dpkg-buildpackage derives it: the latest changelog entry's date."""
    for tarball in (p for p in sources if ".tar." in p.name):
        names = subprocess.run(["tar", "-tf", str(tarball)], check=True, capture_output=True, text=True).stdout
        member = next((n for n in names.splitlines() if n.endswith("debian/changelog")), None)
        if member:
            subprocess.run(["tar", "-C", str(tmp), "-xf", str(tarball), member], check=True)
            out = subprocess.run(["dpkg-parsechangelog", "-l", str(tmp / member), "-STimestamp"],
                                 check=True, capture_output=True, text=True).stdout
            return int(out.strip())
    raise AssertionError("no debian/changelog in the source package")


def official_deb(package: str, version: str, dest: Path) -> Path:
    require_tool("apt-get")
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", "-q", f"{package}={version}"], cwd=dest, check=True, capture_output=True)
    return next(dest.glob(f"{package}_*.deb"))


def release_for(package: str, env: Path, tmp: Path) -> tuple[Path, Path]:
    """Lock, then lay out a release directory whose only artifact is the official .deb."""
    locked = tmp / "locked"
    assert run(["lock", "--env", str(env), "--source", package, "--package", "build-essential",
                "--out", str(locked), "--cache-dir", str(tmp / "cache"), "--work-dir", str(tmp / "work")]) == 0
    dsc = next(locked.glob("*.dsc"))
    version = dsc.stem.split("_", 1)[1]
    deb = official_deb(package, version, tmp / "official")
    release = tmp / "release"
    for sub in ("environment", "sources", "lockfile", "artifacts"):
        (release / sub).mkdir(parents=True)
    shutil.copy(env, release / "environment" / env.name)
    shutil.copy(locked / "lock.json", release / "lockfile" / "lock.json")
    sources = sorted(p for p in locked.iterdir() if p.name != "lock.json")
    for src in sources:
        shutil.copy(src, release / "sources" / src.name)
    shutil.copy(deb, release / "artifacts" / deb.name)
    manifest = {
        "manifest_version": 1, "name": package, "version": version,
        "environment": pin(env, f"environment/{env.name}", format="rootfs"),
        "lockfile": pin(locked / "lock.json", "lockfile/lock.json", format="verifier"),
        "sources": [pin(s, f"sources/{s.name}", unpack=False) for s in sources],
        "build": {"command": f"dpkg-source -x {dsc.name} src > /dev/null && cd src && dpkg-buildpackage -b -uc -us",
                  "workdir": "/build/src", "outputs": [deb.name], "variables": {},
                  "source_date_epoch": changelog_epoch(sources, tmp)},
        "artifacts": [pin(deb, f"artifacts/{deb.name}")],
    }
    (release / "release.json").write_text(json.dumps(manifest, indent=2))
    return release / "release.json", deb


def verify(manifest: Path, tmp: Path) -> tuple[int, dict]:
    report = tmp / "report.json"
    code = run(["verify", str(manifest), "--cache-dir", str(tmp / "cache"), "--work-dir", str(tmp / "work"),
                "--report", str(report), "--output", str(tmp / "summary.txt"),
                "--allow-private-addresses"])  # the archive may be a mirror on a private address (it is on CI)
    return code, json.loads(report.read_text())


def test_dh_python_rebuilds_bit_for_bit_with_the_network_off(tmp_path: Path, debian_build_env: Path) -> None:
    """dh-python 5.20230130+deb12u1 was built with bookworm's own toolchain: the locked
    environment matches closely enough for a bit-identical .deb."""
    manifest, deb = release_for("dh-python", debian_build_env, tmp_path)
    code, report = verify(manifest, tmp_path)
    assert report["build"]["status"] == "SUCCEEDED", report["build"]["log_tail"]
    assert report["packages"]["status"] == "MATCH", report["packages"]
    assert report["sandbox"]["network"] == "none"
    assert [a["status"] for a in report["artifacts"]] == ["IDENTICAL"], json.dumps(report["artifacts"])[:3000]
    assert code == ExitCode.OK and report["verdict"] == "REPRODUCIBLE"


def test_cowsay_difference_is_explained(tmp_path: Path, debian_build_env: Path) -> None:
    """cowsay 3.03+dfsg2-8 was built in 2019; today's debhelper trims old changelog entries,
    so the rebuilt changelog.Debian.gz (and with it md5sums and Installed-Size) differ."""
    manifest, deb = release_for("cowsay", debian_build_env, tmp_path)
    code, report = verify(manifest, tmp_path)
    assert report["build"]["status"] == "SUCCEEDED", report["build"]["log_tail"]
    artifact = report["artifacts"][0]
    assert code == ExitCode.DIFFERENT and artifact["status"] == "DIFFERENT"
    tree = json.dumps(artifact["difference"])
    assert "data.tar.xz::(decompressed)::usr/share/doc/cowsay/changelog.Debian.gz" in tree
    assert "Installed-Size" in tree and "md5sums" in tree


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
