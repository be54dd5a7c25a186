"""The packages family as units: lockfile formats, the .deb control reader, the package
managers behind their registry, the offline repository and the package comparison."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.test_lockfile_build import build_deb
from verifier.cache import ContentCache
from verifier.compare.api import compare_paths
from verifier.errors import InputError, IntegrityError
from verifier.manifest import PinnedFile
from verifier.packages.deb import control_fields, identity
from verifier.packages.installed import compare_packages, write_manifest
from verifier.packages.interface import REPO_MOUNT, LockedEnvironment, LockedPackage, PlacedPackage
from verifier.packages.lockfile import buildinfo, load_lockfile, mock, native
from verifier.packages.repository import MANAGERS, build_repository, fetch_packages
from verifier.packages.rpm import rpm_identity
from verifier.settings import FetchLimits, Settings
from verifier.stages import BuildPreparation, CachedFile, InstalledPackage, Mount, PackageStatus

SHA = "b" * 64
PKG = {"name": "gcc-12", "version": "12.2.0-14", "architecture": "amd64", "url": "pool/gcc.deb", "size": 5, "sha256": SHA}
BUILDINFO = """Format: 1.0
Source: hello
Binary: hello
Architecture: amd64
Version: 2.10-3
Build-Architecture: amd64
Build-Path: /build/reproducible-path/hello-2.10
Installed-Build-Depends:
 autoconf (= 2.71-3),
 gcc-12:amd64 (= 12.2.0-14)
Environment:
 DEB_BUILD_OPTIONS="parallel=2"
 SOURCE_DATE_EPOCH="1700000000"
