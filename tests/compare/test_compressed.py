"""gzip, xz, zstd and bzip2 streams: header fields, then the decompressed content one level
deeper; bombs bounded, truncation a comment."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest

from fixtures.compare.pairs import tar
from tests.compare.conftest import fields, kinds, tree_text
from tests.conftest import require_tool
from verifier.compare.api import compare_paths
from verifier.errors import LimitExceeded
from verifier.settings import Settings, UnpackLimits

EPOCH = 1700000000


def test_gzip_header_mtime_and_name(tmp_path: Path, cfg: Settings) -> None:
    a, b = tmp_path / "a.gz", tmp_path / "b.gz"
    a.write_bytes(gzip.compress(b"payload\n", mtime=0))
    with open(b, "wb") as raw, gzip.GzipFile(filename="named.txt", mode="wb", fileobj=raw, mtime=EPOCH) as f:
        f.write(b"payload\n")
    diff = compare_paths(a, b, cfg).difference
    header = fields(diff, "header")
    assert header["mtime"] == f"-0\n+{EPOCH}\n"
    assert header["name"] == "-None\n+named.txt\n"
    assert not kinds(diff, "content"), "the decompressed payloads are equal"


def test_gzip_os_byte(tmp_path: Path, cfg: Settings) -> None:
    a, b = tmp_path / "a.gz", tmp_path / "b.gz"
    stream = bytearray(gzip.compress(b"payload\n", mtime=0))  # OS byte 3 (Unix)
    a.write_bytes(bytes(stream))
    stream[9] = 11  # as written on Windows
    b.write_bytes(bytes(stream))
    header = fields(compare_paths(a, b, cfg).difference, "header")
    assert header == {"os": "-3 (Unix)\n+11 (NTFS)\n"}


@pytest.mark.parametrize("tool", ["gzip", "xz", "zstd", "bzip2"])
def test_compressed_tars_are_opened(tmp_path: Path, cfg: Settings, tool: str) -> None:
    require_tool(tool)
    a = tar(tmp_path, "a.tar.x", {"f": "left\n"}, compress=tool)
    b = tar(tmp_path, "b.tar.x", {"f": "right\n"}, compress=tool)
    content = kinds(compare_paths(a, b, cfg).difference, "content")
    assert len(content) == 1 and content[0].source1.endswith("::(decompressed)::pkg/f")


@pytest.mark.parametrize("tool", ["xz", "zstd", "bzip2"])
def test_same_content_compressed_differently(tmp_path: Path, cfg: Settings, tool: str) -> None:
    require_tool(tool)
    data = tmp_path / "data"
    data.write_bytes(b"".join(b"line %d\n" % i for i in range(20000)))
    outs = []
    for level in ("-1", "-9"):
        out = tmp_path / f"x{level}"
        with open(out, "wb") as f:
            subprocess.run([tool, level, "-c", str(data)], stdout=f, check=True)
        outs.append(out)
    result = compare_paths(*outs, cfg)
    assert not result.identical
    assert not kinds(result.difference, "content")
    assert "(level, block size or implementation)" in tree_text(result.difference)


def test_truncated_archive_degrades_to_bytes(tmp_path: Path, cfg: Settings) -> None:
    a = tar(tmp_path, "a.tar.gz", {"f": "x" * 100000}, compress="gzip")
    b = tmp_path / "b.tar.gz"
    b.write_bytes(a.read_bytes()[:-200])
    result = compare_paths(a, b, cfg)
    assert not result.identical
    assert result.degradations and "compared as bytes" in result.degradations[0]
    assert result.difference is not None


def test_decompression_bomb_is_bounded(tmp_path: Path) -> None:
    a, b = tmp_path / "a.gz", tmp_path / "b.gz"
    a.write_bytes(gzip.compress(b"\0" * (64 << 20), mtime=0))
    b.write_bytes(gzip.compress(b"\0" * (64 << 20) + b"x", mtime=0))
    with pytest.raises(LimitExceeded, match=r"expands past 10485760 bytes \(limit max_ratio=10; raise it with "
                                            r"--unpack-limit max_ratio=N\)"):
        compare_paths(a, b, Settings(unpack=UnpackLimits(max_ratio=10)))


def test_nesting_beyond_the_depth_limit(tmp_path: Path) -> None:
    inner_a, inner_b = tmp_path / "ia", tmp_path / "ib"
    inner_a.write_bytes(gzip.compress(b"a", mtime=0))
    inner_b.write_bytes(gzip.compress(b"b", mtime=0))
    for _ in range(4):
        inner_a.write_bytes(gzip.compress(inner_a.read_bytes(), mtime=0))
        inner_b.write_bytes(gzip.compress(inner_b.read_bytes(), mtime=0))
    result = compare_paths(inner_a, inner_b, Settings(unpack=UnpackLimits(max_depth=2)))
    assert any("nesting deeper than 2" in d for d in result.degradations)
