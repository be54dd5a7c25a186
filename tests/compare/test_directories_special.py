"""Devices, FIFOs, sockets and symlinks inside compared directories: compared by metadata,
never opened (SECURITY.md rule 5); each side labelled with what it really is."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.compare.conftest import fields
from verifier.compare.api import compare_paths
from verifier.compare.engine import compare_sides
from verifier.compare.interface import CompareContext, Side
from verifier.settings import Settings

CLI = "import sys; from verifier.cli.app import run; sys.exit(run(sys.argv[1:]))"
ROOT = Path(__file__).parent.parent.parent


def _cli(*args: str, memory: int = 1_500_000_000, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`verifier ARGS` in a child bounded in address space and wall time (a hang or a device read fails fast)."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    return subprocess.run([sys.executable, "-c", CLI, *args], capture_output=True, text=True, cwd=ROOT,
                          preexec_fn=limit, timeout=timeout, check=False)


@pytest.fixture
def alarm() -> Iterator[None]:
    """Fail instead of hanging forever on a blocking open."""
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError("blocked on a special file")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _pair_dirs(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    return a, b


def test_a_device_node_is_compared_by_metadata_never_read(tmp_path: Path) -> None:
    a, b = _pair_dirs(tmp_path)
    try:
        os.mknod(a / "z", 0o644 | 0o020000, os.makedev(1, 5))  # /dev/zero: endless bytes
    except PermissionError:
        pytest.skip("no CAP_MKNOD here")
    os.chmod(a / "z", 0o644)
    (b / "z").write_text("x\n")
    done = _cli("compare", str(a), str(b))
    assert done.returncode == 1, done.stderr
    assert "type: chr → reg" in done.stdout and "device: 1:5 → none" in done.stdout


def test_device_numbers_and_modes_are_the_difference(tmp_path: Path, cfg: Settings, alarm: None) -> None:
    a, b = _pair_dirs(tmp_path)
    try:
        # unregistered numbers: even code that opened them would fail, never read endless bytes
        os.mknod(a / "z", 0o600 | 0o020000, os.makedev(240, 5))
        os.mknod(b / "z", 0o600 | 0o020000, os.makedev(240, 3))
        os.mknod(a / "same", 0o600 | 0o060000, os.makedev(241, 0))
        os.mknod(b / "same", 0o600 | 0o060000, os.makedev(241, 0))
        for node in (a / "z", b / "z", a / "same", b / "same"):
            os.chmod(node, 0o600)
    except PermissionError:
        pytest.skip("no CAP_MKNOD here")
    diff = compare_paths(a, b, cfg).difference
    assert diff is not None
    assert fields(diff) == {"device": "-240:5\n+240:3\n"}


def test_a_fifo_never_blocks(tmp_path: Path) -> None:
    a, b = _pair_dirs(tmp_path)
    os.mkfifo(a / "p")
    (b / "p").write_text("x\n")
    done = _cli("compare", str(a), str(b), timeout=30)
    assert done.returncode == 1, done.stderr
    assert "type: fifo → reg" in done.stdout


def test_two_equal_fifos_and_sockets_are_identical(tmp_path: Path, cfg: Settings, alarm: None) -> None:
    a, b = _pair_dirs(tmp_path)
    for side in (a, b):
        os.mkfifo(side / "p")
        os.chmod(side / "p", 0o640)
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(side / "s"))
        os.chmod(side / "s", 0o755)
    assert compare_paths(a, b, cfg).identical
    os.chmod(b / "p", 0o600)
    diff = compare_paths(a, b, cfg).difference
    assert diff is not None
    assert fields(diff) == {"mode": "-0o640\n+0o600\n"}


def test_a_file_swapped_for_a_fifo_after_listing_is_not_opened(tmp_path: Path, cfg: Settings,
                                                                alarm: None) -> None:
    """The engine itself refuses anything but a regular file (O_NONBLOCK, fstat): no hang, no read."""
    fifo, other = tmp_path / "p", tmp_path / "f"
    os.mkfifo(fifo)
    other.write_text("x\n")
    degradations: list[str] = []
    ctx = CompareContext(cfg, 0, tmp_path, degradations, compare_sides)
    diff = compare_sides(Side("a/p", fifo), Side("b/p", other), ctx)
    assert diff is not None and diff.kind == "unreadable"
    assert "a/p is unreadable: not a regular file (a FIFO)" in diff.comments[0]
    assert degradations


def test_a_symlink_swapped_in_is_not_followed(tmp_path: Path, cfg: Settings, alarm: None) -> None:
    link, other = tmp_path / "l", tmp_path / "f"
    link.symlink_to("/etc/passwd")
    other.write_text("x\n")
    ctx = CompareContext(cfg, 0, tmp_path, [], compare_sides)
    diff = compare_sides(Side("a/l", link), Side("b/l", other), ctx)
    assert diff is not None and diff.kind == "unreadable" and "symlink, not followed" in diff.comments[0]


def test_symlink_against_file_labels_each_side_with_what_it_is(tmp_path: Path) -> None:
    a, b = _pair_dirs(tmp_path)
    (a / "f").symlink_to("target")
    (b / "f").write_text("x\n")
    os.chmod(b / "f", 0o644)
    done = _cli("compare", "--format", "json", str(a), str(b))
    assert done.returncode == 1, done.stderr
    (node,) = json.loads(done.stdout)["difference"]["details"]
    assert (node["source1"], node["source2"]) == (f"{a}/f (symlink)", f"{b}/f (regular file)")
    assert node["unified_diff"] == "-symlink to target\n+regular file, mode 0644\n"
