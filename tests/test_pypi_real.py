"""`verifier pypi` on real releases from pip's default index, through the one command.

iniconfig 2.0.0 (hatchling + hatch-vcs) rebuilds bit for bit with SOURCE_DATE_EPOCH = its
PKG-INFO time, from build packages resolved as of its upload and installed offline; a second
run with --offline reuses everything. flit_core 3.9.0 rebuilds only in the time zone its
maintainer built it in (inferred from the zip times). pluggy 1.3.0 (setuptools) does not
rebuild: its generated files carry the official build's clock. The machine's Debian mirror
and index resolve to addresses the address policy treats as private (see common rules),
hence --allow-private-addresses.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from tests.pypi_fixtures import IN_TREE_PYPROJECT, sdist, serve_release, wheel
from verifier.cli.app import run
from verifier.errors import ExitCode

pytestmark = [pytest.mark.network_index, pytest.mark.network_archive, pytest.mark.podman, pytest.mark.slow]


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("pypi")
    return root / "cache", root / "work"


def pypi(release: str, dirs: tuple[Path, Path], *extra: str) -> tuple[int, dict]:
    cache, work = dirs
    report = work / f"{release}.json"
    code = run(["pypi", release, "--cache-dir", str(cache), "--work-dir", str(work), "--report", str(report),
                "--allow-private-addresses", "--format", "text", "--output", str(work / f"{release}.txt"), *extra])
    return code, json.loads(report.read_text())


def test_a_hatchling_release_rebuilds_bit_for_bit_from_build_packages_locked_at_its_upload(dirs) -> None:
    code, report = pypi("iniconfig==2.0.0", dirs)
    assert code == ExitCode.OK, report["reasons"]
    assert report["verdict"] == "REPRODUCIBLE"
    p = report["pypi"]
    assert p["generator"] == "hatchling 1.12.2" and p["matched_policy"] == "sdist-mtimes"
    names = {b["name"]: b["version"] for b in p["build_packages"]}
    assert names["hatchling"] == "1.12.2" and "hatch-vcs" in names and "pip" in names
    assert all(len(b["file"]["sha256"]) == 64 for b in p["build_packages"])
    assert report["packages"]["status"] == "MATCH"  # installed in the sandbox = the lock
    assert report["sandbox"]["network"] == "none"
    lock = Path(p["lock"]).read_text()
    assert lock.startswith("lock-version = \"1.0\"")
    assert "upload-time" in lock and "hatchling" in lock


def test_a_second_run_reuses_the_cache_even_offline(dirs) -> None:
    started = time.monotonic()
    code, report = pypi("iniconfig==2.0.0", dirs, "--offline")
    assert code == ExitCode.OK and report["verdict"] == "REPRODUCIBLE"
    assert report["environment"]["reused"] is True
    assert time.monotonic() - started < 60


def test_a_flit_release_rebuilds_only_in_the_time_zone_its_zip_times_reveal(dirs) -> None:
    code, report = pypi("flit_core==3.9.0", dirs)
    assert code == ExitCode.OK, report["reasons"]
    policies = {a["name"]: a for a in report["pypi"]["policies"]}
    assert report["pypi"]["matched_policy"] == "time-zone"
    assert not policies["sdist-mtimes"]["identical"] and policies["time-zone"]["identical"]
    assert policies["time-zone"]["time_zone"].startswith("Europe/")


def test_a_setuptools_release_whose_wheel_carries_the_build_clock_is_different_and_explained(dirs) -> None:
    code, report = pypi("pluggy==1.3.0", dirs)
    assert code == ExitCode.DIFFERENT
    assert report["verdict"] == "DIFFERENT" and report["pypi"]["matched_policy"] is None
    tried = [a["name"] for a in report["pypi"]["policies"]]
    assert tried[:3] == ["sdist-mtimes", "pkg-info-time", "wheel-zip-time"]
    text = (dirs[1] / "pluggy==1.3.0.txt").read_text()
    assert "zip entry timestamps differ" in text


BACKEND_REACHING_OUT = b'''
import os
import urllib.request


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    print("interfaces in the sandbox:", sorted(os.listdir("/sys/class/net")), flush=True)
    urllib.request.urlopen("http://192.0.2.1/setup-helper.tar.gz", timeout=5)  # a download the build needs
    raise RuntimeError("unreachable")
'''


def test_a_backend_that_reaches_for_the_network_fails_in_the_sandbox_and_the_report_says_so(
        dirs, http_server) -> None:
    url = serve_release(http_server, "netdemo", {
        "netdemo-1.0.tar.gz": sdist("netdemo-1.0", {"pyproject.toml": IN_TREE_PYPROJECT,
                                                    "backend.py": BACKEND_REACHING_OUT}),
        "netdemo-1.0-py3-none-any.whl": wheel("netdemo-1.0.dist-info", "custom 1.0")})
    code, report = pypi("netdemo==1.0", dirs, "--index-url", url)
    assert code == ExitCode.INCONCLUSIVE
    assert report["build"]["status"] == "FAILED"
    assert "the build needed the network" in report["reasons"][0]
    assert "192.0.2.1" in report["reasons"][0]
    assert "--network=none" in report["sandbox"]["argv"]  # measured, not only recorded:
    assert "interfaces in the sandbox: ['lo']" in Path(report["build"]["log"]).read_text()


def test_a_machines_pip_and_uv_configuration_never_stands_in_for_the_index(dirs, monkeypatch, tmp_path) -> None:
    # a wheelhouse and a local index holding a planted flit_core 3.9.0, named by every setting pip and uv read
    planted = tmp_path / "wheelhouse" / "flit_core-3.9.0-py3-none-any.whl"
    planted.parent.mkdir()
    planted.write_bytes(wheel("flit_core-3.9.0.dist-info", "flit 3.9.0"))
    simple = tmp_path / "simple" / "flit-core"
    simple.mkdir(parents=True)
    (simple / "index.html").write_text(f'<a href="{planted.as_uri()}">{planted.name}</a>\n')
    index = (tmp_path / "simple").as_uri()
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nindex-url = {index}\nextra-index-url = {index}\nfind-links = {planted.parent}\n")
    for name, value in {"PIP_CONFIG_FILE": str(config), "PIP_INDEX_URL": index, "PIP_EXTRA_INDEX_URL": index,
                        "PIP_FIND_LINKS": str(planted.parent), "UV_INDEX_URL": index, "UV_DEFAULT_INDEX": index,
                        "UV_EXTRA_INDEX_URL": index, "UV_FIND_LINKS": str(planted.parent)}.items():
        monkeypatch.setenv(name, value)
    code, report = pypi("packaging==23.2", dirs)  # flit_core 3.9.0, resolved afresh (its own lock key)
    assert code == ExitCode.OK, report["reasons"]
    p = report["pypi"]
    assert p["matched_policy"] == "time-zone"
    assert not p["index_url"].startswith("file:") and not p["sdist"]["url"].startswith("file:")
    assert [b["file"]["url"].split(":")[0] for b in p["build_packages"]] == ["https", "https"]
    assert planted.read_bytes() != b"" and all(b["file"]["sha256"] != hashlib.sha256(planted.read_bytes()).hexdigest()
                                               for b in p["build_packages"])
