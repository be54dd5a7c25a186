"""Issue 12, step 1: `verifier env build` makes a reproducible Debian rootfs from an exact
package list, authenticated through the archive's signed chain, with its env.lock.json.

The builds reach the real archive through this machine's apt sources (minbase + hello);
the archive may be a mirror on a private address, hence --allow-private-addresses. One
real build is shared with tests/test_env_check.py (tests/env_real.py); this module makes
one more, from the lock's own rebuild command, elsewhere and later.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.env_real import EPOCH, PACKAGES, Built, published, replay
from verifier.cli.app import run
from verifier.environments import build as build_module
from verifier.environments.build import PackageCache, deb_name
from verifier.environments.lock import load_lock
from verifier.environments.rootfs import normalisation_problems, read_rootfs
from verifier.errors import ExitCode
from verifier.settings import UnpackLimits


def build(out: Path, work: Path, *extra: str) -> int:
    return run(["env", "build", "--out", str(out), "--work-dir", str(work), "--allow-private-addresses", *extra])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return published(tmp_path_factory)


@pytest.fixture(scope="module")
def built(shared: Built) -> Path:
    return shared.archive


@pytest.mark.network_archive
@pytest.mark.slow
def test_the_locks_own_command_rebuilds_the_same_bytes_elsewhere_and_later(
        shared: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's "build twice" (other work dir, other time), by the very command the lock
    records, run where the lock lies: without a package cache, where the first build filled
    one (and the podman loop of tests/test_env_check.py rebuilds from a warm one), so the
    bytes are shown not to depend on the cache either."""
    time.sleep(1.1)  # another second: any timestamp left unclamped would show
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copyfile(shared.lock, elsewhere / "env.lock.json")
    command = shlex.split(load_lock(shared.lock).command)
    assert command[:3] == ["verifier", "env", "build"]
    monkeypatch.chdir(elsewhere)
    assert run([*command[1:], "--work-dir", str(tmp_path / "other-work"), "--allow-private-addresses"]) == 0
    assert digest(elsewhere / "env.tar.zst") == digest(shared.archive)
    first, second = load_lock(shared.lock), load_lock(elsewhere / "env.lock.json")
    assert first == second
    assert first.env_sha256 == digest(shared.archive)
    assert list((tmp_path / "other-work").iterdir()) == []  # the build's work directory is gone


