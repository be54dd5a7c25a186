"""Compiled Python, recognised by its header: header fields one by one, then the code."""

from __future__ import annotations

from pathlib import Path

from fixtures.compare.pairs import EPOCH, pyc
from tests.compare.conftest import fields, kinds
from verifier.compare.api import compare_paths
from verifier.settings import Settings


def test_source_mtime_is_a_header_field(tmp_path: Path, cfg: Settings) -> None:
    a = pyc(tmp_path, "a", "x = 1\n")
    b = pyc(tmp_path, "b", "x = 1\n", source_mtime=EPOCH + 60)
    diff = compare_paths(a, b, cfg).difference
    assert fields(diff, "header") == {"pyc source mtime": f"-{EPOCH}\n+{EPOCH + 60}\n"}
    assert not kinds(diff, "bytes"), "the marshalled code is the same"
    assert any(".pyc files record their source's mtime" in h for h in diff.hints)


def test_invalidation_mode_and_code(tmp_path: Path, cfg: Settings) -> None:
    a = pyc(tmp_path, "a", "x = 1\n")
    b = pyc(tmp_path, "b", "x = 2\n", checked_hash=True)
    diff = compare_paths(a, b, cfg).difference
    header = fields(diff, "header")
    assert header["pyc flags"] == "-0 (timestamp)\n+3 (checked hash)\n"
    assert "pyc source hash" in header and "pyc source mtime" in header
    assert kinds(diff, "bytes")[0].comments[0] == "the marshalled code differs"


def test_recognised_by_header_not_name(tmp_path: Path, cfg: Settings) -> None:
    a = pyc(tmp_path, "a", "x = 1\n").rename(tmp_path / "a.data")
    b = pyc(tmp_path, "b", "x = 1\n", source_mtime=EPOCH + 1).rename(tmp_path / "b.data")
    assert "pyc source mtime" in fields(compare_paths(a, b, cfg).difference, "header")
    c, d = tmp_path / "c.pyc", tmp_path / "d.pyc"
    c.write_bytes(b"not compiled python at all\n")
    d.write_bytes(b"not compiled python at ALL\n")
    assert compare_paths(c, d, cfg).difference.kind == "content", "a .pyc name alone does not make a pyc"
