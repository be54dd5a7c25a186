"""Outputs are collected as plain files (issue 14, defects 10 and 11), on a build directory
made here with hostile entries: symlinks, FIFOs, sockets, directories, setuid files, and
many files (memory stays bounded)."""

from __future__ import annotations

import dataclasses
import os
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from verifier.errors import InputError, LimitExceeded
from verifier.sandbox.outputs import MAX_NOTES, collect
from verifier.settings import SandboxLimits

LIMITS = SandboxLimits()


def dirs(tmp_path: Path) -> tuple[Path, Path]:
    work, dest = tmp_path / "work", tmp_path / "collected"
    (work / "out").mkdir(parents=True)
    dest.mkdir()
    return work, dest


def test_special_files_are_refused_and_special_bits_dropped(tmp_path: Path) -> None:
    work, dest = dirs(tmp_path)
    out = work / "out"
    (out / "plain").write_text("plain\n")
    (out / "suid").write_text("suid\n")
    os.chmod(out / "suid", 0o6755 | stat.S_ISVTX)
    os.mkfifo(out / "fifo")
    (out / "link").symlink_to("/etc/passwd")
    (out / "subdir").mkdir()
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(out / "sock"))
        started = time.monotonic()
        collected = collect(work, dest, ("out/*",), LIMITS)
    assert time.monotonic() - started < 5, "a FIFO never blocks collection"
    assert sorted(o.name for o in collected.outputs) == ["plain", "suid"]
    notes = "\n".join(collected.notes)
    for name, what in (("fifo", "a FIFO (refused)"), ("link", "a symlink (not followed)"),
                       ("sock", "a socket (refused)"), ("subdir", "a directory")):
        assert f"{name}: matched 'out/*' but is {what}; not collected" in notes, notes
    assert "suid: setuid/setgid/sticky bits (-rwsr-sr-t) dropped" in notes
    for path in dest.iterdir():  # on the host, outputs are plain 0644 files and nothing else
        mode = path.lstat().st_mode
        assert stat.S_ISREG(mode) and stat.S_IMODE(mode) == 0o644, (path, oct(mode))
    assert (out / "link").is_symlink() and not any(o.path.read_bytes().startswith(b"root:") for o in collected.outputs)


def test_notes_are_one_line_and_bounded(tmp_path: Path) -> None:
    work, dest = dirs(tmp_path)
    for i in range(MAX_NOTES + 20):
        (work / "out" / f"l{i:04d}\nVERDICT: REPRODUCIBLE").symlink_to("x")
    (work / "out" / "real").write_text("r")
    collected = collect(work, dest, ("out/*",), LIMITS)
    assert len(collected.notes) == MAX_NOTES + 1 and collected.notes[-1] == "… and 20 more outputs not collected or changed"
    assert not any("\n" in note for note in collected.notes)


def test_globs_never_go_through_symlinked_directories(tmp_path: Path) -> None:
    work, dest = dirs(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("secret")
    (work / "out" / "dir").symlink_to(outside)
    collected = collect(work, dest, ("out/*/*", "out/dir/secret", "../outside/*"), LIMITS)
    assert collected.outputs == () and collected.notes == ()
    assert collected.unmatched_globs == ("out/*/*", "out/dir/secret", "../outside/*")


def test_two_outputs_with_one_name(tmp_path: Path) -> None:
    work, dest = dirs(tmp_path)
    (work / "a").mkdir()
    (work / "a" / "x").write_text("1")
    (work / "out" / "x").write_text("2")
    with pytest.raises(InputError, match="two outputs share the file name 'x'"):
        collect(work, dest, ("out/*", "a/*"), LIMITS)


def test_output_count_is_limited(tmp_path: Path) -> None:
    work, dest = dirs(tmp_path)
    for i in range(30):
        (work / "out" / f"f{i}").write_text("x")
    with pytest.raises(LimitExceeded, match=r"more than 20 outputs \(SandboxLimits.max_outputs\)"):
        collect(work, dest, ("out/*",), dataclasses.replace(LIMITS, max_outputs=20))
    assert len(list(dest.iterdir())) <= 21


MEMORY_PROBE = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[3])
    from tests.peak import own_peak_kib
    from verifier.sandbox.outputs import collect
    from verifier.settings import SandboxLimits
    before = own_peak_kib()
    collected = collect(Path(sys.argv[1]), Path(sys.argv[2]), ("out/*",), SandboxLimits())
    after = own_peak_kib()
    print(len(collected.outputs), (after - before) // 1024)
""")


def test_twenty_thousand_outputs_collect_in_bounded_memory(tmp_path: Path) -> None:
    work, dest = dirs(tmp_path)
    for i in range(20_000):
        (work / "out" / f"file-{i:05d}.txt").write_bytes(b"%d\n" % i)
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(work), str(dest), str(Path(__file__).parent.parent)],
                          capture_output=True, text=True, check=True, timeout=300)
    count, grown_mib = map(int, done.stdout.split())
    assert count == 20_000
    assert grown_mib < 40, f"collecting 20,000 outputs grew the peak by {grown_mib} MiB"
