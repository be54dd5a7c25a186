"""The sandbox's own files under the cache root (podman's HOME, the runtime decision) are
never reached through a planted symlink (issue 14, defect 5, beyond the blob store)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifier.cache_fs import CacheTampered
from verifier.errors import ExitCode
from verifier.sandbox import runtime
from verifier.settings import Settings


def test_a_planted_podman_home_link_is_refused(settings: Settings, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    settings.cache_dir.mkdir(parents=True)
    (settings.cache_dir / runtime.PODMAN_HOME).symlink_to(elsewhere)
    with pytest.raises(CacheTampered) as caught:
        runtime._podman_home(settings)
    assert caught.value.exit_code == ExitCode.INTEGRITY
    assert str(settings.cache_dir / runtime.PODMAN_HOME) in caught.value.message


def test_podman_home_is_made_as_a_real_directory(settings: Settings) -> None:
    home = runtime._podman_home(settings)
    assert home.is_dir() and not home.is_symlink()


def test_a_runtime_decision_behind_a_link_is_not_read(settings: Settings, tmp_path: Path) -> None:
    decision = {"podman_version": "4.3.1", "name": "evil", "reason": "planted"}
    planted = tmp_path / "planted.json"
    planted.write_text(json.dumps(decision))
    settings.cache_dir.mkdir(parents=True)
    link = settings.cache_dir / runtime.PROBE_FILE
    link.symlink_to(planted)
    assert runtime._read_cached(link, "4.3.1") is None
    link.unlink()
    link.write_text(json.dumps(decision))
    assert runtime._read_cached(link, "4.3.1").name == "evil"  # the same bytes, as a plain file, are read
