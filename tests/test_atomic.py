"""Atomic writes replace regular files by rename, and write into devices and FIFOs in place."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from verifier.atomic import atomic_writer, write_bytes


def _read_fifo(path: Path, into: list[bytes]) -> threading.Thread:
    reader = threading.Thread(target=lambda: into.append(path.read_bytes()), daemon=True)
    reader.start()
    return reader


@pytest.mark.parametrize("through_link", [False, True])
def test_a_fifo_destination_is_written_into_not_replaced(tmp_path: Path, through_link: bool) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    target = fifo
    if through_link:  # like /dev/stdout, a link to the stream
        target = tmp_path / "link"
        target.symlink_to(fifo)
    received: list[bytes] = []
    reader = _read_fifo(fifo, received)
    write_bytes(target, b"report\n")
    reader.join(timeout=10)
    assert received == [b"report\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert target.is_symlink() == through_link
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"pipe", target.name})  # no temp file left


def test_a_regular_file_is_replaced_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_writer(target) as f:
        f.write(b"half")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["report.txt"]
    write_bytes(target, b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o644
