"""Bytes of a zip that no member, directory or end record accounts for, and local headers
that name another file than the central directory, are a difference no normaliser removes:
with them, a pair differing otherwise only in timestamps is never EQUIVALENT."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from verifier.cli.app import run
from verifier.errors import ExitCode

MEMBERS = {"first.txt": b"one\n" * 50, "second.txt": b"two\n" * 50}


def _zip(path: Path, year: int, hidden: bytes = b"") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for i, (name, data) in enumerate(MEMBERS.items()):
            z.writestr(zipfile.ZipInfo(name, (year, 1, 1, 0, 0, 0)), data)
            if i == 0 and hidden:
                z.fp.seek(z.start_dir)
                z.fp.write(hidden)  # between two members: the next local header starts after it
                z.start_dir = z.fp.tell()
    return path


def _compare(a: Path, b: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = run(["compare", "--normalize", "timestamps", str(a), str(b)])
    return code, capsys.readouterr().out


def test_timestamps_alone_are_equivalent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _compare(_zip(tmp_path / "a.zip", 2020), _zip(tmp_path / "b.zip", 2021), capsys)
    assert code == ExitCode.OK and "EQUIVALENT" in out


def test_hidden_bytes_between_members_keep_the_pair_different(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    b = _zip(tmp_path / "b.zip", 2021, hidden=b"PK\x03\x04 hidden")
    with zipfile.ZipFile(b) as z:
        assert z.testzip() is None and sorted(z.namelist()) == sorted(MEMBERS)  # a valid zip for every reader
    code, out = _compare(_zip(tmp_path / "a.zip", 2020), b, capsys)
    assert code == ExitCode.DIFFERENT, out
    assert "bytes outside any member" in out and "11 bytes in no member" in out


def test_a_local_name_unlike_the_directorys_keeps_the_pair_different(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    b = _zip(tmp_path / "b.zip", 2021)
    data = bytearray(b.read_bytes())
    at = data.index(b"second.txt")  # the first occurrence is in the local header
    data[at:at + len(b"second.txt")] = b"secret.exe"
    b.write_bytes(bytes(data))
    code, out = _compare(_zip(tmp_path / "a.zip", 2020), b, capsys)
    assert code == ExitCode.DIFFERENT, out
    assert "1 local names unlike the directory's" in out
