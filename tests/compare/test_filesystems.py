"""Filesystem images: ISO 9660 (libarchive) and squashfs (unsquashfs listing)."""

from __future__ import annotations

from pathlib import Path

from fixtures.compare.pairs import iso, squashfs
from tests.compare.conftest import fields, member_paths, tree_text
from tests.conftest import require_tool
from verifier.compare.api import compare_paths
from verifier.settings import Settings


def test_iso9660_members_and_truncation(tmp_path: Path, cfg: Settings) -> None:
    require_tool("genisoimage")
    a = iso(tmp_path, "a", {"docs/readme.txt": "one\n", "same.txt": "same\n"})
    b = iso(tmp_path, "b", {"docs/readme.txt": "two\n", "same.txt": "same\n"})
    assert member_paths(compare_paths(a, b, cfg).difference) == ["docs/readme.txt"]
    truncated = tmp_path / "t.iso"
    truncated.write_bytes(a.read_bytes()[: 40 * 1024])
    result = compare_paths(a, truncated, cfg)
    assert any("t.iso is truncated" in d for d in result.degradations)


def test_squashfs_members_and_symlinks(tmp_path: Path, cfg: Settings) -> None:
    require_tool("mksquashfs")
    a = squashfs(tmp_path, "a", {"etc/conf": "one\n", "bin/tool": "same\n"}, {"etc/link": "conf"})
    b = squashfs(tmp_path, "b", {"etc/conf": "two\n", "bin/tool": "same\n"}, {"etc/link": "other"})
    diff = compare_paths(a, b, cfg).difference
    assert member_paths(diff) == ["etc/conf"]
    assert fields(diff) == {"link": "-conf\n+other\n", "size": "-4\n+5\n"}, "the symlink is compared as metadata"
    assert "bin/tool" not in tree_text(diff)


def test_identical_squashfs_reports_nothing(tmp_path: Path, cfg: Settings) -> None:
    require_tool("mksquashfs")
    a = squashfs(tmp_path / "1", "a", {"f": "same\n"})
    b = squashfs(tmp_path / "2", "b", {"f": "same\n"})
    assert compare_paths(a, b, cfg).identical


def test_iso9660_system_area_is_never_normalised_away(tmp_path: Path, cfg: Settings) -> None:
    """The first 32 KiB (boot code, partition table) belong to no listed file: before, a
    change there beside a timestamp change was EQUIVALENT under --normalize timestamps."""
    require_tool("genisoimage")
    a = iso(tmp_path / "1", "a", {"f": "same\n"})
    b = iso(tmp_path / "2", "b", {"f": "same\n"})
    assert compare_paths(a, b, cfg).identical or compare_paths(a, b, cfg, normalizers=("timestamps",)).equivalent
    with open(b, "r+b") as f:
        f.write(b"\xeb\x63\x90BOOTCODE")
    result = compare_paths(a, b, cfg, normalizers=("timestamps",))
    assert not result.equivalent and not result.identical
    said = [c for n in result.difference.walk() for c in n.comments]
    assert any("system area" in c and "first at byte 0" in c for c in said)
