"""Issue 12, step 2: `verifier env check ENV_ARCHIVE ENV_LOCK` rebuilds the environment from
its lock and compares digests: IDENTICAL (exit 0), or DIFFERENT (exit 1) naming each
differing file of the rootfs and the package that owns it.

The published environment is tests/env_real.py's one real build (minbase + hello). The
checks rebuild it with the recorded mmdebstrap run (``replay``: everything after the
mmdebstrap step is real); the lock's own command rebuilding the same bytes for real is
tests/test_env_build.py's, and the podman loop below rebuilds for real once more through
`verify --rebuild-env`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests import env_real
from tests.conftest import require_tool
from tests.env_real import EPOCH, Built
from verifier.cli.app import run
from verifier.environments.lock import load_lock
from verifier.errors import ExitCode

pytestmark = [pytest.mark.network_archive, pytest.mark.slow]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return env_real.published(tmp_path_factory)


@pytest.fixture(scope="module")
def published(shared: Built) -> Path:
    return shared.archive


@pytest.fixture
def replayed(shared: Built, monkeypatch: pytest.MonkeyPatch) -> list:
    """mmdebstrap's step replayed from the shared build; the requests it was asked for."""
    return env_real.replay(shared.recording, monkeypatch)


def check(archive: Path, lock: Path, work: Path) -> int:
    return run(["env", "check", str(archive), str(lock), "--work-dir", str(work), "--allow-private-addresses"])


def plant(source: Path, dest: Path) -> None:
    """A copy of the rootfs with /usr/bin/hello changed, a setuid file and a device node added."""
    plain = subprocess.run(["zstd", "-dc", str(source)], check=True, capture_output=True).stdout
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(plain)) as src, tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as dst:
        for member in src:
            data = src.extractfile(member).read() if member.isfile() else None
            if member.name == "./usr/bin/hello":
                data = data.replace(b"Hello, world!", b"Hello, trust!")
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
        extra = tarfile.TarInfo("./usr/local/bin/helper")
        extra.mode, extra.size, extra.mtime = 0o4755, 3, EPOCH
        dst.addfile(extra, io.BytesIO(b"#!\n"))
        device = tarfile.TarInfo("./usr/lib/console")  # a device node outside /dev: raw memory, say
        device.type, device.mode, device.mtime, device.devmajor, device.devminor = tarfile.CHRTYPE, 0o666, EPOCH, 1, 1
        dst.addfile(device)
    dest.write_bytes(subprocess.run(["zstd", "-q", "-c"], input=out.getvalue(), check=True, capture_output=True).stdout)


