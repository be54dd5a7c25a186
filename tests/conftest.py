"""Shared fixtures. Plug-in fixture modules live beside this file (tests/fixtures_*.py)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from verifier.settings import Settings

pytest_plugins = [m for m in ("tests.fixtures_http", "tests.fixtures_sandbox") if (Path(__file__).parent / (m.split(".")[1] + ".py")).exists()]

REQUIRE_TOOLS = os.environ.get("VERIFIER_REQUIRE_TOOLS") == "1" or os.environ.get("CI") == "true"


def require_tool(name: str) -> str:
    """Path of tool ``name``; a missing tool fails the test in CI and skips it elsewhere."""
    path = shutil.which(name)
    if path:
        return path
    message = f"required tool {name!r} is not installed (scripts/setup.sh installs it)"
    if REQUIRE_TOOLS:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Per-test dirs and a per-test build label, so a test only ever sees the containers it started."""
    return Settings(cache_dir=tmp_path / "cache", work_dir=tmp_path / "work", build_label=f"test-{secrets.token_hex(8)}")


def _busybox_rootfs(target: Path) -> Path:
    """A tiny rootfs: a static busybox and its applet links, packed reproducibly by GNU tar."""
    busybox = Path("/bin/busybox")
    if not busybox.exists():
        require_tool("busybox")
    root = target / "rootfs"
    (root / "bin").mkdir(parents=True)
    for d in ("tmp", "etc", "build", "proc", "sys", "dev"):
        (root / d).mkdir()
    shutil.copy2(busybox, root / "bin" / "busybox")
    applets = subprocess.run([str(busybox), "--list"], check=True, capture_output=True, text=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    archive = target / "busybox-rootfs.tar"
    subprocess.run(
        ["tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner",
         "-C", str(root), "-cf", str(archive), "."],
        check=True,
    )
    return archive


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a busybox rootfs tar (under 2 MB) for fast sandbox tests."""
    return _busybox_rootfs(tmp_path_factory.mktemp("busybox"))


@pytest.fixture(scope="session")
def debian_build_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Debian bookworm minbase rootfs with gcc and make, built by mmdebstrap (about a minute).

    Set VERIFIER_TEST_ENV_CACHE to a directory to reuse the archive across test runs."""
    require_tool("mmdebstrap")
    cache = os.environ.get("VERIFIER_TEST_ENV_CACHE")
    target_dir = Path(cache) if cache else tmp_path_factory.mktemp("debian-env")
    target_dir.mkdir(parents=True, exist_ok=True)
    archive = target_dir / "debian-bookworm-build-env.tar.zst"
    if not archive.exists():
        script = Path(__file__).parent.parent / "scripts" / "make-debian-env.sh"
        subprocess.run(["bash", str(script), str(archive), "gcc,libc6-dev,make"], check=True)
    return archive
