"""`verifier pypi` without a build: policies, release selection, the index, sdists and
wheels read as data, the lock, the plugin hint, and bad input through the command against
a fake index on a local server (docs/pypi.md)."""

from __future__ import annotations

import hashlib
import json
import tarfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pip._internal.models.index import PyPI

from tests.pypi_fixtures import IN_TREE_PYPROJECT, serve_release, sdist, wheel
from verifier.cache import ContentCache
from verifier.cli.app import run
from verifier.compare.difference import Difference
from verifier.errors import BuildFailed, ExitCode, InputError, LimitExceeded
from verifier.manifest import PinnedFile
from verifier.pypi import attempts, hints, index, policies, release, resolve
from verifier.pypi.run import PypiOptions, upload_horizon, verify_pypi
from verifier.pypi.sdist import BuildSystem, SdistInfo, read_sdist
from verifier.pypi.wheel import WheelInfo, read_wheel
from verifier.render import ReportFormat, render
from verifier.report.codec import load_report, parse_report, report_bytes
from verifier.report.model import BuildPackage, FileRef, PolicyAttempt, PypiRebuild, RebuiltDigest
from verifier.sandbox.fake import FakeBuild, FakeSandbox
from verifier.settings import Settings, UnpackLimits
from verifier.stages import ArtifactResult, ArtifactStatus, CachedFile, RebuiltFile
from verifier.outcome import Verdict

JAN, JUL = 1_673_000_000, 1_688_000_000  # 2023-01-06 and 2023-06-29, in winter and summer in London


def info(mtimes: dict[str, int], pkg_info: int = JAN) -> SdistInfo:
    return SdistInfo("demo-1.0", mtimes, pkg_info, BuildSystem((), "backend", ()))