"""


def lock_doc(*packages: dict) -> bytes:
    return json.dumps({"lockfile_version": 1, "package_manager": "apt", "packages": list(packages)}).encode()


def test_native_lockfile_resolves_urls_against_its_own() -> None:
    locked = native.parse(lock_doc(PKG), "lock.json", "http://127.0.0.1/rel/lockfile/lock.json")
    assert locked.packages[0].url == "http://127.0.0.1/rel/lockfile/pool/gcc.deb"
    assert native.parse(native.dump(locked), "again.json").packages == locked.packages


@pytest.mark.parametrize(("doc", "message"), [
    (lock_doc(PKG, PKG), "duplicate entry for package gcc-12"),
    (lock_doc({**PKG, "sha256": "xyz"}), "field packages[0].sha256"),
    (lock_doc({k: v for k, v in PKG.items() if k != "version"}), "'version' is a required property"),
    (json.dumps({"lockfile_version": 2, "package_manager": "apt", "packages": []}).encode(), "unsupported lockfile_version 2"),
    (b"not json", "not valid JSON"),
])
def test_native_lockfile_errors_name_file_and_field(doc: bytes, message: str) -> None:
    with pytest.raises(InputError) as err:
        native.parse(doc, "lock.json")
    assert str(err.value).startswith("lock.json: ") and message in str(err.value)


def test_buildinfo_pins_installed_build_depends() -> None:
    locked = buildinfo.parse(BUILDINFO, "hello.buildinfo")
    assert locked.package_manager == "apt"
    assert [p.key for p in locked.packages] == [("autoconf", "amd64"), ("gcc-12", "amd64")]
    assert [(p.name, p.version) for p in locked.packages] == [("autoconf", "2.71-3"), ("gcc-12", "12.2.0-14")]


def test_clear_signed_buildinfo_is_read() -> None:
    signed = ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + BUILDINFO +
              "-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n")
    assert buildinfo.parse(signed, "hello.buildinfo").packages == buildinfo.parse(BUILDINFO, "hello.buildinfo").packages


@pytest.mark.parametrize(("text", "message"), [
    (BUILDINFO.replace(" autoconf (= 2.71-3),\n", " autoconf (>= 2.71-3),\n"), "autoconf has no exact version"),
    (BUILDINFO.replace(" autoconf (= 2.71-3),\n", " autoconf (= 2.71-3),\n autoconf (= 2.71-4),\n"), "duplicate entry"),
    (BUILDINFO.replace("Source: hello\n", ""), "field Source: missing"),
])
def test_buildinfo_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        buildinfo.parse(text, "hello.buildinfo")


def test_unknown_lockfile_format(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="lockfile format 'yarn' is not supported"):
        load_lockfile(tmp_path / "x", "yarn", "x.lock")


LOCKED = LockedEnvironment("apt", (LockedPackage("gcc-12", "12.2.0-14", "amd64"),
                                                LockedPackage("make", "4.3-4.1", "amd64")))


def test_matching_packages() -> None:
    installed = (InstalledPackage("gcc-12", "12.2.0-14", "amd64"), InstalledPackage("make", "4.3-4.1", "amd64"),
                 InstalledPackage("base-files", "12.4", "amd64"))
    result = compare_packages(LOCKED, installed)
    assert result.status == PackageStatus.MATCH and result.counts is not None and result.counts.installed_not_locked == 1


def test_drift_names_the_package() -> None:
    installed = (InstalledPackage("gcc-12", "12.2.0-15", "amd64"),)
    result = compare_packages(LOCKED, installed)
    assert result.status == PackageStatus.DRIFT
    assert {d.name: d.installed for d in result.drift} == {"gcc-12": "12.2.0-15", "make": None}
    assert "locked 12.2.0-14, installed 12.2.0-15" in result.reason


def test_drift_against_the_official_buildinfo() -> None:
    installed = (InstalledPackage("gcc-12", "12.2.0-14", "amd64"), InstalledPackage("make", "4.3-4.1", "amd64"))
    official = LockedEnvironment("apt", (LockedPackage("gcc-12", "12.2.0-13", "amd64"),
                                                      LockedPackage("make", "4.3-4.1", "amd64")))
    result = compare_packages(LOCKED, installed, official)
    assert result.status == PackageStatus.DRIFT and result.drift[0].buildinfo == "12.2.0-13"


def test_unreadable_installed_list_is_not_checked() -> None:
    assert compare_packages(LOCKED, None).status == PackageStatus.NOT_CHECKED


def test_manifest_file(tmp_path: Path) -> None:
    write_manifest((InstalledPackage("b", "2", "all"), InstalledPackage("a", "1", "amd64")), tmp_path / "m.txt")
    assert (tmp_path / "m.txt").read_text() == "a\t1\tamd64\nb\t2\tall\n"


MOCK = {"version": "1.1.0", "buildroot": {"rpms": [
    {"name": "demo", "epoch": None, "version": "1.0", "release": "1", "arch": "noarch", "license": "MIT",
     "sigmd5": "0" * 32, "signature": None, "url": "demo.rpm"}]},
    "bootstrap": {"image_digest": "sha256:" + "c" * 64}, "config": {}}


def mock_doc(**changes) -> bytes:
    doc = json.loads(json.dumps(MOCK))
    doc.update(changes)
    return json.dumps(doc).encode()


def test_mock_lockfile_versions() -> None:
    for version in ("1.0.0", "1.1.0"):
        locked = mock.parse(mock_doc(version=version), "buildroot_lock.json")
        assert locked.packages[0].version == "0:1.0-1" and locked.packages[0].sigmd5 == "0" * 32
    with pytest.raises(InputError, match="schema 2.0.0 is not supported"):
        mock.parse(mock_doc(version="2.0.0"), "buildroot_lock.json")


def test_mock_lockfile_errors_name_the_field() -> None:
    doc = json.loads(json.dumps(MOCK))
    doc["buildroot"]["rpms"][0]["sigmd5"] = "nope"
    with pytest.raises(InputError, match=r"field buildroot.rpms\[0\].sigmd5: not an MD5"):
        mock.parse(json.dumps(doc).encode(), "buildroot_lock.json")
    doc["buildroot"]["rpms"] = [MOCK["buildroot"]["rpms"][0]] * 2
    with pytest.raises(InputError, match="duplicate entry for package demo"):
        mock.parse(json.dumps(doc).encode(), "buildroot_lock.json")


def test_rpm_sigmd5_is_checked_on_fetch(tmp_path: Path, http_server) -> None:
    require_tool("rpmbuild")
    top = tmp_path / "rpm"
    (top / "SPECS").mkdir(parents=True)
    spec = top / "SPECS" / "demo.spec"
    spec.write_text("Name: demo\nVersion: 1.0\nRelease: 1\nSummary: d\nLicense: MIT\nBuildArch: noarch\n"
                    "%description\nd\n%files\n")
    subprocess.run(["rpmbuild", "--define", f"_topdir {top}", "-bb", str(spec)], check=True, capture_output=True)
    rpm = next((top / "RPMS" / "noarch").glob("*.rpm"))
    _, _, _, sigmd5 = rpm_identity(rpm, "demo.rpm")
    url = http_server.add("/demo.rpm", body=rpm.read_bytes())
    settings = Settings(cache_dir=tmp_path / "cache", fetch=FetchLimits(allow_private_addresses=True))
    good = dataclasses.replace(mock.parse(mock_doc(), "lock"), packages=(
        dataclasses.replace(mock.parse(mock_doc(), "lock").packages[0], url=url, sigmd5=sigmd5),))
    cached = fetch_packages(good, ContentCache(settings.cache_dir), settings)
    assert cached[0].path.read_bytes() == rpm.read_bytes()
    offline = dataclasses.replace(settings, offline=True)
    assert fetch_packages(good, ContentCache(settings.cache_dir), offline)[0].path == cached[0].path
    bad = dataclasses.replace(good, packages=(dataclasses.replace(good.packages[0], url=url + "?2", sigmd5="f" * 32),))
    with pytest.raises(IntegrityError, match="SIGMD5 mismatch"):
        fetch_packages(bad, ContentCache(settings.cache_dir), settings)
    assert not any((settings.cache_dir / "tmp").iterdir()), "nothing half-written left behind"
    preparation = build_repository(good, cached, tmp_path / "repository")
    assert [p.name for p in (tmp_path / "repository").iterdir()] == [f"{cached[0].pin.sha256}.rpm"]
    assert preparation.installed_query.startswith("rpm -qa") and "/verifier/repo/*.rpm" in preparation.install_script
    shutil.rmtree(top)


def test_a_remote_lockfile_may_not_name_local_files() -> None:
    doc = lock_doc({**PKG, "url": "file:///etc/passwd"})
    with pytest.raises(InputError, match="read from a remote URL may not name a local file"):
        native.parse(doc, "lock.json", "http://127.0.0.1/rel/lock.json")
    with pytest.raises(InputError, match="scheme 'ftp' not allowed"):
        native.parse(lock_doc({**PKG, "url": "ftp://127.0.0.1/x.deb"}), "lock.json", "http://127.0.0.1/lock.json")


def test_deb_with_a_wrong_sha256_is_refused_and_not_cached(tmp_path: Path, http_server) -> None:
    deb = build_deb(tmp_path, "verifier-probe", "1.0", "marker\n")
    url = http_server.add("/probe.deb", body=deb.read_bytes())
    wrong = "0" * 64
    locked = LockedEnvironment("apt", (
        LockedPackage("verifier-probe", "1.0", "all", url, deb.stat().st_size, wrong),))
    settings = Settings(cache_dir=tmp_path / "cache", fetch=FetchLimits(allow_private_addresses=True))
    with pytest.raises(IntegrityError) as err:
        fetch_packages(locked, ContentCache(settings.cache_dir), settings, place="lock.json")
    assert wrong in str(err.value) and hashlib.sha256(deb.read_bytes()).hexdigest() in str(err.value)
    entries = settings.cache_dir / "sha256"
    assert not entries.exists() or not [p for p in entries.rglob("*") if p.is_file()], "nothing enters the cache"


def _ar(path: Path, members: list[tuple[str, bytes]]) -> Path:
    """An ar archive written with the real `ar` tool (members in the given order)."""
    require_tool("ar")
    work = path.parent / f"{path.name}.members"
    work.mkdir()
    names = []
    for i, (name, data) in enumerate(members):
        (work / str(i)).mkdir()
        (work / str(i) / name).write_bytes(data)
        names.append(str(work / str(i) / name))
    for name in names:  # one by one: `ar q` appends, so a duplicate name stays a second member
        subprocess.run(["ar", "q", str(path), name], check=True, capture_output=True)
    return path


def _members(deb: Path, tmp: Path) -> dict[str, bytes]:
    out = tmp / "x"
    out.mkdir()
    subprocess.run(["ar", "x", "--output", str(out), str(deb)], check=True, capture_output=True)
    return {p.name: p.read_bytes() for p in out.iterdir()}


def test_deb_control_fields_are_read_in_process(tmp_path: Path) -> None:
    deb = build_deb(tmp_path, "verifier-probe", "1.0", "marker\n")
    fields = control_fields(deb, "probe.deb")
    assert (fields["Package"], fields["Version"], fields["Architecture"]) == ("verifier-probe", "1.0", "all")


def test_a_deb_with_two_control_members_is_refused(tmp_path: Path) -> None:
    members = _members(build_deb(tmp_path, "verifier-probe", "1.0", "marker\n"), tmp_path)
    control = next(name for name in members if name.startswith("control.tar"))
    twice = _ar(tmp_path / "twice.deb", [("debian-binary", members["debian-binary"]),
                                         (control, members[control]), (control, members[control])])
    with pytest.raises(InputError, match=r"^twice.deb: not a valid Debian package \(ar members\): second control member"):
        control_fields(twice, "twice.deb")


@pytest.mark.parametrize(("members", "message"), [
    ([("debian-binary", b"2.0\n")], "no control.tar member"),
    ([("control.tar.gz", b"not gzip at all")], "not a valid Debian package"),
    ([("control.tar.rot13", b"x")], "unknown compression"),
])
def test_broken_debs_are_one_line_input_errors(tmp_path: Path, members, message: str) -> None:
    deb = _ar(tmp_path / "bad.deb", members)
    with pytest.raises(InputError, match=message) as err:
        control_fields(deb, "bad.deb")
    assert str(err.value).startswith("bad.deb: ")


def test_a_non_archive_is_not_a_deb(tmp_path: Path) -> None:
    (tmp_path / "x.deb").write_bytes(b"MZ" + b"\0" * 100)
    with pytest.raises(InputError, match="^x.deb: not a valid Debian package"):
        control_fields(tmp_path / "x.deb", "x.deb")


def test_an_unknown_package_manager_is_refused_before_any_fetch(tmp_path: Path) -> None:
    locked = LockedEnvironment("pacman", (LockedPackage("x", "1", "any", "http://127.0.0.1:9/x", 1, SHA),))
    settings = Settings(cache_dir=tmp_path / "cache")
    with pytest.raises(InputError, match="^lock.json: package manager 'pacman' is not supported"):
        fetch_packages(locked, ContentCache(settings.cache_dir), settings, place="lock.json")
    assert set(MANAGERS) == {"apt", "rpm"} and all(m.name == key for key, m in MANAGERS.items())


def test_a_huge_control_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "control").write_bytes(b"Package: x\nDescription: y\n" + b" " + b"a" * (8 << 20) + b"\n")
    subprocess.run(["tar", "-C", str(tree), "-czf", str(tmp_path / "control.tar.gz"), "./control"], check=True)
    deb = _ar(tmp_path / "big.deb", [("debian-binary", b"2.0\n"),
                                     ("control.tar.gz", (tmp_path / "control.tar.gz").read_bytes())])
    assert deb.stat().st_size < 100_000
    with pytest.raises(InputError, match=r"^big.deb: control.tar.gz::control is larger than 1 MiB; refused"):
        control_fields(deb, "big.deb")


def test_the_deb_comparator_reports_a_broken_control_member_as_corrupt(tmp_path: Path, settings: Settings) -> None:
    good = _members(build_deb(tmp_path, "verifier-probe", "1.0", "marker\n"), tmp_path)
    data = next(name for name in good if name.startswith("data.tar"))
    a = _ar(tmp_path / "a.deb", [("debian-binary", b"2.0\n"), ("control.tar.gz", b"not gzip at all"), (data, good[data])])
    b = _ar(tmp_path / "b.deb", [("debian-binary", b"2.0\n"), ("control.tar.gz", b"not gzip either"), (data, good[data])])
    result = compare_paths(a, b, settings)
    assert any("a.deb is corrupt (control.tar.gz)" in d for d in result.degradations), result.degradations
    assert result.difference is not None, "the bytes still differ"


def test_the_apt_repository_uses_synthetic_names_and_its_own_index(tmp_path: Path, http_server,
                                                                   settings: Settings) -> None:
    deb = build_deb(tmp_path, "verifier-probe", "1.0", "marker\n")
    sha = hashlib.sha256(deb.read_bytes()).hexdigest()
    url = http_server.add("/pool/evil%20name;rm.deb", body=deb.read_bytes())
    locked = LockedEnvironment("apt", (LockedPackage("verifier-probe", "1.0", "all", url, deb.stat().st_size, sha),))
    settings = dataclasses.replace(settings, fetch=FetchLimits(allow_private_addresses=True))  # server on 127.0.0.1
    cached = fetch_packages(locked, ContentCache(settings.cache_dir), settings)
    preparation = build_repository(locked, cached, tmp_path / "repo")
    assert {p.name for p in (tmp_path / "repo").iterdir()} == {"Packages", f"{sha}.deb"}
    index = (tmp_path / "repo" / "Packages").read_text()
    assert "Package: verifier-probe\n" in index and f"Filename: ./{sha}.deb\n" in index and f"SHA256: {sha}\n" in index
    assert "verifier-probe=1.0" in preparation.install_script and preparation.installed_query.startswith("dpkg-query")


@dataclasses.dataclass(frozen=True)
class FakeManager:
    """A package manager that fetches nothing: the seam the registry dispatches through."""

    name: str = "fake"
    suffix: str = ".pkg"

    def fetch(self, package: LockedPackage, cache: ContentCache, settings: Settings, place: str) -> CachedFile:
        path, digest = cache.add_bytes(f"{package.name} {package.version}\n".encode())
        return CachedFile(PinnedFile(package.name, "file:///nowhere", digest.sha256, digest.size), path)

    def repository(self, locked: LockedEnvironment, placed: tuple[PlacedPackage, ...], dest: Path) -> BuildPreparation:
        return BuildPreparation((Mount(dest, REPO_MOUNT),), " ".join(p.filename for p in placed), "true")


def test_fetch_and_repository_dispatch_through_the_registry(tmp_path: Path, settings: Settings, monkeypatch) -> None:
    monkeypatch.setitem(MANAGERS, "fake", FakeManager())
    locked = LockedEnvironment("fake", (LockedPackage("../../etc/passwd", "1", "any"),))
    cached = fetch_packages(locked, ContentCache(settings.cache_dir), settings)
    preparation = build_repository(locked, cached, tmp_path / "repo")
    assert preparation.install_script == f"{cached[0].pin.sha256}.pkg", "a name from the lockfile never becomes a path"
    assert [p.name for p in (tmp_path / "repo").iterdir()] == [f"{cached[0].pin.sha256}.pkg"]


def test_a_deb_without_a_version_field_is_an_input_error(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "control").write_text("Package: x\nArchitecture: all\n")
    subprocess.run(["tar", "-C", str(tree), "-czf", str(tmp_path / "control.tar.gz"), "./control"], check=True)
    deb = _ar(tmp_path / "x.deb", [("debian-binary", b"2.0\n"),
                                   ("control.tar.gz", (tmp_path / "control.tar.gz").read_bytes())])
    with pytest.raises(InputError, match=r"^x.deb: not a valid Debian package \(control\): control field Version"):
        identity(control_fields(deb, "x.deb"), "x.deb")


def test_lock_with_a_missing_environment_is_one_line(tmp_path: Path, capsys) -> None:
    from tests.conftest import require_tool
    from verifier.cli.app import run
    from verifier.errors import ExitCode

    require_tool("podman")  # the command finds podman before it reads --env
    missing = tmp_path / "no-env.tar"
    code = run(["lock", "--env", str(missing), "--out", str(tmp_path / "out"), "--package", "hello",
                "--cache-dir", str(tmp_path / "cache"), "--work-dir", str(tmp_path / "work")])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT and err.count("\n") == 1 and f"{missing}: no such file (--env)" in err
