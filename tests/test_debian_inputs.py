"""`verifier debian`'s inputs, hostile or not, against a small signed archive on disk
(tests/debian_archive.py): each bad input is one line naming it, with its exit code, and
nothing is cached under a final name or written as a release. No build runs here."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
import sys
from types import SimpleNamespace
from pathlib import Path

import pytest

from tests import debian_archive as fake
from verifier.cache import ContentCache
from verifier.cli.app import run
from verifier.debian import buildinfo as buildinfo_file
from verifier.debian.archive import open_archive
from verifier.debian.command import build_command
from verifier.debian.plan import build_flag
from verifier.debian.run import DebianRequest, _write_release, make_plan
from verifier.manifest import parse as parse_manifest
from verifier.pipeline import VerifyOptions, step_verdict
from verifier.errors import ExitCode, IntegrityError
from verifier.outcome import Verdict
from verifier.settings import Settings
from verifier.stages import ArtifactResult, ArtifactStatus, BuildStatus, PackageComparison, PackageStatus

pytestmark = pytest.mark.skipif(not Path("/usr/bin/gpg").exists(), reason="gpg is needed to sign the test archive")


@pytest.fixture
def archive(tmp_path: Path) -> fake.FakeArchive:
    return fake.build(tmp_path)


def debian(tmp_path: Path, archive: fake.FakeArchive, *args: str) -> int:
    return run(["debian", *args, "--archive", archive.url, "--archive-keyring", str(archive.keyring),
                "--cache-dir", str(tmp_path / "cache"), "--work-dir", str(tmp_path / "work")])


def one_error_line(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("verifier: error: "), err
    for word in words:
        assert word in err, err
    return err


def nothing_released(tmp_path: Path) -> None:
    assert not list((tmp_path / "work").glob("*/release.json"))


def cached(tmp_path: Path, data: bytes) -> bool:
    digest = hashlib.sha256(data).hexdigest()
    return any(p.name.startswith(digest) for p in (tmp_path / "cache").rglob("*"))


def settings(tmp_path: Path) -> Settings:
    return dataclasses.replace(Settings(), cache_dir=tmp_path / "cache", work_dir=tmp_path / "work")


@pytest.mark.parametrize("option", ["--buildinfo", "--archive"])
def test_a_malformed_url_is_one_line_not_an_internal_error(tmp_path: Path, archive: fake.FakeArchive, capsys,
                                                           option: str) -> None:
    args = ["demo", "--archive", "http://user:secret@[bad"] if option == "--archive" else \
        ["--buildinfo", "http://user:secret@[bad"]
    code = run(["debian", *args, "--cache-dir", str(tmp_path / "cache"), "--work-dir", str(tmp_path / "work")]
               + (["--archive", archive.url, "--archive-keyring", str(archive.keyring)] if option != "--archive" else []))
    assert code == ExitCode.BAD_INPUT
    err = one_error_line(capsys, "[bad", "not a valid URL")
    assert "secret" not in err
    nothing_released(tmp_path)


def test_a_release_signed_by_another_key_is_refused(tmp_path: Path, archive: fake.FakeArchive, capsys) -> None:
    other = fake.make_key(tmp_path / "other-home", "other")
    code = run(["debian", "demo", "--archive", archive.url, "--archive-keyring", str(other),
                "--cache-dir", str(tmp_path / "cache"), "--work-dir", str(tmp_path / "work")])
    assert code == ExitCode.INTEGRITY
    one_error_line(capsys, "dists/bookworm/InRelease", "signature does not verify")
    nothing_released(tmp_path)


def test_a_release_of_another_suite_served_in_its_place_is_refused(tmp_path: Path, archive: fake.FakeArchive,
                                                                   capsys) -> None:
    shutil.copytree(archive.root / "dists" / "bookworm", archive.root / "dists" / "trixie")
    assert debian(tmp_path, archive, "demo", "--suite", "trixie") == ExitCode.INTEGRITY
    one_error_line(capsys, "trixie/InRelease", "for bookworm, not trixie")
    nothing_released(tmp_path)


def test_text_outside_the_signature_is_not_read(tmp_path: Path, archive: fake.FakeArchive, capsys) -> None:
    """An index entry appended after the signed block would pin a forged Packages file."""
    inrelease = archive.root / "dists/bookworm/InRelease"
    forged = fake.packages_text(archive.root, deb_sha="1" * 64)
    archive.resign()
    (archive.root / "dists/bookworm/main/binary-amd64/Packages.xz").write_bytes(fake.lzma.compress(forged))
    data = (archive.root / "dists/bookworm/main/binary-amd64/Packages.xz").read_bytes()
    inrelease.write_text(inrelease.read_text() + f"SHA256:\n {hashlib.sha256(data).hexdigest()} {len(data)} "
                                                 "main/binary-amd64/Packages.xz\n")
    assert debian(tmp_path, archive, "demo") == ExitCode.INTEGRITY
    one_error_line(capsys, "Packages.xz")
    assert not cached(tmp_path, data)


def test_a_packages_index_that_does_not_match_the_release_is_refused(tmp_path: Path, archive: fake.FakeArchive,
                                                                     capsys) -> None:
    packages = archive.root / "dists/bookworm/main/binary-amd64/Packages.xz"
    packages.write_bytes(fake.lzma.compress(fake.packages_text(archive.root) + b"\nPackage: evil\n"))
    assert debian(tmp_path, archive, "demo") == ExitCode.INTEGRITY
    one_error_line(capsys, "Packages.xz", "pinned")
    assert not cached(tmp_path, packages.read_bytes())
    nothing_released(tmp_path)


def test_a_deb_that_does_not_match_its_packages_entry_is_refused(tmp_path: Path, archive: fake.FakeArchive,
                                                                  capsys) -> None:
    archive.resign(fake.packages_text(archive.root, deb_sha="2" * 64))
    assert debian(tmp_path, archive, "demo") == ExitCode.INTEGRITY
    one_error_line(capsys, "demo_1.0_all.deb")
    assert not cached(tmp_path, (archive.root / "pool/main/d/demo/demo_1.0_all.deb").read_bytes())
    nothing_released(tmp_path)


def test_a_version_the_archive_does_not_have(tmp_path: Path, archive: fake.FakeArchive, capsys) -> None:
    assert debian(tmp_path, archive, "demo=2.0") == ExitCode.BAD_INPUT
    one_error_line(capsys, "demo=2.0", "it has 1.0")
    (tmp_path / "bi").write_text(fake.buildinfo(archive, source="demo (2.0)"))
    assert debian(tmp_path, archive, "--buildinfo", str(tmp_path / "bi")) == ExitCode.BAD_INPUT
    one_error_line(capsys, "demo=2.0")
    nothing_released(tmp_path)


def test_a_buildinfo_whose_checksums_are_not_the_archives(tmp_path: Path, archive: fake.FakeArchive, capsys) -> None:
    (tmp_path / "x.buildinfo").write_text(fake.buildinfo(archive, deb_sha="3" * 64))
    assert debian(tmp_path, archive, "--buildinfo", str(tmp_path / "x.buildinfo")) == ExitCode.INTEGRITY
    one_error_line(capsys, "x.buildinfo", "demo_1.0_all.deb", "Checksums-Sha256")
    nothing_released(tmp_path)


def test_a_buildinfo_whose_binary_list_does_not_match_the_archive(tmp_path: Path, archive: fake.FakeArchive,
                                                                  capsys) -> None:
    (tmp_path / "x.buildinfo").write_text(fake.buildinfo(archive, binary="demo demo-extra"))
    assert debian(tmp_path, archive, "--buildinfo", str(tmp_path / "x.buildinfo")) == ExitCode.BAD_INPUT
    one_error_line(capsys, "x.buildinfo", "field Binary", "demo-extra")


def test_a_buildinfo_for_another_package_than_named(tmp_path: Path, archive: fake.FakeArchive, capsys) -> None:
    (tmp_path / "x.buildinfo").write_text(fake.buildinfo(archive))
    assert debian(tmp_path, archive, "hello", "--buildinfo", str(tmp_path / "x.buildinfo")) == ExitCode.BAD_INPUT
    one_error_line(capsys, "x.buildinfo", "not hello")


def test_a_binary_the_source_does_not_build(tmp_path: Path, archive: fake.FakeArchive, capsys) -> None:
    assert debian(tmp_path, archive, "demo", "--binary", "libdemo1") == ExitCode.BAD_INPUT
    one_error_line(capsys, "--binary", "libdemo1")


HOSTILE = [
    ("Build-Path: /build/reproducible-path/demo-1.0", "Build-Path: /usr/lib", "field Build-Path"),
    ("Build-Path: /build/reproducible-path/demo-1.0", "Build-Path: /build/../etc/x", "field Build-Path"),
    (' SOURCE_DATE_EPOCH="1700000000"', ' SOURCE_DATE_EPOCH="$(reboot)"', "SOURCE_DATE_EPOCH"),
    (' DEB_BUILD_OPTIONS="parallel=2"', ' DEB_BUILD_OPTIONS="a\x1bb"', "field Environment"),
    ("Source: demo (1.0)", "Source: ../demo (1.0)", "field Source"),
    ("Source: demo (1.0)", "Source: demo (1.0;rm)", "field Version"),
    (" make (= 4.3-4.1)", " make (>= 4.3-4.1)", "no exact version"),
    (" make (= 4.3-4.1)", " make (= 4.3-4.1) | bmake (= 1)", "alternatives"),
    ("demo_1.0_all.deb\n", "../../demo_1.0_all.deb\n", "Checksums-Sha256"),
    # what could reach apt or mmdebstrap's command line: one line, the parser's own warning silenced
    (" make (= 4.3-4.1)", " -oAPT::Get::Foo=1 (= 1.0)", "Installed-Build-Depends"),
    (" make (= 4.3-4.1)", " make (= 4.3 --allow-unauthenticated)", "Installed-Build-Depends"),
    ("Binary: demo", "Binary: demo\n -o", "field Binary"),
]


@pytest.mark.parametrize(("good", "bad", "named"), HOSTILE)
def test_hostile_buildinfo_fields(tmp_path: Path, archive: fake.FakeArchive, capsys, good: str, bad: str,
                                  named: str) -> None:
    text = fake.buildinfo(archive)
    assert good in text
    (tmp_path / "h.buildinfo").write_text(text.replace(good, bad))
    assert debian(tmp_path, archive, "--buildinfo", str(tmp_path / "h.buildinfo")) == ExitCode.BAD_INPUT
    one_error_line(capsys, "h.buildinfo", named)
    nothing_released(tmp_path)


def test_an_unparsable_relation_is_one_line_from_the_real_command(tmp_path: Path, archive: fake.FakeArchive) -> None:
    """In a real process (pytest's log capture would hide it), python-debian's own warning
    must not add a second line to the error."""
    (tmp_path / "h.buildinfo").write_text(fake.buildinfo(archive).replace(" make (= 4.3-4.1)", " -oAPT::X=1 (= 1.0)"))
    code = "import sys; from verifier.cli.app import run; sys.exit(run(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", code, "debian", "--buildinfo", str(tmp_path / "h.buildinfo"),
                           "--archive", archive.url, "--archive-keyring", str(archive.keyring),
                           "--cache-dir", str(tmp_path / "cache"), "--work-dir", str(tmp_path / "work")],
                          capture_output=True, text=True, check=False, timeout=120, cwd=Path(__file__).parent.parent)
    assert done.returncode == ExitCode.BAD_INPUT
    assert done.stderr.count("\n") == 1 and "h.buildinfo" in done.stderr, done.stderr


@pytest.mark.parametrize(("data", "named"), [(b"\xff\xfe not text", "not UTF-8"),
                                             (b"Format: 1.0\n" + b"X" * (17 << 20), "larger than"),
                                             (b"", "field Source"), (b"Source: demo\n", "field Version")])
def test_what_is_not_a_buildinfo(tmp_path: Path, archive: fake.FakeArchive, capsys, data: bytes, named: str) -> None:
    (tmp_path / "h.buildinfo").write_bytes(data)
    assert debian(tmp_path, archive, "--buildinfo", str(tmp_path / "h.buildinfo")) == ExitCode.BAD_INPUT
    one_error_line(capsys, "h.buildinfo", named)


def test_buildinfo_signatures(tmp_path: Path, archive: fake.FakeArchive) -> None:
    text = fake.buildinfo(archive)
    signed = archive.sign(text, tmp_path / "s.buildinfo").read_bytes()
    verified = buildinfo_file.load(signed, "s.buildinfo", archive.keyring)
    assert verified.signature.status == "verified" and len(verified.signature.detail) == 40
    assert buildinfo_file.load(signed, "s.buildinfo", None).signature.status == "not checked"
    assert buildinfo_file.load(text.encode(), "u.buildinfo", None).signature.status == "not signed"
    with pytest.raises(IntegrityError, match="u.buildinfo: not signed, but --buildinfo-keyring"):
        buildinfo_file.load(text.encode(), "u.buildinfo", archive.keyring)
    other = fake.make_key(tmp_path / "other-home", "other")
    with pytest.raises(IntegrityError, match="s.buildinfo: bad signature"):
        buildinfo_file.load(signed, "s.buildinfo", other)
    tampered = signed.replace(b"parallel=2", b"parallel=3")
    with pytest.raises(IntegrityError, match="bad signature"):
        buildinfo_file.load(tampered, "t.buildinfo", archive.keyring)


def test_a_bad_buildinfo_signature_through_the_command(tmp_path: Path, archive: fake.FakeArchive, capsys) -> None:
    signed = archive.sign(fake.buildinfo(archive), tmp_path / "s.buildinfo").read_bytes()
    (tmp_path / "s.buildinfo").write_bytes(signed.replace(b"parallel=2", b"parallel=9"))
    code = debian(tmp_path, archive, "--buildinfo", str(tmp_path / "s.buildinfo"),
                  "--buildinfo-keyring", str(archive.keyring))
    assert code == ExitCode.INTEGRITY
    one_error_line(capsys, "s.buildinfo", "bad signature")
    nothing_released(tmp_path)


def test_the_plan_from_a_buildinfo(tmp_path: Path, archive: fake.FakeArchive) -> None:
    s = settings(tmp_path)
    cache = ContentCache(s.cache_dir)
    opened = open_archive(archive.url, "bookworm", "amd64", s, cache, archive.keyring)
    official = buildinfo_file.load(fake.buildinfo(archive).encode(), "b.buildinfo", None)
    plan = make_plan(DebianRequest(None, "b.buildinfo"), opened, official, s, cache)
    assert [b.pin.name for b in plan.binaries] == ["demo_1.0_all.deb"] and plan.build_flag == "-A"
    assert plan.build_path == "/build/reproducible-path/demo-1.0" and plan.source_date_epoch == 1700000000
    assert plan.variables == (("DEB_BUILD_OPTIONS", "parallel=2"),) and plan.missing == ()
    assert [p.name for p in plan.pins] == ["make"] and {p.name for p in plan.extra} == {"build-essential", "fakeroot"}
    assert plan.environment_origin == "buildinfo"


def test_the_plan_names_versions_the_archive_lacks(tmp_path: Path, archive: fake.FakeArchive) -> None:
    s = settings(tmp_path)
    cache = ContentCache(s.cache_dir)
    opened = open_archive(archive.url, "bookworm", "amd64", s, cache, archive.keyring)
    text = fake.buildinfo(archive).replace("make (= 4.3-4.1)", "make (= 4.3-0.1),\n gone (= 1.0)")
    plan = make_plan(DebianRequest(None, "b"), opened, buildinfo_file.load(text.encode(), "b", None), s, cache)
    assert plan.missing == ("make=4.3-0.1", "gone=1.0")
    assert [(p.name, p.version) for p in plan.pins] == [("make", "4.3-4.1")]  # the archive's stands in


def test_a_plain_verify_offline_repeat_keeps_what_the_archive_lacked(tmp_path: Path, archive: fake.FakeArchive) -> None:
    """`verifier verify --offline release.json` (not only `debian --offline`) must not turn an
    INCONCLUSIVE run (versions the archive lacks) into REPRODUCIBLE: release.json carries them."""
    s = settings(tmp_path)
    cache = ContentCache(s.cache_dir)
    opened = open_archive(archive.url, "bookworm", "amd64", s, cache, archive.keyring)
    text = fake.buildinfo(archive).replace("make (= 4.3-4.1)", "make (= 4.3-0.1)")
    official = buildinfo_file.load(text.encode(), "b", None)
    plan = make_plan(DebianRequest(None, "b"), opened, official, s, cache)
    env = tmp_path / "env.tar"
    env.write_bytes(b"rootfs")
    written = _write_release(plan, tmp_path / "run", env, b"{}", official, text.encode())
    manifest = parse_manifest(written.read_bytes(), str(written))
    assert manifest.unavailable == ("make=4.3-0.1",)
    rebuild = SimpleNamespace(status=BuildStatus.SUCCEEDED)  # all the verdict reads of it
    identical = ArtifactResult("demo_1.0_all.deb", ArtifactStatus.IDENTICAL, "0" * 64, 1, "0" * 64, 1)
    verdict = step_verdict(rebuild, (identical,), PackageComparison(PackageStatus.MATCH, ""), manifest, VerifyOptions())
    assert verdict.verdict == Verdict.INCONCLUSIVE and "make=4.3-0.1" in verdict.reasons[0]


def test_the_plan_from_a_name_takes_the_changelog_date(tmp_path: Path, archive: fake.FakeArchive) -> None:
    s = settings(tmp_path)
    cache = ContentCache(s.cache_dir)
    opened = open_archive(archive.url, "bookworm", "amd64", s, cache, archive.keyring)
    plan = make_plan(DebianRequest("demo", None), opened, None, s, cache)
    assert plan.source_date_epoch == 1700000000 and plan.environment_origin == "re-resolved"
    assert plan.build_path == "/build/reproducible-path/demo-1.0" and plan.pins == ()


def test_an_archive_without_the_suite_is_one_line(tmp_path: Path, archive: fake.FakeArchive, capsys) -> None:
    assert debian(tmp_path, archive, "demo", "--suite", "trixie") in (ExitCode.INFRASTRUCTURE, ExitCode.BAD_INPUT)
    one_error_line(capsys, "trixie/InRelease")
    assert debian(tmp_path, archive, "demo", "--suite", "../x") == ExitCode.BAD_INPUT
    one_error_line(capsys, "--suite")


def test_neither_a_name_nor_a_buildinfo(tmp_path: Path, archive: fake.FakeArchive, capsys) -> None:
    assert debian(tmp_path, archive) == ExitCode.BAD_INPUT
    one_error_line(capsys, "SOURCE")
    assert debian(tmp_path, archive, "Bad_Name") == ExitCode.BAD_INPUT
    one_error_line(capsys, "Bad_Name")


def test_offline_repeats_only_an_earlier_run(tmp_path: Path, archive: fake.FakeArchive, capsys) -> None:
    assert debian(tmp_path, archive, "demo", "--offline") == ExitCode.BAD_INPUT
    one_error_line(capsys, "SOURCE=VERSION")
    assert debian(tmp_path, archive, "demo=1.0", "--offline") == ExitCode.BAD_INPUT
    one_error_line(capsys, "demo-1.0/release.json", "run it once online")


def test_a_binnmu_is_inconclusive_not_different(tmp_path: Path, archive: fake.FakeArchive) -> None:
    text = fake.packages_text(archive.root).replace(b"Package: demo\nVersion: 1.0\n",
                                                    b"Package: demo\nVersion: 1.0+b1\nSource: demo (1.0)\n")
    archive.resign(text)
    s = settings(tmp_path)
    cache = ContentCache(s.cache_dir)
    opened = open_archive(archive.url, "bookworm", "amd64", s, cache, archive.keyring)
    plan = make_plan(DebianRequest("demo", None), opened, None, s, cache)
    assert plan.missing == () and "binNMU changelog entry of demo 1.0+b1" in plan.unavailable[0]


def test_the_build_command_is_buildd_like_and_quotes_what_it_names() -> None:
    command = build_command("demo_1.0.dsc", "demo-1.0", "-A")
    assert "setpriv --reuid=2000 --regid=2000 --clear-groups -- dpkg-buildpackage -us -uc -rfakeroot -A" in command
    assert "dpkg-source --no-check -x demo_1.0.dsc demo-1.0" in command and command.endswith("exit $status")
    assert "'x;reboot'" in build_command("x;reboot", "t", "-b")


def test_the_build_flag_follows_what_is_verified(tmp_path: Path, archive: fake.FakeArchive) -> None:
    s = settings(tmp_path)
    opened = open_archive(archive.url, "bookworm", "amd64", s, ContentCache(s.cache_dir), archive.keyring)
    demo = opened.newest("demo")
    make = opened.newest("make")
    assert demo is not None and make is not None
    assert (build_flag((demo,)), build_flag((make,)), build_flag((demo, make))) == ("-A", "-B", "-b")
