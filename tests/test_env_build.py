"""Issue 12, step 1: `verifier env build` makes a reproducible Debian rootfs from an exact
package list, authenticated through the archive's signed chain, with its env.lock.json.

The builds reach the real archive through this machine's apt sources (minbase + hello,
about 20 s each); the archive may be a mirror on a private address, hence
--allow-private-addresses.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from tests.conftest import require_tool
from verifier.cli.app import run
from verifier.environments.lock import load_lock
from verifier.environments.rootfs import normalisation_problems, read_rootfs
from verifier.errors import ExitCode
from verifier.settings import UnpackLimits

PACKAGES = "hello=2.10-3"
EPOCH = 1700000000


def build(out: Path, work: Path, *extra: str) -> int:
    return run(["env", "build", "--out", str(out), "--work-dir", str(work), "--allow-private-addresses", *extra])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tool("mmdebstrap")
    require_tool("gpgv")
    base = tmp_path_factory.mktemp("env-a")
    assert build(base / "env.tar.zst", base / "work", "--packages", PACKAGES,
                 "--source-date-epoch", str(EPOCH)) == 0
    return base / "env.tar.zst"


@pytest.mark.network_archive
@pytest.mark.slow
def test_building_twice_in_other_dirs_at_other_times_gives_the_same_bytes(built: Path, tmp_path: Path) -> None:
    time.sleep(1.1)  # another second: any timestamp left unclamped would show
    again = tmp_path / "elsewhere" / "env.tar.zst"
    assert build(again, tmp_path / "other-work", "--packages", PACKAGES, "--source-date-epoch", str(EPOCH)) == 0
    assert digest(again) == digest(built)
    first, second = load_lock(built.with_name("env.lock.json")), load_lock(again.with_name("env.lock.json"))
    assert first == second
    assert first.env_sha256 == digest(built)
    assert list((tmp_path / "other-work").iterdir()) == []  # the build's work directory is gone


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


def test_a_lock_with_a_hostile_pin_is_refused_before_any_build(built: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(built.with_name("env.lock.json").read_bytes())
    data["request"]["include"] = ["hello=2.10-3 --customize-hook=touch /tmp/x"]
    lock = tmp_path / "env.lock.json"
    lock.write_text(json.dumps(data))
    assert build(tmp_path / "env.tar.zst", tmp_path / "work", "--lockfile", str(lock)) == ExitCode.BAD_INPUT
    assert "is not an exact package pin NAME=VERSION" in capsys.readouterr().err
