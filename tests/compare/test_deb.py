"""Debian packages: the ar container, control fields one by one, md5sums, the data tar."""

from __future__ import annotations

from pathlib import Path

from fixtures.compare.pairs import deb
from tests.compare.conftest import fields, kinds, member_paths, tree_text
from tests.conftest import require_tool
from verifier.compare.api import compare_paths
from verifier.settings import Settings


def test_identical_debs_report_nothing(tmp_path: Path, cfg: Settings) -> None:
    require_tool("dpkg-deb")
    a = deb(tmp_path / "1", "a", "1.0", {"data.txt": "same\n"})
    b = deb(tmp_path / "2", "b", "1.0", {"data.txt": "same\n"})
    assert compare_paths(a, b, cfg).difference is None, "dpkg-deb with SOURCE_DATE_EPOCH is reproducible"


def test_fields_md5sums_and_data_members(tmp_path: Path, cfg: Settings) -> None:
    require_tool("dpkg-deb")
    a = deb(tmp_path, "a", "1.0", {"data.txt": "data 1.0\n", "same.txt": "s\n"})
    b = deb(tmp_path, "b", "1.1", {"data.txt": "data 1.1\n", "same.txt": "s\n"}, extra_control="Section: misc\n")
    diff = compare_paths(a, b, cfg).difference
    assert fields(diff, "field") == {"Version": "-1.0\n+1.1\n", "Section": "-None\n+misc\n"}
    assert member_paths(diff) == ["control", "md5sums", "usr/share/demo/data.txt"]
    md5sums = kinds(diff, "content")[1]
    changed = [line for line in md5sums.unified_diff.splitlines() if line[:1] in "+-"]
    assert [line.split()[-1] for line in changed] == ["usr/share/demo/data.txt"] * 2
    text = tree_text(diff)
    assert "control.tar.xz" in text and "data.tar.xz" in text


def test_a_duplicate_ar_member_is_a_comment(tmp_path: Path, cfg: Settings) -> None:
    require_tool("dpkg-deb")
    a = deb(tmp_path, "a", "1.0", {"data.txt": "x\n"})
    dup = tmp_path / "dup.deb"
    data = a.read_bytes()
    dup.write_bytes(data + data[data.index(b"data.tar.xz"):])  # an ar archive with two data.tar members
    result = compare_paths(a, dup, cfg)
    assert any("duplicate ar member 'data.tar.xz'" in d for d in result.degradations)
