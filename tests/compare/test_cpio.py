"""cpio (newc, as in initramfs images and RPM payloads) via libarchive."""

from __future__ import annotations

from pathlib import Path

from fixtures.compare.pairs import EPOCH, cpio
from tests.compare.conftest import fields, kinds, member_paths
from tests.conftest import require_tool
from verifier.compare.api import compare_paths
from verifier.settings import Settings


def test_identical_cpio_reports_nothing(tmp_path: Path, cfg: Settings) -> None:
    require_tool("cpio")
    a = cpio(tmp_path, "a.cpio", {"f": "same\n"})
    b = tmp_path / "b.cpio"
    b.write_bytes(a.read_bytes())
    assert compare_paths(a, b, cfg).difference is None


def test_inode_numbers_explain_an_otherwise_equal_pair(tmp_path: Path, cfg: Settings) -> None:
    """GNU cpio records each file's inode: two archives of equal trees differ only there."""
    require_tool("cpio")
    a = cpio(tmp_path, "a.cpio", {"f": "same\n"})
    b = cpio(tmp_path, "b.cpio", {"f": "same\n"})
    diff = compare_paths(a, b, cfg).difference
    assert set(fields(diff)) == {"inode"}
    assert any("cpio --reproducible" in h for h in diff.hints)


def test_content_mtime_ownership_and_order(tmp_path: Path, cfg: Settings) -> None:
    require_tool("cpio")
    a = cpio(tmp_path, "a.cpio", {"etc/conf": "one\n", "bin/tool": "same\n"})
    b = cpio(tmp_path, "b.cpio", {"bin/tool": "same\n", "etc/conf": "two\n"}, mtime=EPOCH + 1, owner="1000:1000")
    diff = compare_paths(a, b, cfg).difference
    assert member_paths(diff) == ["etc/conf"]
    assert len(kinds(diff, "order")) == 1
    found = fields(diff)
    assert found["mtime"] == f"-{EPOCH}\n+{EPOCH + 1}\n"
    assert found["uid"] == "-0\n+1000\n" and found["gid"] == "-0\n+1000\n"
    assert kinds(diff, "")[0].source1 == str(a), "the root is the pair itself"


def test_data_after_the_trailer_is_never_normalised_away(tmp_path: Path, cfg: Settings) -> None:
    """libarchive stops at TRAILER!!!: bytes after it belong to no member (before, EQUIVALENT)."""
    a = cpio(tmp_path / "1", "a.cpio", {"f": "x\n"})
    b = cpio(tmp_path / "2", "b.cpio", {"f": "x\n"}, mtime=EPOCH + 5)
    assert compare_paths(a, b, cfg, normalizers=("timestamps", "cpio-inodes")).equivalent
    with open(b, "ab") as f:
        f.write(bytes(1024))  # padding to a larger block: zeros only
    assert compare_paths(a, b, cfg, normalizers=("timestamps", "cpio-inodes")).equivalent
    with open(b, "r+b") as f:
        f.seek(-20, 2)
        f.write(b"SECRET")
    result = compare_paths(a, b, cfg, normalizers=("timestamps", "cpio-inodes"))
    assert not result.equivalent
    said = [c for n in result.difference.walk() for c in n.comments]
    assert any("follows cpio's TRAILER!!! entry" in c and str(b) in c for c in said)
