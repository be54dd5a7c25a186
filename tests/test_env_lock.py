"""Issue 12 without the archive: the env lock round trip, the package drift `env check`
names (a package added, missing, at another version, or with another .deb digest), the
installed packages of a dpkg status file, and the differing members with their owners."""

from __future__ import annotations

from pathlib import Path

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