@pytest.mark.network_archive
@pytest.mark.slow
def test_the_package_cache_keeps_every_locked_deb_and_a_rebuild_takes_them_from_it(
        shared: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--cache-dir (17892d9): the first build kept every installed .deb named by its digest;
    a rebuild from the lock hands mmdebstrap each of them, re-hashed, under apt's file name."""
    lock = load_lock(shared.lock)
    cache = shared.cache / "sha256"
    assert all((cache / p.sha256[:2] / p.sha256).is_file() for p in lock.packages)
    staged: dict[str, str] = {}
    asked = replay(shared.recording, monkeypatch)
    stage = build_module._stage

    def watching(packages: PackageCache | None, work: Path) -> Path | None:
        debs = stage(packages, work)
        staged.update({p.name: digest(p) for p in (debs.iterdir() if debs else ())})
        return debs

    monkeypatch.setattr(build_module, "_stage", watching)
    assert build(tmp_path / "env.tar.zst", tmp_path / "work", "--lockfile", str(shared.lock),
                 "--cache-dir", str(shared.cache)) == 0
    assert asked == [lock.request]
    assert staged == {deb_name(p): p.sha256 for p in lock.packages}
    assert digest(tmp_path / "env.tar.zst") == digest(shared.archive)


@pytest.mark.network_archive
@pytest.mark.slow
def test_the_lock_records_packages_release_chain_and_rebuild_command(built: Path) -> None:
    lock = load_lock(built.with_name("env.lock.json"))
    by_name = {p.name: p for p in lock.packages}
    assert by_name["hello"].version == "2.10-3"
    assert {"dpkg", "apt", "base-files", "libc6"} <= by_name.keys()  # minbase, every package listed
    assert all(len(p.sha256) == 64 and p.architecture for p in lock.packages)
    assert lock.request.source_date_epoch == EPOCH and [str(p) for p in lock.request.include] == [PACKAGES]
    assert lock.release.signed_by and all(len(f) == 40 for f in lock.release.signed_by)
    assert lock.release.date and len(lock.release.sha256) == 64
    assert lock.command == "verifier env build --lockfile env.lock.json --out env.tar.zst"
    assert lock.request.archive.startswith("http")


@pytest.mark.network_archive
@pytest.mark.slow
def test_the_archive_is_normalised(built: Path) -> None:
    rootfs = read_rootfs(built, UnpackLimits())
    assert normalisation_problems(rootfs, EPOCH) == []
    assert max(m.mtime for m in rootfs.members.values()) <= EPOCH
    assert rootfs.members.get("etc/machine-id") is None or rootfs.members["etc/machine-id"].size == 0
    assert not [n for n, m in rootfs.members.items() if n.startswith("var/lib/apt/lists/") and m.size]
    assert rootfs.owners["/usr/bin/hello"] == ("hello",)
    # pytest's directories are 0700: apt's _apt could not reach them and downloaded as root,
    # yet apt's partial directories belong to _apt (42) as in any other build
    assert [rootfs.members[d].uid for d in ("var/lib/apt/lists/partial/", "var/cache/apt/archives/partial/")] == [42, 42]


@pytest.mark.network_archive
@pytest.mark.slow
def test_normalisation_names_what_depends_on_the_build(built: Path) -> None:
    rootfs = read_rootfs(built, UnpackLimits())
    assert normalisation_problems(rootfs, EPOCH - 1)[0].endswith(f"is after SOURCE_DATE_EPOCH {EPOCH - 1}")


@pytest.mark.network_archive
@pytest.mark.slow
def test_a_version_the_archive_lacks_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_tool("mmdebstrap")
    code = build(tmp_path / "env.tar.zst", tmp_path / "work", "--packages", "hello=9.9-9",
                 "--source-date-epoch", str(EPOCH))
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT
    assert "the archive has no package hello=9.9-9" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "env.tar.zst").exists() and list((tmp_path / "work").iterdir()) == []


@pytest.mark.parametrize(("args", "says"), [
    (["--packages", "hello", "--source-date-epoch", "1"], "'hello' is not an exact package pin NAME=VERSION"),
    (["--packages", "hello=1,hello=2", "--source-date-epoch", "1"], "package 'hello' is pinned more than once"),
    (["--packages", "hello=2.10-3"], "--source-date-epoch N (N >= 0) is required"),
    ([], "give --packages LIST or --lockfile FILE"),
])
def test_bad_package_lists_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               args: list[str], says: str) -> None:
    assert build(tmp_path / "env.tar.zst", tmp_path / "work", *args) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("content", "says"), [
    (b"\x00\xffnot json", "not an environment lock (not JSON"),
    (b'{"format": "verifier-lock", "version": 1}', 'not an environment lock (no "format": "verifier-env-lock")'),
    (b'{"format": "verifier-env-lock", "version": 2}', "version is not 1"),
    (b'{"format": "verifier-env-lock", "version": 1, "tools": {}, "request": []}', "request is missing or not dict"),
    (b"[NaN]", "not an environment lock (not JSON"),
])
def test_a_lock_that_is_not_a_lock_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      content: bytes, says: str) -> None:
    lock = tmp_path / "env.lock.json"
    lock.write_bytes(content)
    assert build(tmp_path / "env.tar.zst", tmp_path / "work", "--lockfile", str(lock)) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert says in err and str(lock) in err and len(err.strip().splitlines()) == 1


@pytest.mark.network_archive
@pytest.mark.slow
def test_a_lock_with_a_hostile_pin_is_refused_before_any_build(built: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(built.with_name("env.lock.json").read_bytes())
    data["request"]["include"] = ["hello=2.10-3 --customize-hook=touch /tmp/x"]
    lock = tmp_path / "env.lock.json"
    lock.write_text(json.dumps(data))
    assert build(tmp_path / "env.tar.zst", tmp_path / "work", "--lockfile", str(lock)) == ExitCode.BAD_INPUT
    assert "is not an exact package pin NAME=VERSION" in capsys.readouterr().err