def test_the_published_environment_rebuilds_identical(published: Path, tmp_path: Path, replayed: list,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert check(published, published.with_name("env.lock.json"), tmp_path / "work") == ExitCode.OK
    out = capsys.readouterr().out
    assert out.startswith(f"IDENTICAL: {published} is what")
    assert list((tmp_path / "work").iterdir()) == []
    assert replayed == [load_lock(published.with_name("env.lock.json")).request]


def test_a_planted_change_is_different_naming_the_file_and_its_package(published: Path, tmp_path: Path, replayed: list,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    tampered = tmp_path / "tampered.tar.zst"
    plant(published, tampered)
    assert check(tampered, published.with_name("env.lock.json"), tmp_path / "work") == ExitCode.DIFFERENT
    out = capsys.readouterr().out
    assert out.startswith(f"DIFFERENT: {tampered} (sha256 ")
    listed = out.split("the auditor's explanation:")[0]
    assert "  usr/bin/hello  [package: hello]  content differs" in listed
    assert ("  usr/local/bin/helper  [package: no package (made while installing)]  only in the published "
            "archive (file setuid/setgid, mode 4755)") in listed
    assert "  usr/lib/console  [package: no package (made while installing)]  only in the published archive " \
           "(char, mode 0666)" in listed
    assert "files that differ (3)" in listed  # nothing else is named
    assert "  hello=2.10-3 (amd64): files differ from its dpkg md5sums: usr/bin/hello" in listed
    assert "usr/bin/hello" in out.split("the auditor's explanation:")[1]
    assert list((tmp_path / "work").iterdir()) == []


def test_a_lock_naming_a_version_the_archive_lacks_is_one_line_exit_2(published: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(published.with_name("env.lock.json").read_bytes())
    data["request"]["include"] = ["hello=9.9-9"]
    lock = tmp_path / "env.lock.json"
    lock.write_text(json.dumps(data))
    assert check(published, lock, tmp_path / "work") == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert "the archive has no package hello=9.9-9" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("which", ["lock", "archive"])
def test_inputs_that_are_not_a_lock_or_a_rootfs_are_one_line_exit_2(published: Path, tmp_path: Path, which: str,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x28\xb5\x2f\xfd garbage" if which == "archive" else b'{"format": "other"}')
    args = (published, bad) if which == "lock" else (bad, published.with_name("env.lock.json"))
    assert check(*args, tmp_path / "work") == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert str(bad) in err and len(err.strip().splitlines()) == 1
    assert ("not an environment lock" if which == "lock" else "not a readable rootfs tar archive") in err


def test_a_lock_naming_a_minbase_version_the_archive_no_longer_has_is_one_line_exit_2(
        published: Path, tmp_path: Path, replayed: list, capsys: pytest.CaptureFixture[str]) -> None:
    """Every package of the lock is pinned, minbase's own too: a point release is an error
    naming the package and version, never a silently different rebuild."""
    data = json.loads(published.with_name("env.lock.json").read_bytes())
    base_files = next(p for p in data["packages"] if p["name"] == "base-files")
    base_files["version"] = "12.4+deb12u0"
    lock = tmp_path / "env.lock.json"
    lock.write_text(json.dumps(data))
    code = run(["env", "build", "--lockfile", str(lock), "--out", str(tmp_path / "env.tar.zst"),
                "--work-dir", str(tmp_path / "work"), "--allow-private-addresses"])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT, err
    assert "the archive no longer has package base-files=12.4+deb12u0 (it has " in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "env.tar.zst").exists() and list((tmp_path / "work").iterdir()) == []
    assert len(replayed) == 1  # apt installs the candidate when a pinned version is gone; the check names it


def test_verify_rebuild_env_of_a_release_with_a_planted_file_is_different(published: Path, tmp_path: Path,
                                                                          replayed: list) -> None:
    """A release whose environment was built by `env build`, one file planted: `verify
    --rebuild-env` rebuilds the environment with mmdebstrap (the build itself runs in the
    fake sandbox) and the verdict is DIFFERENT, naming the file and its package."""
    from tests.test_pipeline import A, pin, release
    from verifier.cache import ContentCache
    from verifier.environments.step import EnvCheckOptions
    from verifier.pipeline import VerifyOptions, verify
    from verifier.sandbox.fake import FakeBuild, FakeSandbox
    from verifier.settings import FetchLimits, Settings
    from verifier.stages import Verdict

    rel = tmp_path / "rel"
    manifest = release(rel, {"a.txt": A})
    plant(published, rel / "env.tar.zst")
    (rel / "env.lock.json").write_bytes(published.with_name("env.lock.json").read_bytes())
    doc = json.loads(manifest.read_text())
    doc["environment"] = pin(rel / "env.tar.zst", format="rootfs", lock=pin(rel / "env.lock.json"))
    manifest.write_text(json.dumps(doc))
    settings = Settings(cache_dir=tmp_path / "cache", work_dir=tmp_path / "work",
                        fetch=FetchLimits(allow_private_addresses=True))
    outcome = verify(str(manifest), settings, FakeSandbox(settings, FakeBuild({"out/a.txt": A})),
                     ContentCache(settings.cache_dir), VerifyOptions(rebuild_env=EnvCheckOptions()))
    assert outcome.verdict.verdict == Verdict.DIFFERENT, outcome.verdict.reasons
    check = outcome.report.environment_check
    assert check is not None and check.status.value == "DIFFERENT"
    assert [(f.name, f.package, f.change) for f in check.files][0] == ("usr/bin/hello", "hello", "content differs")
    assert {f.name for f in check.files} == {"usr/bin/hello", "usr/local/bin/helper", "usr/lib/console"}
    assert "usr/bin/hello [package: hello] content differs" in outcome.verdict.reasons[0]


@pytest.mark.podman
def test_publish_with_its_lock_then_verify_rebuild_env_is_reproducible(shared: Built, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole loop: `publish --env-packages` builds the environment by `env build` (its
    mmdebstrap step replayed: it must ask for exactly the shared build's request) and puts
    its lock into the release (`--env ARCHIVE --env-lock LOCK` is tests/test_rebuild_env.py's);
    `verify --rebuild-env` rebuilds the environment for real (mmdebstrap, .debs from a warm
    package cache) and the build (podman, network off): REPRODUCIBLE, REBUILT-IDENTICAL."""
    require_tool("podman")
    (tmp_path / "greeting.txt").write_text("source\n")
    shutil.copytree(shared.cache, tmp_path / "cache", copy_function=os.link)  # warm: the shared build's .debs
    common = ["--cache-dir", str(tmp_path / "cache"), "--work-dir", str(tmp_path / "work")]
    with monkeypatch.context() as patch:
        asked = env_real.replay(shared.recording, patch)
        assert run(["publish", "--env-packages", "hello=2.10-3", "--allow-private-addresses",
                    "--copy-source", str(tmp_path / "greeting.txt"), "--build", "mkdir out && hello > out/hello.txt",
                    "--output", "out/*", "--source-date-epoch", str(EPOCH), "--out", str(tmp_path / "rel"),
                    *common]) == ExitCode.OK
    assert asked == [shared.recording.request], "the same pins and SOURCE_DATE_EPOCH as the shared build"
    manifest = json.loads((tmp_path / "rel" / "release.json").read_text())
    assert manifest["environment"]["lock"]["url"] == "environment/env.lock.json"
    assert manifest["environment"]["sha256"] == hashlib.sha256(shared.archive.read_bytes()).hexdigest()
    report = tmp_path / "report.json"
    code = run(["verify", str(tmp_path / "rel" / "release.json"), "--rebuild-env", "--allow-private-addresses",
                "--report", str(report), *common])
    doc = json.loads(report.read_text())
    assert code == ExitCode.OK, doc["reasons"]
    assert doc["verdict"] == "REPRODUCIBLE" and doc["environment_check"]["status"] == "REBUILT-IDENTICAL"
    print(f"verify --rebuild-env (warm package cache): environment check "
          f"{doc['timings']['environment_check']:.1f} s, total {doc['timings']['total']:.1f} s")
