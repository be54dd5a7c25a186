"""One real `env build` shared by the real environment tests (tests/test_env_build.py,
tests/test_env_check.py), and a replay of its mmdebstrap run.

A real build of minbase + hello takes 20-60 s on a 2-core CI machine: the tests share one
(``published``: cold package cache, which it fills) and make at most two more real ones
(the lock's own rebuild command, and `verify --rebuild-env` in the podman loop). The other
checks (a planted file, a point release, the `env check` output) need an environment
rebuilt from the lock, which is the published one's bytes: ``replay`` stands in for the
mmdebstrap step only, handing back what the real run produced (its rootfs tar, its apt
lists, its dpkg-query output), so compression, normalisation checks, the signed-index
reading, the version and digest checks and the comparison still run for real. It refuses
any request other than the recorded one (another suite, mirror, epoch or pins would have
built something else).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_tool
from verifier.cli.app import run
from verifier.environments import build as build_module
from verifier.environments.lock import EnvRequest, Pin

PACKAGES = "hello=2.10-3"
EPOCH = 1700000000


@dataclass(frozen=True)
class Recording:
    """What the real mmdebstrap run left in its work directory."""

    request: EnvRequest
    root: Path  # rootfs.tar, lists/, installed.tsv


@dataclass(frozen=True)
class Built:
    archive: Path  # env.tar.zst
    lock: Path  # env.lock.json beside it
    cache: Path  # the package cache the build filled (--cache-dir)
    recording: Recording


_BUILT: list[Built] = []  # one real build per test session, shared by the modules
_FAILED: list[str] = []  # or why it failed: not retried by every test that needs it


def published(factory: pytest.TempPathFactory) -> Built:
    """The environment every real test starts from, built once per session."""
    if _BUILT:
        return _BUILT[0]
    if _FAILED:
        pytest.fail(f"the shared environment build failed earlier in this session: {_FAILED[0]}")
    require_tool("mmdebstrap")
    require_tool("gpgv")
    base = factory.mktemp("published")
    record = base / "mmdebstrap-run"
    seen: list[EnvRequest] = []
    real = build_module._mmdebstrap

    def recording(request: EnvRequest, work: Path, versions: tuple[Pin, ...] = (), debs: Path | None = None) -> Path:
        tar = real(request, work, versions, debs)
        record.mkdir()
        shutil.copytree(work / "lists", record / "lists")
        shutil.copyfile(work / "installed.tsv", record / "installed.tsv")
        shutil.copyfile(tar, record / "rootfs.tar")
        seen.append(request)
        return tar

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build_module, "_mmdebstrap", recording)
        code = run(["env", "build", "--packages", PACKAGES, "--source-date-epoch", str(EPOCH),
                    "--out", str(base / "env.tar.zst"), "--work-dir", str(base / "work"),
                    "--cache-dir", str(base / "cache"), "--allow-private-addresses"])
    if code != 0:
        _FAILED.append(f"verifier env build exited {code}")
        pytest.fail(_FAILED[0])
    built = Built(base / "env.tar.zst", base / "env.lock.json", base / "cache", Recording(seen[0], record))
    _BUILT.append(built)
    return built


def replay(recording: Recording, patch: pytest.MonkeyPatch) -> list[EnvRequest]:
    """mmdebstrap replaced by the recorded run; returns the requests it was asked for."""
    asked: list[EnvRequest] = []

    def replayed(request: EnvRequest, work: Path, versions: tuple[Pin, ...] = (), debs: Path | None = None) -> Path:
        asked.append(request)
        assert request == recording.request, "the replay only stands for the recorded request"
        shutil.copytree(recording.root / "lists", work / "lists")
        shutil.copyfile(recording.root / "installed.tsv", work / "installed.tsv")
        shutil.copyfile(recording.root / "rootfs.tar", work / "rootfs.tar")
        return work / "rootfs.tar"

    patch.setattr(build_module, "_mmdebstrap", replayed)
    return asked