def zipped(mtimes: dict[str, int], offset: object) -> WheelInfo:
    return WheelInfo("flit 3.9.0", "flit_core==3.9.0",
                     {n: (t + offset(t) if callable(offset) else t + offset) // 2 * 2 for n, t in mtimes.items()})


# --- policies ----------------------------------------------------------------------------

def test_policies_come_in_the_fixed_order_and_a_repeated_setting_is_not_run_again() -> None:
    mtimes = {"demo/__init__.py": JAN, "demo/a.py": JAN}
    found = policies.policies(info(mtimes), zipped(mtimes, 0))
    assert [p.name for p in found] == ["sdist-mtimes", "pkg-info-time", "wheel-zip-time"]
    assert found[0].source_date_epoch is None and found[1].source_date_epoch == JAN
    assert found[2].duplicate_of == "pkg-info-time"  # the zip time is the PKG-INFO time: same setting


def test_a_fixed_offset_in_quarter_hours_is_a_posix_time_zone() -> None:
    mtimes = {"demo/__init__.py": JAN + 1, "demo/a.py": JUL + 7}
    tz = [p for p in policies.policies(info(mtimes), zipped(mtimes, 19800)) if p.name == "time-zone"]
    assert tz and tz[0].time_zone == "<+0530>-05:30" and tz[0].source_date_epoch is None
    assert policies.posix_tz(-4 * 3600 - 45 * 60) == "<-0445>+04:45"


def test_summer_time_offsets_are_explained_by_a_tz_database_zone() -> None:
    mtimes = {"demo/__init__.py": JAN, "demo/a.py": JUL}
    found = policies.policies(info(mtimes), zipped(mtimes, lambda t: 3600 if t == JUL else 0))
    zone = next(p for p in found if p.name == "time-zone")
    assert zone.time_zone.startswith("Europe/")
    assert "zones whose offsets explain every zip time" in zone.note


def test_no_time_zone_is_guessed_when_the_zip_times_follow_no_zone() -> None:
    mtimes = {"demo/__init__.py": JAN, "demo/a.py": JUL, "demo/b.py": JUL + 60}
    odd = {"demo/__init__.py": 0, "demo/a.py": 3600, "demo/b.py": 7 * 60}
    found = policies.policies(info(mtimes), zipped(mtimes, lambda t: odd[next(n for n, m in mtimes.items() if m == t)]))
    assert "time-zone" not in [p.name for p in found]



def test_sdist_times_out_of_any_calendars_range_guess_no_time_zone_and_raise_nothing() -> None:
    sdist_times = {"demo/a.py": 10**13, "demo/b.py": -10**13}
    wheel_times = WheelInfo("flit 3.9.0", None, {"demo/a.py": JAN, "demo/b.py": JUL})
    found = policies.policies(info(sdist_times, pkg_info=10**13), wheel_times)
    assert "time-zone" not in [p.name for p in found]


# --- the release and the index ----------------------------------------------------------------

def page(*names: str) -> index.ProjectPage:
    return index.ProjectPage("https://index.invalid/simple", "demo", tuple(
        index.IndexFile(n, f"https://files.invalid/{n}", "0" * 64, 10, datetime(2023, 1, 1, tzinfo=UTC)) for n in names))


def test_every_wheel_is_checked_pure_ones_first_unless_named() -> None:
    both = page("demo-1.0.tar.gz", "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "demo-1.0-py3-none-any.whl")
    assert [w.filename for w in release.select(both, "1.0", ()).wheels] == [
        "demo-1.0-py3-none-any.whl", "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"]
    named = release.select(both, "1.0", ("demo-1.0-py3-none-any.whl",)).wheels
    assert [w.filename for w in named] == ["demo-1.0-py3-none-any.whl"]
    compiled = page("demo-1.0.tar.gz", "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")
    chosen = release.select(compiled, "1.0", ()).wheels
    assert len(chosen) == 1 and not release.is_pure(chosen[0].filename)


@pytest.mark.parametrize(("names", "version", "wanted", "message"), [
    (("demo-1.0.tar.gz",), "2.0", (), "has no release 2.0"),
    (("demo-1.0-py3-none-any.whl",), "1.0", (), "has no .tar.gz sdist"),
    (("demo-1.0.tar.gz", "demo-1.0-py3-none-any.whl"), "1.0", ("demo-1.0-py2-none-any.whl",), "has no wheel"),
])
def test_a_release_that_cannot_be_checked_is_one_input_error(names, version, wanted, message) -> None:
    with pytest.raises(InputError, match=message):
        release.select(page(*names), version, wanted)


@pytest.mark.parametrize("text", ["demo", "demo>=1.0", "demo==", "demo==not a version", "==1.0"])
def test_only_name_equals_version_is_a_release(text: str) -> None:
    with pytest.raises(InputError, match="NAME==VERSION|not a valid version"):
        release.parse_requirement(text)


def test_files_the_index_gives_no_sha256_or_size_for_are_never_used() -> None:
    doc = {"files": [{"filename": "demo-1.0.tar.gz", "url": "/f/demo-1.0.tar.gz", "hashes": {}},
                     {"filename": "demo-1.0.zip", "url": "/f/demo-1.0.zip", "hashes": {"sha256": "b" * 64}},
                     {"filename": "demo-1.0-py2-none-any.whl", "url": "/f/w2.whl", "hashes": {"sha256": "c" * 64},
                      "size": True},
                     {"filename": "demo-1.0-py3-none-any.whl", "url": "/f/w.whl", "hashes": {"sha256": "a" * 64},
                      "size": 3}]}
    files = index.parse_page(json.dumps(doc).encode(), "https://index.invalid/simple/demo/")
    assert [f.filename for f in files] == ["demo-1.0-py3-none-any.whl"]
    assert files[0].url == "https://index.invalid/f/w.whl"
    with pytest.raises(InputError, match="not JSON"):
        index.parse_page(b"<html>", "https://index.invalid/simple/demo/")


def test_upload_times_with_and_without_a_zone_are_compared_as_utc() -> None:
    entries = [{"filename": f"demo-1.0{suffix}", "url": f"/f/demo-1.0{suffix}", "size": 1,
                "hashes": {"sha256": "a" * 64}, "upload-time": when}
               for suffix, when in ((".tar.gz", "2023-05-14T14:48:49.240000"),
                                    ("-py3-none-any.whl", "2023-05-14T15:00:00Z"))]
    files = index.parse_page(json.dumps({"files": entries}).encode(), "https://index.invalid/simple/demo/")
    chosen = release.select(index.ProjectPage("https://index.invalid/simple", "demo", files), "1.0", ())
    assert upload_horizon(chosen) == "2023-05-14T14:48:50Z"


@pytest.mark.parametrize(("page", "message"), [
    (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
    (json.dumps({"files": [{"filename": "demo-1.0.tar.gz", "url": "http://[::1/demo-1.0.tar.gz", "size": 1,
                            "hashes": {"sha256": "a" * 64}}]}).encode(), "demo-1.0.tar.gz has an invalid url"),
    (json.dumps({"files": [{"filename": "demo-1.0.tar.gz", "url": 5}]}).encode(), "no valid filename or url"),
    (json.dumps({"files": {"demo-1.0.tar.gz": {}}}).encode(), "no 'files' list"),
])
def test_a_hostile_index_page_is_one_input_error(page: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        index.parse_page(page, "https://index.invalid/simple/demo/")


def test_the_default_index_is_pips_own_whatever_the_pip_configuration_says(monkeypatch, tmp_path) -> None:
    config = tmp_path / "pip.conf"
    config.write_text("[global]\nindex-url = http://127.0.0.1:9/simple\nfind-links = /opt/wheels\n")
    for name, value in {"PIP_CONFIG_FILE": str(config), "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
                        "PIP_EXTRA_INDEX_URL": "file:///opt/pypi/simple", "PIP_FIND_LINKS": "/opt/wheels",
                        "UV_INDEX_URL": "http://127.0.0.1:9/simple"}.items():
        monkeypatch.setenv(name, value)
    assert index.default_index_url() == PyPI.simple_url
    assert not any(k.startswith(("PIP_", "UV_")) for k in resolve._clean_env(tmp_path))


# --- sdists and wheels read as data --------------------------------------------------------------

def tar_info(name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, link: str = "") -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type, member.size, member.linkname = kind, size, link
    return member


@pytest.mark.parametrize(("extra", "message"), [
    ([tar_info("demo-1.0/../../evil", size=1)], "escapes the archive root"),
    ([tar_info("/etc/evil", size=1)], "absolute path"),
    ([tar_info("other-1.0/x", size=1)], "one top-level directory"),
    ([tar_info("demo-1.0/link", tarfile.SYMTYPE, link="../../../etc/passwd")], "points outside the sdist"),
    ([tar_info("demo-1.0/abs", tarfile.SYMTYPE, link="/etc/passwd")], "points outside the sdist"),
    ([tar_info("demo-1.0/hard", tarfile.LNKTYPE, link="../etc/passwd")], "escapes the archive root"),
    ([tar_info("demo-1.0/fifo", tarfile.FIFOTYPE)], "not a file, directory or link"),
])
def test_a_hostile_sdist_is_refused_while_read_as_data(tmp_path: Path, extra, message) -> None:
    path = tmp_path / "demo-1.0.tar.gz"
    path.write_bytes(sdist("demo-1.0", {"pyproject.toml": IN_TREE_PYPROJECT}, extra=extra))
    with pytest.raises(InputError, match=message):
        read_sdist(path, path.name, UnpackLimits())


def test_an_sdist_bomb_stops_at_the_unpack_budget(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0.tar.gz"
    path.write_bytes(sdist("demo-1.0", {"big.txt": b"\0" * (4 << 20)}))
    with pytest.raises(LimitExceeded, match="--unpack-limit"):
        read_sdist(path, path.name, UnpackLimits(max_expanded_bytes=1 << 20))


def test_an_sdist_gives_its_build_system_and_times(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0.tar.gz"
    path.write_bytes(sdist("demo-1.0", {"pyproject.toml": IN_TREE_PYPROJECT, "demo.py": b""}, mtime=JUL))
    got = read_sdist(path, path.name, UnpackLimits())
    assert got.root == "demo-1.0" and got.pkg_info_mtime == JUL and got.mtimes["demo.py"] == JUL
    assert got.build_system == BuildSystem((), "backend", (".",))
    path.write_bytes(sdist("demo-1.0", {"setup.py": b""}))
    assert read_sdist(path, path.name, UnpackLimits()).build_system.backend == "setuptools.build_meta:__legacy__"


@pytest.mark.parametrize(("generator", "pin"), [
    ("flit 3.9.0", "flit_core==3.9.0"), ("bdist_wheel (0.41.2)", "wheel==0.41.2"),
    ("hatchling 1.18.0", "hatchling==1.18.0"), ("pdm-backend (2.1.4)", "pdm-backend==2.1.4"),
    ("poetry-core 1.6.1", "poetry-core==1.6.1"), ("setuptools (75.1.0)", "setuptools==75.1.0"),
])
def test_the_wheel_generator_pins_its_backend(tmp_path: Path, generator: str, pin: str) -> None:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    path.write_bytes(wheel("demo-1.0.dist-info", generator))
    assert read_wheel(path, path.name).backend_pin == pin


def test_a_wheel_without_a_wheel_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    path.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    with pytest.raises(InputError, match="not a wheel"):
        read_wheel(path, path.name)


# --- the lock, the backend's extra requirements -------------------------------------------------

def lock(*wheels: str, version: str = "1.0") -> bytes:
    listed = ", ".join(f'{{ url = "https://files.invalid/{w}", size = 3, hashes = {{ sha256 = "{"a" * 64}" }} }}'
                       for w in wheels)
    return f'lock-version = "{version}"\ncreated-by = "uv"\n[[packages]]\nname = "x"\nversion = "1"\nwheels = [{listed}]\n'.encode()


def test_the_lock_gives_one_installable_wheel_per_package() -> None:
    pins = resolve.read_lock(lock("x-1-cp311-cp311-win_amd64.whl", "x-1-py3-none-any.whl"))
    assert [p.name for p in pins] == ["x-1-py3-none-any.whl"]
    with pytest.raises(BuildFailed, match="has no wheel for CPython"):
        resolve.read_lock(lock("x-1-cp311-cp311-win_amd64.whl"))
    with pytest.raises(InputError, match="unsupported lock-version"):
        resolve.read_lock(lock("x-1-py3-none-any.whl", version="2.0"))
    local = lock("x-1-py3-none-any.whl").replace(b"https://files.invalid/", b"file:///opt/wheels/")
    with pytest.raises(InputError, match="not at an http or https URL"):
        resolve.read_lock(local)


def test_only_the_backends_requirements_whose_markers_hold_are_resolved() -> None:
    asked = ('importlib-metadata>=3.6; python_version < "3.10"', "wheel", 'tomli; sys_platform == "win32"')
    assert attempts.applicable(asked) == ("wheel",)
    with pytest.raises(InputError, match="not a requirement"):
        attempts.applicable(("wheel>=>1",))


def test_network_attempts_are_read_from_the_build_log() -> None:
    log = "x\nverifier-pypi: network: socket.connect ('192.0.2.1', 80)\nverifier-pypi: needs wheel\n"
    assert attempts.network_attempts(log) == ("socket.connect ('192.0.2.1', 80)",)
    assert attempts.needed(log) == ("wheel",)


# --- the plugin hint ------------------------------------------------------------------------

def locked(name: str, version: str) -> resolve.LockedWheel:
    pin = PinnedFile(f"{name}-{version}-py3-none-any.whl", "https://files.invalid/x.whl", "a" * 64, 1)
    return resolve.LockedWheel(name, version, CachedFile(pin, Path("/nonexistent")))


def differing(*nodes: Difference) -> ArtifactResult:
    tree = Difference("demo-1.0-py3-none-any.whl", "demo-1.0-py3-none-any.whl", details=nodes)
    return ArtifactResult("demo-1.0-py3-none-any.whl", ArtifactStatus.DIFFERENT, "a" * 64, 1, "b" * 64, 1, tree)


def all_hints(result: ArtifactResult) -> list[str]:
    return [h for node in result.difference.walk() for h in node.hints]


def test_the_plugin_hint_fires_for_a_generated_version_file_whose_content_differs() -> None:
    node = Difference("demo/_version.py", "demo/_version.py", unified_diff="-a\n+b\n", kind="content")
    (got,) = hints.plugin_hints((differing(node),), [locked("setuptools_scm", "7.1.0"), locked("wheel", "0.41.2")])
    assert any("setuptools_scm 7.1.0" in h and "demo/_version.py" in h for h in all_hints(got))
    meta = Difference("demo-1.0.dist-info/METADATA", "demo-1.0.dist-info/METADATA", unified_diff="-a\n", kind="content")
    (got,) = hints.plugin_hints((differing(meta),), [locked("setuptools", "68.1.2")])
    assert any("setuptools 68.1.2" in h for h in all_hints(got))


def test_the_generator_hint_fires_when_the_wheel_files_generator_lines_differ() -> None:
    node = Difference("demo-1.0.dist-info/WHEEL", "demo-1.0.dist-info/WHEEL", unified_diff="-G\n+G\n", kind="content")
    (got,) = hints.plugin_hints((differing(node),), [], ("poetry-core 1.6.1", "poetry-core 1.7.0"))
    assert any("made by poetry-core 1.6.1, the rebuild by poetry-core 1.7.0" in h for h in all_hints(got))
    (same,) = hints.plugin_hints((differing(node),), [], ("flit 3.9.0", "flit 3.9.0"))
    assert all_hints(same) == []


@pytest.mark.parametrize(("node", "packages"), [
    (Difference("demo/_version.py", "demo/_version.py", kind="metadata"), [locked("hatch-vcs", "0.3.0")]),
    (Difference("demo/core.py", "demo/core.py", unified_diff="-a\n", kind="content"), [locked("hatch-vcs", "0.3.0")]),
    (Difference("demo/_version.py", "demo/_version.py", unified_diff="-a\n", kind="content"), [locked("editables", "0.3")]),
    (Difference("demo-1.0.dist-info/METADATA", "m", unified_diff="-a\n", kind="content"), []),
])
def test_the_plugin_hint_stays_silent_otherwise(node: Difference, packages) -> None:
    (got,) = hints.plugin_hints((differing(node),), packages)
    assert all_hints(got) == []


# --- bad input through the command, against a fake index -------------------------------------

def pypi(index_url: str, tmp_path: Path, release_name: str, *extra: str) -> int:
    return run(["pypi", release_name, "--index-url", index_url, "--allow-private-addresses",
                "--cache-dir", str(tmp_path / "cache"), "--work-dir", str(tmp_path / "work"), *extra])


def test_a_project_the_index_does_not_have_is_one_line_exit_2(http_server, tmp_path, capsys) -> None:
    assert pypi(http_server.base + "/simple", tmp_path, "no-such-project==1.0") == ExitCode.BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no-such-project" in err[0]


def test_a_version_the_project_does_not_have_is_one_line_exit_2(http_server, tmp_path, capsys) -> None:
    url = serve_release(http_server, "demo", {"demo-1.0.tar.gz": sdist("demo-1.0", {})})
    assert pypi(url, tmp_path, "demo==9.9") == ExitCode.BAD_INPUT
    assert "has no release 9.9" in capsys.readouterr().err


def test_an_sdist_whose_digest_is_not_the_indexs_is_exit_4_and_never_cached(http_server, tmp_path, capsys) -> None:
    data = sdist("demo-1.0", {"pyproject.toml": IN_TREE_PYPROJECT})
    claimed = hashlib.sha256(b"something else").hexdigest()
    url = serve_release(http_server, "demo", {"demo-1.0.tar.gz": data,
                                              "demo-1.0-py3-none-any.whl": wheel("demo-1.0.dist-info")},
                        claimed={"demo-1.0.tar.gz": claimed})
    assert pypi(url, tmp_path, "demo==1.0") == ExitCode.INTEGRITY
    assert "demo-1.0.tar.gz" in capsys.readouterr().err
    cache = ContentCache(tmp_path / "cache")
    assert not cache.has(claimed) and not cache.has(hashlib.sha256(data).hexdigest())


def test_a_hostile_sdist_is_exit_2_before_any_build(http_server, tmp_path, capsys) -> None:
    data = sdist("demo-1.0", {}, extra=[tar_info("demo-1.0/../../../etc/evil", size=1)])
    url = serve_release(http_server, "demo", {"demo-1.0.tar.gz": data,
                                              "demo-1.0-py3-none-any.whl": wheel("demo-1.0.dist-info")})
    assert pypi(url, tmp_path, "demo==1.0") == ExitCode.BAD_INPUT
    assert "escapes the archive root" in capsys.readouterr().err
    assert not (tmp_path / "etc").exists() and not list((tmp_path / "work").rglob("evil"))


def test_a_release_with_only_compiled_wheels_is_inconclusive_with_the_reason(http_server, tmp_path) -> None:
    url = serve_release(http_server, "demo", {
        "demo-1.0.tar.gz": sdist("demo-1.0", {"pyproject.toml": IN_TREE_PYPROJECT}),
        "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl": wheel("demo-1.0.dist-info", "bdist_wheel (0.41.2)")})
    environment = tmp_path / "env.tar"
    environment.write_bytes(b"not used: nothing is built")
    report = tmp_path / "report.json"
    code = pypi(url, tmp_path, "demo==1.0", "--environment", str(environment), "--report", str(report))
    assert code == ExitCode.INCONCLUSIVE
    doc = json.loads(report.read_text())
    assert doc["verdict"] == "INCONCLUSIVE"
    assert doc["reasons"] == ["demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl: compiled wheel: needs its original "
                              "compiler toolchain"]
    assert doc["pypi"]["policies"] == [] and doc["sandbox"] is None


# --- the report's pypi section ------------------------------------------------------------------

def test_the_pypi_section_round_trips_renders_escaped_and_is_absent_otherwise() -> None:
    canonical = load_report(Path(__file__).parent.parent / "fixtures" / "reports" / "canonical.json")
    assert b'"pypi"' not in report_bytes(canonical)
    section = PypiRebuild(
        "https://index.invalid/simple", "demo", "2023-05-14T14:48:50Z", "flit 3.9.0", "flit_core.buildapi",
        FileRef("https://files.invalid/demo-1.0.tar.gz", "a" * 64, 10),
        (PolicyAttempt("sdist-mtimes", None, "UTC", RebuiltDigest("b" * 64, 5), False, ""),
         PolicyAttempt("time-zone", None, "Europe/London", RebuiltDigest("c" * 64, 5), True, "a\nforged: line")),
        "time-zone", (BuildPackage("flit-core", "3.9.0", FileRef("https://files.invalid/f.whl", "d" * 64, 3)),),
        "/work/demo-1.0/pylock.toml")
    report = replace(canonical, pypi=section)
    assert parse_report(report_bytes(report), "again") == report
    text = render(report, ReportFormat("text"))
    assert "Python release" in text and "time-zone" in text and "flit-core" in text
    assert "\nforged: line" not in text
    assert "Python release" in render(report, ReportFormat("markdown"))
    assert "Python release" in render(report, ReportFormat("html"))


# --- the verdict, through verify_pypi with a fake sandbox (no container) -------------------------

def fake_release(http_server, wheels: dict[str, bytes]) -> str:
    return serve_release(http_server, "demo", {
        "demo-1.0.tar.gz": sdist("demo-1.0", {"pyproject.toml": IN_TREE_PYPROJECT}), **wheels})


def verify_fake(url: str, settings: Settings, tmp_path: Path, outputs: dict[str, bytes], log: str = "fake build\n"):
    environment = tmp_path / "env.tar"
    environment.write_bytes(b"\0" * 1024)  # never run: the fake sandbox only records its import
    build = FakeBuild(files={f"verifier-out/{name}": data for name, data in outputs.items()}, installed=(), log=log)
    options = PypiOptions("demo==1.0", index_url=url, environment=environment)
    settings = replace(settings, fetch=replace(settings.fetch, allow_private_addresses=True))
    return verify_pypi(options, settings, FakeSandbox(settings, build),
                       ContentCache(settings.cache_dir))


def test_a_bit_identical_rebuild_is_reproducible_and_names_its_policy(http_server, settings, tmp_path) -> None:
    official = wheel("demo-1.0.dist-info", files={"demo.py": b"x = 1\n"})
    url = fake_release(http_server, {"demo-1.0-py3-none-any.whl": official})
    other = wheel("demo-1.0.dist-info", files={"demo.py": b"x = 2\n"})
    outcome = verify_fake(url, settings, tmp_path, {"sdist-mtimes--demo-1.0-py3-none-any.whl": other,
                                                    "pkg-info-time--demo-1.0-py3-none-any.whl": official})
    assert outcome.verdict.verdict == Verdict.REPRODUCIBLE, outcome.verdict.reasons
    assert outcome.report.pypi.matched_policy == "pkg-info-time"
    assert [a.identical for a in outcome.report.pypi.policies[:2]] == [False, True]


def test_a_release_with_two_pure_wheels_is_never_reproducible_from_one(http_server, settings, tmp_path) -> None:
    both, py3 = (wheel("demo-1.0.dist-info", files={"demo.py": body}) for body in (b"x = 1  # 2\n", b"x = 1\n"))
    url = fake_release(http_server, {"demo-1.0-py2.py3-none-any.whl": both, "demo-1.0-py3-none-any.whl": py3})
    outcome = verify_fake(url, settings, tmp_path, {"sdist-mtimes--demo-1.0-py3-none-any.whl": py3})
    assert outcome.verdict.verdict == Verdict.DIFFERENT
    status = {a.name: a.status for a in outcome.report.artifacts}
    assert status == {"demo-1.0-py2.py3-none-any.whl": ArtifactStatus.MISSING,
                      "demo-1.0-py3-none-any.whl": ArtifactStatus.IDENTICAL}


def test_a_python_2_wheel_is_inconclusive_with_the_reason_never_missing(http_server, settings, tmp_path) -> None:
    py2, py3 = (wheel("demo-1.0.dist-info", files={"demo.py": body}) for body in (b"print 1\n", b"print(1)\n"))
    url = fake_release(http_server, {"demo-1.0-py2-none-any.whl": py2, "demo-1.0-py3-none-any.whl": py3})
    outcome = verify_fake(url, settings, tmp_path, {"sdist-mtimes--demo-1.0-py3-none-any.whl": py3})
    assert outcome.verdict.verdict == Verdict.INCONCLUSIVE
    assert outcome.verdict.reasons[0] == ("demo-1.0-py2-none-any.whl: Python 2 wheel: needs a Python 2 interpreter "
                                          "(the sandbox has Python 3.11)")
    assert [(a.name, a.status) for a in outcome.report.artifacts] == [("demo-1.0-py3-none-any.whl",
                                                                        ArtifactStatus.IDENTICAL)]


def test_a_rebuild_named_as_the_official_wheel_but_not_its_bytes_matches_no_policy(http_server, settings,
                                                                                    tmp_path) -> None:
    official = wheel("demo-1.0.dist-info", files={"demo.py": b"x = 1\n"})
    url = fake_release(http_server, {"demo-1.0-py3-none-any.whl": official})
    forged = official.replace(b"x = 1", b"x = 2")  # same name, same size, other bytes
    outcome = verify_fake(url, settings, tmp_path, {"sdist-mtimes--demo-1.0-py3-none-any.whl": forged})
    assert outcome.verdict.verdict == Verdict.DIFFERENT
    assert outcome.report.pypi.matched_policy is None
    assert not any(a.identical for a in outcome.report.pypi.policies)


def test_an_index_file_at_a_local_path_is_refused_never_read(tmp_path) -> None:
    local = tmp_path / "demo-1.0-py3-none-any.whl"
    local.write_bytes(b"wheelhouse")
    for link in (local.as_uri(), "file:///opt/wheels/demo-1.0-py3-none-any.whl"):
        doc = {"files": [{"filename": local.name, "url": link, "size": 10,
                          "hashes": {"sha256": hashlib.sha256(b"wheelhouse").hexdigest()}}]}
        with pytest.raises(InputError, match="not at an http or https URL"):
            index.parse_page(json.dumps(doc).encode(), "https://index.invalid/simple/demo/")


@pytest.mark.parametrize("root", ["verifier-out", "verifier-src", "verifier-wheel"])
def test_an_sdist_whose_root_is_the_frontends_own_directory_is_refused_before_any_build(
        http_server, settings, tmp_path, root) -> None:
    official = wheel("demo-1.0.dist-info", files={"demo.py": b"x = 1\n"})
    planted = {"pyproject.toml": IN_TREE_PYPROJECT, "sdist-mtimes--demo-1.0-py3-none-any.whl": official}
    url = serve_release(http_server, "demo", {"demo-1.0.tar.gz": sdist(root, planted),
                                              "demo-1.0-py3-none-any.whl": official})
    with pytest.raises(InputError, match=f"demo-1.0.tar.gz: the sdist's top-level directory '{root}'"):
        verify_fake(url, settings, tmp_path, {})


def test_a_wheel_left_under_a_policy_that_was_not_run_is_no_rebuild(http_server, settings, tmp_path) -> None:
    # the wheel's zip time is the sdist's PKG-INFO time: wheel-zip-time repeats pkg-info-time and is not run
    official = wheel("demo-1.0.dist-info", files={"demo.py": b"x = 1\n"}, date_time=(2023, 5, 13, 17, 46, 40))
    url = fake_release(http_server, {"demo-1.0-py3-none-any.whl": official})
    other = official.replace(b"x = 1", b"x = 2")
    outcome = verify_fake(url, settings, tmp_path, {"sdist-mtimes--demo-1.0-py3-none-any.whl": other,
                                                    "pkg-info-time--demo-1.0-py3-none-any.whl": other,
                                                    "wheel-zip-time--demo-1.0-py3-none-any.whl": official})
    attempts = {a.name: a for a in outcome.report.pypi.policies}
    assert attempts["wheel-zip-time"].note == "not run: the same settings as pkg-info-time"
    assert outcome.verdict.verdict == Verdict.DIFFERENT and outcome.report.pypi.matched_policy is None
    assert not any(a.identical for a in attempts.values())


@pytest.mark.parametrize(("requirement", "message"), [
    ("flit_core\n--index-url http://127.0.0.1:9/simple", "not a PEP 508 requirement"),
    ("-r /etc/passwd", "not a PEP 508 requirement"),
    ("--find-links=/opt/wheels", "not a PEP 508 requirement"),
    ("flit_core @ file:///opt/wheels/flit_core-3.9.0-py3-none-any.whl", "names a URL"),
    ("flit_core @ https://127.0.0.1:9/flit_core-3.9.0-py3-none-any.whl", "names a URL"),
])
def test_a_build_requirement_from_the_sdist_is_never_an_option_or_a_url_for_uv(settings, requirement, message) -> None:
    with pytest.raises(InputError, match=f"build requirement: .*{message}"):
        resolve.resolve(("wheel", requirement), None, "http://127.0.0.1:9/simple", settings,
                        ContentCache(settings.cache_dir))
    assert not (settings.work_dir / "requirements.in").exists() and not list(settings.work_dir.glob("pypi-resolve-*"))


def test_the_closest_wheel_is_explained_with_the_clock_of_the_policy_that_built_it(tmp_path) -> None:
    official_bytes = wheel("demo-1.0.dist-info", files={"a.py": b"a", "b.py": b"b"})
    name = "demo-1.0-py3-none-any.whl"
    (tmp_path / "official.whl").write_bytes(official_bytes)
    official = CachedFile(PinnedFile(name, "https://index.invalid/" + name,
                                     hashlib.sha256(official_bytes).hexdigest(), len(official_bytes)),
                          tmp_path / "official.whl")
    far = wheel("demo-1.0.dist-info", files={"a.py": b"x", "b.py": b"y"}, date_time=(2020, 1, 1, 0, 0, 0))
    near = wheel("demo-1.0.dist-info", files={"a.py": b"a", "b.py": b"changed"})
    outputs = []
    for policy, data in (("sdist-mtimes", far), ("pkg-info-time", near)):
        path = tmp_path / f"{policy}--{name}"
        path.write_bytes(data)
        outputs.append(RebuiltFile(path.name, path, hashlib.sha256(data).hexdigest(), len(data)))
    found = attempts.read_attempts((policies.Policy("sdist-mtimes", None, "UTC"),
                                    policies.Policy("pkg-info-time", 1_684_000_000, "UTC")),
                                   tuple(outputs), {name: official})
    assert found.matched is None and found.chosen.path == tmp_path / f"pkg-info-time--{name}"
    assert found.chosen_policy == "pkg-info-time"


def test_a_pure_wheel_rebuilt_bit_for_bit_beside_compiled_ones_leaves_the_release_inconclusive(
        http_server, settings, tmp_path) -> None:
    official = wheel("demo-1.0.dist-info", files={"demo.py": b"x = 1\n"})
    compiled = "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
    url = fake_release(http_server, {"demo-1.0-py3-none-any.whl": official,
                                     compiled: wheel("demo-1.0.dist-info", "bdist_wheel (0.41.2)")})
    outcome = verify_fake(url, settings, tmp_path, {"sdist-mtimes--demo-1.0-py3-none-any.whl": official})
    assert outcome.verdict.verdict == Verdict.INCONCLUSIVE
    assert outcome.verdict.reasons[0] == f"{compiled}: compiled wheel: needs its original compiler toolchain"
    assert [(a.name, a.status) for a in outcome.report.artifacts] == [("demo-1.0-py3-none-any.whl",
                                                                        ArtifactStatus.IDENTICAL)]


NETWORK_LOG = "verifier-pypi: network: connect 192.0.2.1:443\nfalling back to the bundled copy\n"


@pytest.mark.parametrize(("same", "log", "noted"), [
    (False, NETWORK_LOG, True),  # fires: a wheel that differs after a network attempt the build survived
    (True, NETWORK_LOG, False),  # silent: the wheel is bit-identical all the same
    (False, "fake build\n", False),  # silent: no network attempt
])
def test_a_differing_wheel_built_after_a_network_attempt_says_so(http_server, settings, tmp_path, same, log,
                                                                  noted) -> None:
    official = wheel("demo-1.0.dist-info", files={"demo.py": b"x = 1\n"})
    url = fake_release(http_server, {"demo-1.0-py3-none-any.whl": official})
    rebuilt = official if same else official.replace(b"x = 1", b"x = 2")
    outcome = verify_fake(url, settings, tmp_path, {"sdist-mtimes--demo-1.0-py3-none-any.whl": rebuilt}, log)
    assert outcome.verdict.verdict == (Verdict.REPRODUCIBLE if same else Verdict.DIFFERENT)
    said = [r for r in outcome.verdict.reasons if "the build tried to reach the network" in r]
    assert said == (["the build tried to reach the network (the sandbox has none): connect 192.0.2.1:443"]
                    if noted else [])
