"""Text (unified diff; line-ending and ordering-only changes called out) and binary (bounded,
naming the differing offsets)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.compare.conftest import kinds
from verifier.compare.api import compare_paths
from verifier.settings import Settings


def test_text_unified_diff(tmp_path: Path, cfg: Settings) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("one\ntwo\nthree\n")
    b.write_text("one\nTWO\nthree\n")
    diff = compare_paths(a, b, cfg).difference
    assert diff.kind == "content" and diff.comments == ()
    assert diff.unified_diff == "@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n"


def test_text_line_endings_called_out(tmp_path: Path, cfg: Settings) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"one\ntwo\n")
    b.write_bytes(b"one\r\ntwo\r\n")
    assert compare_paths(a, b, cfg).difference.comments == ("only line endings differ (CRLF vs LF): CRLF in the second",)


def test_text_ordering_only_called_out(tmp_path: Path, cfg: Settings) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("b\nc\na\n")
    b.write_text("c\na\nb\n")
    assert compare_paths(a, b, cfg).difference.comments == ("the same lines in a different order",)
    b.write_text("c\na\nB\n")
    assert compare_paths(a, b, cfg).difference.comments == (), "a changed line is not a reordering"


def test_binary_pair_names_offsets(tmp_path: Path, cfg: Settings) -> None:
    data = bytearray(os.urandom(3 << 20))
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(bytes(data))
    data[1_000_000] ^= 0xFF
    data[2_500_000] ^= 0xFF
    b.write_bytes(bytes(data))
    diff = compare_paths(a, b, cfg).difference
    assert diff.kind == "bytes"
    assert diff.comments[0].startswith("bytes differ at 0xf4240-0xf4241, 0x2625a0-0x2625a1;")
    assert diff.unified_diff.splitlines()[0].startswith("-000f4238: ")


def test_binary_sizes_differ(tmp_path: Path, cfg: Settings) -> None:
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"\x00\x01" * 100)
    b.write_bytes(b"\x00\x01" * 100 + b"\xff")
    diff = compare_paths(a, b, cfg).difference
    assert kinds(diff, "bytes") == [diff] and diff.comments == ("sizes differ: 200 vs 201 bytes",)
