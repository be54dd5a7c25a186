"""Issue 12 without the archive: the env lock round trip, the package drift `env check`
names (a package added, missing, at another version, or with another .deb digest), the
installed packages of a dpkg status file, and the differing members with their owners."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifier.cli.app import run
from verifier.environments.check import dpkg_status, file_differences, package_drift
from verifier.environments.lock import (
    EnvLock,
    EnvRequest,
    InstalledPackage,
    Pin,
    ReleaseRecord,
    load_lock,
    lock_json,
)
from verifier.environments.rootfs import Member, Rootfs
from verifier.errors import ExitCode, InputError
from verifier.printable import one_line

A, B = "a" * 64, "b" * 64


def test_a_lock_reads_back_as_written(tmp_path: Path) -> None:
    lock = EnvLock(EnvRequest("bookworm", "http://mirror.invalid/debian", "minbase", "amd64", 1700000000,
                              (Pin("hello", "2.10-3"),)),
                   ReleaseRecord("InRelease", A, "Sat, 11 Jul 2026 10:16:37 UTC", ("F" * 40,), "/k.gpg"),
                   (InstalledPackage("hello", "2.10-3", "amd64", B),), A, (("mmdebstrap", "1.3.5"),),
                   "verifier env build --lockfile env.lock.json --out env.tar.zst")
    path = tmp_path / "env.lock.json"
    path.write_bytes(lock_json(lock))
    assert load_lock(path) == lock


def test_package_drift_names_added_missing_other_version_and_other_digest() -> None:
    locked = (InstalledPackage("hello", "2.10-3", "amd64", A), InstalledPackage("dash", "0.5.12-2", "amd64", A),
              InstalledPackage("bash", "5.2.15-2+b13", "amd64", A), InstalledPackage("gzip", "1.12-1", "amd64", A))
    found = (InstalledPackage("hello", "2.10-3", "amd64", B), InstalledPackage("bash", "5.2.15-2+b14", "amd64", A),
             InstalledPackage("gzip", "1.12-1", "amd64", A), InstalledPackage("netcat", "1.0", "amd64", A))
    assert package_drift(locked, found, "the published rootfs") == (
        "bash (amd64): the lock says 5.2.15-2+b13, the published rootfs has 5.2.15-2+b14",
        "dash=0.5.12-2 (amd64): in the lock, not in the published rootfs",
        "hello=2.10-3 (amd64): the .deb's sha256 differs from the lock's",
        "netcat=1.0 (amd64): in the published rootfs, not in the lock",
    )


def test_dpkg_status_lists_installed_packages_only() -> None:
    status = (b"Package: hello\nStatus: install ok installed\nVersion: 2.10-3\nArchitecture: amd64\n"
              b"Description: x\n multi\n\n"
              b"Package: gone\nStatus: deinstall ok config-files\nVersion: 1\nArchitecture: all\n")
    assert dpkg_status(status) == (InstalledPackage("hello", "2.10-3", "amd64", ""),)


def test_differing_members_are_named_with_their_owner() -> None:
    def member(sha: str = A, mode: int = 0o755, uid: int = 0, kind: str = "file") -> Member:
        return Member(kind, mode, uid, 0, 1700000000, 10, sha, "")

    rebuilt = Rootfs({"usr/bin/hello": member(), "usr/bin/su": member(), "etc/": member(kind="dir")},
                     {"/usr/bin/hello": ("hello",), "/usr/bin/su": ("login",)}, b"")
    published = Rootfs({"usr/bin/hello": member(B), "usr/bin/su": member(mode=0o4755, uid=1),
                        "etc/": member(kind="dir"), "usr/local/bin/x": member(mode=0o6755)}, {}, b"")
    assert [(d.name, d.package, d.what) for d in file_differences(published, rebuilt)] == [
        ("usr/bin/hello", "hello", "content differs"),
        ("usr/bin/su", "login", "mode 4755 -> 0755 (setuid/setgid), owner 1:0 -> 0:0"),
        ("usr/local/bin/x", "no package (made while installing)",
         "only in the published archive (file setuid/setgid, mode 6755)"),
    ]


def test_a_plain_pin_list_is_told_from_a_lock(tmp_path: Path) -> None:
    from verifier.environments.lock import is_pin_list, load_pin_list

    listed = tmp_path / "pins.txt"
    listed.write_text("# build deps\nhello=2.10-3\n\nlibc6=2.36-9+deb12u13  # essential\n")
    assert is_pin_list(listed)
    assert load_pin_list(listed) == (Pin("hello", "2.10-3"), Pin("libc6", "2.36-9+deb12u13"))
    for content in (b"\x00\xffnot json", b"[NaN]", b'{"format": "x"}', b"", b"hello\n"):
        listed.write_bytes(content)
        assert not is_pin_list(listed), content


def test_the_package_cache_gives_back_only_what_the_lock_names_and_keeps_only_indexed_debs(tmp_path: Path) -> None:
    """The .deb cache is content-addressed: a .deb goes in only when its digest is one the
    signed index gave an installed package, and comes out only under a digest the lock
    names, re-hashed (apt itself only checks a cached .deb's size)."""
    import hashlib

    import pytest

    from verifier.cache import ContentCache
    from verifier.environments.build import PackageCache, _keep, _stage, deb_name
    from verifier.errors import IntegrityError

    cache = ContentCache(tmp_path / "cache")
    good, other = b"!<arch>\ngood deb", b"!<arch>\nunlisted deb"
    good_sha = hashlib.sha256(good).hexdigest()
    synced = tmp_path / "synced"
    synced.mkdir()
    (synced / "hello_2.10-3_amd64.deb").write_bytes(good)
    (synced / "evil_1_amd64.deb").write_bytes(other)
    installed = (InstalledPackage("hello", "2.10-3", "amd64", good_sha),)
    _keep(PackageCache(cache), synced, installed)
    assert cache.has(good_sha) and not cache.has(hashlib.sha256(other).hexdigest())

    epoch = InstalledPackage("hello", "1:2.10-3", "amd64", good_sha)
    work = tmp_path / "work"
    work.mkdir()
    staged = _stage(PackageCache(cache, (epoch, InstalledPackage("gone", "1", "all", B))), work)
    assert staged is not None and [p.name for p in staged.iterdir()] == [deb_name(epoch)] == ["hello_1%3a2.10-3_amd64.deb"]
    assert (staged / deb_name(epoch)).read_bytes() == good

    cache.entry_path(good_sha).write_bytes(b"!<arch>\nswapped!")  # same size, other bytes: a poisoned cache
    again = tmp_path / "again"
    again.mkdir()
    with pytest.raises(IntegrityError):
        _stage(PackageCache(cache, (epoch,)), again)
    assert not cache.has(good_sha), "the corrupt entry is removed"


def test_every_locked_version_is_pinned_and_a_missing_one_is_named() -> None:
    import pytest

    from verifier.environments.build import PinUnavailable, _check_versions, exact_versions, preferences
    from verifier.errors import ExitCode

    include = (Pin("hello", "2.10-3"),)
    locked = (Pin("base-files", "12.4+deb12u11"), Pin("hello", "2.10-3"))
    assert exact_versions(include, locked) == locked
    assert exact_versions(include, ()) == include, "the include pins are exact versions too"
    assert preferences((Pin("libc6", "2.36-9+deb12u13"),)) == \
        "Package: libc6\nPin: version 2.36-9+deb12u13\nPin-Priority: 1001\n\n"
    request = EnvRequest("bookworm", "http://mirror.invalid/debian", "minbase", "amd64", 1, include)
    installed = (InstalledPackage("base-files", "12.4+deb12u12", "amd64", A), InstalledPackage("hello", "2.10-3", "amd64", A))
    index = {("base-files", "12.4+deb12u12", "amd64"): None, ("hello", "2.10-3", "amd64"): None}
    with pytest.raises(PinUnavailable) as error:
        _check_versions(locked, installed, index, request)
    assert str(error.value) == ("http://mirror.invalid/debian bookworm: the archive no longer has package "
                                "base-files=12.4+deb12u11 (it has 12.4+deb12u12)")
    assert error.value.exit_code == ExitCode.BAD_INPUT
    _check_versions(include, installed, index, request)  # what is pinned is installed: no error


def test_a_locked_package_whose_deb_digest_changed_is_an_integrity_error() -> None:
    import pytest

    from verifier.environments.build import _check_digests
    from verifier.errors import ExitCode, IntegrityError

    request = EnvRequest("bookworm", "http://mirror.invalid/debian", "minbase", "amd64", 1, ())
    locked = (InstalledPackage("hello", "2.10-3", "amd64", A),)
    _check_digests(locked, locked, request)
    with pytest.raises(IntegrityError) as error:
        _check_digests(locked, (InstalledPackage("hello", "2.10-3", "amd64", B),), request)
    assert error.value.exit_code == ExitCode.INTEGRITY
    assert str(error.value) == (f"http://mirror.invalid/debian bookworm: hello=2.10-3 (amd64): the signed index gives "
                                f"its .deb sha256 {B}, the lock records {A}")


def _hostile(tmp_path: Path, change) -> Path:
    lock = EnvLock(EnvRequest("bookworm", "http://mirror.invalid/debian", "minbase", "amd64", 1700000000,
                              (Pin("hello", "2.10-3"),)),
                   ReleaseRecord("InRelease", A, "Sat, 11 Jul 2026 10:16:37 UTC", ("F" * 40,), "/k.gpg"),
                   (InstalledPackage("hello", "2.10-3", "amd64", B),), A, (("mmdebstrap", "1.3.5"),),
                   "verifier env build --lockfile env.lock.json --out env.tar.zst")
    data = json.loads(lock_json(lock))
    change(data)
    path = tmp_path / "env.lock.json"
    path.write_text(json.dumps(data))
    return path


INJECTED = "http://mirror.invalid/debian bookworm main\ndeb [trusted=yes] http://evil.invalid/debian bookworm main\n#"


@pytest.mark.parametrize(("change", "says"), [
    (lambda d: d["request"].update(archive=INJECTED), "request.archive is not a plain http(s) mirror URL"),
    (lambda d: d["request"].update(archive="http://mirror.invalid/debian --keyring=/tmp/k"),
     "request.archive is not a plain http(s) mirror URL"),
    (lambda d: d["packages"].append(dict(d["packages"][0], sha256=A)), "packages list hello (amd64) more than once"),
    (lambda d: d["packages"].append(dict(d["packages"][0], name="-oAPT::Get::AllowUnauthenticated=1")),
     "packages[1].name has an invalid value"),
    (lambda d: d["packages"].append(dict(d["packages"][0], name="evil\nPin: release *")),
     "packages[1].name has an invalid value"),
    (lambda d: d["request"].update(include=["hello=2.10-3\nPackage: *"]), "is not an exact package pin"),
    (lambda d: d["request"].update(include=["-oDebug=1=1"]), "is not an exact package pin"),
])
def test_a_hostile_lock_is_refused_naming_the_file_and_field(tmp_path: Path, change, says: str) -> None:
    path = _hostile(tmp_path, change)
    with pytest.raises(InputError) as error:
        load_lock(path)
    assert says in str(error.value) and str(path) in str(error.value)
    assert "\n" not in one_line(str(error.value))


def test_env_build_refuses_a_hostile_archive_before_mmdebstrap_runs(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """--archive with sources.list lines in it would give mmdebstrap a [trusted=yes] source."""
    code = run(["env", "build", "--packages", "hello=2.10-3", "--source-date-epoch", "1", "--archive", INJECTED,
                "--out", str(tmp_path / "env.tar.zst"), "--work-dir", str(tmp_path / "work")])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT
    assert "--archive: not a plain http(s) mirror URL" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "work").exists() and not (tmp_path / "env.tar.zst").exists()


@pytest.mark.parametrize("target", ["dir", "device", "same"])
def test_env_build_refuses_an_out_or_lock_it_must_not_replace_before_building(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str) -> None:
    """Checked before the build (a minute), not after: a directory, a device node (as root,
    --out /dev/null would replace it), or the lock written over the archive."""
    out = {"dir": tmp_path, "device": Path("/dev/null"), "same": tmp_path / "env.tar.zst"}[target]
    lock = ["--lock", str(out)] if target == "same" else []
    code = run(["env", "build", "--packages", "hello=2.10-3", "--source-date-epoch", "1", "--out", str(out),
                *lock, "--archive", "http://mirror.invalid/debian", "--work-dir", str(tmp_path / "work")])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT, err
    assert str(out) in err and len(err.strip().splitlines()) == 1
    assert ("would be the same file" if target == "same" else "is not a regular file") in err
    assert Path("/dev/null").is_char_device() and not (tmp_path / "work").exists()


def test_a_source_date_epoch_no_tool_takes_is_one_line_exit_2(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """From a lock or the command line: refused before the build, not a failed mmdebstrap."""
    path = _hostile(tmp_path, lambda d: d["request"].update(source_date_epoch=10**20))
    with pytest.raises(InputError, match="request.source_date_epoch is not between 0 and 253402300799"):
        load_lock(path)
    code = run(["env", "build", "--packages", "hello=2.10-3", "--source-date-epoch", str(10**12),
                "--archive", "http://mirror.invalid/debian", "--out", str(tmp_path / "env.tar.zst"),
                "--work-dir", str(tmp_path / "work")])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT, err
    assert f"--source-date-epoch: {10**12} is not between 0" in err and len(err.strip().splitlines()) == 1
