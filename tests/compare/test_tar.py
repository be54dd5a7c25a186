"""tar via libarchive: members paired by name, content and every metadata field found at
the right member, renames, order, links, devices and xattrs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from fixtures.compare.pairs import EPOCH, make_tree, tar
from tests.compare.conftest import fields, kinds, member_paths, tree_text
from verifier.compare.api import compare_paths
from verifier.compare.hints import BuildClock
from verifier.settings import Settings


def test_identical_inputs_report_nothing(tmp_path: Path, cfg: Settings) -> None:
    a = tar(tmp_path, "a.tar", {"x.txt": "same"})
    b = tar(tmp_path, "b.tar", {"x.txt": "same"})
    result = compare_paths(a, b, cfg)
    assert result.identical and result.difference is None and result.degradations == ()


def test_content_and_mtime_found_at_the_member(tmp_path: Path, cfg: Settings) -> None:
    a = tar(tmp_path, "a.tar", {"x.txt": "one\n", "y.txt": "same\n"})
    b = tar(tmp_path, "b.tar", {"x.txt": "two\n", "y.txt": "same\n"}, mtime=EPOCH + 60)
    diff = compare_paths(a, b, cfg, clock=BuildClock(source_date_epoch=EPOCH)).difference
    content = kinds(diff, "content")
    assert [n.source1 for n in content] == [f"{a}::pkg/x.txt"]
    assert "-one" in content[0].unified_diff and "+two" in content[0].unified_diff
    mtimes = [n.source1.split("::")[-1] for n in kinds(diff, "metadata") if n.details]
    assert {"pkg/x.txt (metadata)", "pkg/y.txt (metadata)"} <= set(mtimes)
    assert fields(diff)["mtime"] == f"-{EPOCH}\n+{EPOCH + 60}\n"


def test_added_removed_renamed(tmp_path: Path, cfg: Settings) -> None:
    a = tar(tmp_path, "a.tar", {"keep": "k", "old-name": "moved content", "gone": "g"})
    b = tar(tmp_path, "b.tar", {"keep": "k", "new-name": "moved content", "added": "a"})
    listing = kinds(compare_paths(a, b, cfg).difference, "member")
    assert len(listing) == 1
    assert listing[0].comments == ("renamed: pkg/old-name -> pkg/new-name (same content)",)
    assert listing[0].unified_diff == "-pkg/gone (1 bytes)\n+pkg/added (1 bytes)\n"


def test_a_rename_needs_the_same_content(tmp_path: Path, cfg: Settings) -> None:
    a = tar(tmp_path, "a.tar", {"old-name": "content A"})
    b = tar(tmp_path, "b.tar", {"new-name": "content B"})
    assert "renamed" not in tree_text(compare_paths(a, b, cfg).difference)


def test_member_order_and_ownership(tmp_path: Path, cfg: Settings) -> None:
    src = make_tree(tmp_path / "s", {"a": "1", "b": "2"})
    a, b = tmp_path / "a.tar", tmp_path / "b.tar"
    subprocess.run(["tar", "--owner=root:0", "--group=root:0", "-C", str(src), "-cf", str(a), "a", "b"], check=True)
    subprocess.run(["tar", "--owner=alice:1000", "--group=staff:50", "-C", str(src), "-cf", str(b), "b", "a"],
                   check=True)
    diff = compare_paths(a, b, cfg).difference
    order = kinds(diff, "order")
    assert len(order) == 1 and order[0].comments == ("the same members in a different order, first at position 0",)
    found = fields(diff)
    assert found["uid"] == "-0\n+1000\n" and found["gid"] == "-0\n+50\n"
    assert found["uname"] == "-root\n+alice\n" and found["gname"] == "-root\n+staff\n"
    assert not kinds(diff, "content")


def test_mode_symlink_and_hardlink_targets(tmp_path: Path, cfg: Settings) -> None:
    archives = []
    for side, mode, target in (("a", 0o644, "f"), ("b", 0o755, "g")):
        src = make_tree(tmp_path / side, {"f": "x\n", "g": "y\n"})
        (src / "f").chmod(mode)
        (src / "link").symlink_to(target)
        os.link(src / target, src / "hard")
        out = tmp_path / f"{side}.tar"
        subprocess.run(["tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "-C", str(src), "-cf",
                        str(out), "."], check=True)
        archives.append(out)
    diff = compare_paths(*archives, cfg).difference
    found = fields(diff)
    assert found["mode"] == "-0o644\n+0o755\n"
    by_member = {n.source1.split("::")[-1]: fields(n) for n in kinds(diff, "metadata") if n.details}
    assert by_member["link (metadata)"] == {"link": "-f\n+g\n"}, "the symlink target"
    assert by_member["hard (metadata)"] == {"link": "-./f\n+./g\n"}, "the hardlink target"


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_device_numbers(tmp_path: Path, cfg: Settings) -> None:
    archives = []
    for side, minor in (("a", 3), ("b", 5)):
        src = tmp_path / side
        src.mkdir()
        os.mknod(src / "dev", 0o600 | 0o020000, os.makedev(1, minor))
        out = tmp_path / f"{side}.tar"
        subprocess.run(["tar", "--owner=0", "--group=0", "-C", str(src), "-cf", str(out), "dev"], check=True)
        archives.append(out)
    assert fields(compare_paths(*archives, cfg).difference)["device"] == "-1,3\n+1,5\n"


def test_member_xattrs_are_compared(tmp_path: Path, cfg: Settings) -> None:
    src = make_tree(tmp_path / "x", {"f": "same\n"})
    archives = []
    for value in (b"one", b"two"):
        try:
            os.setxattr(src / "f", "user.origin", value)
        except OSError:
            pytest.skip("this filesystem has no user xattrs")
        out = tmp_path / f"{value.decode()}.tar"
        subprocess.run(["tar", "--xattrs", "-C", str(src), "-cf", str(out), "f"], check=True)
        archives.append(out)
    assert fields(compare_paths(*archives, cfg).difference) == {"xattr user.origin": "-one\n+two\n"}


def test_formats_are_recognised_by_magic_not_name(tmp_path: Path, cfg: Settings) -> None:
    a = tar(tmp_path, "a.zip", {"x.txt": "one\n"})
    b = tar(tmp_path, "b.zip", {"x.txt": "two\n"})
    assert member_paths(compare_paths(a, b, cfg).difference) == ["pkg/x.txt"]


def test_data_after_the_end_marker_is_never_normalised_away(tmp_path: Path, cfg: Settings) -> None:
    """Bytes after tar's end-of-archive marker belong to no member: zero padding of any
    length is not a difference, anything else that differs is (before, EQUIVALENT)."""
    a = tar(tmp_path, "a.tar", {"f": "x\n"})
    b = tar(tmp_path, "b.tar", {"f": "x\n"}, mtime=EPOCH + 5)
    assert compare_paths(a, b, cfg, normalizers=("timestamps",)).equivalent
    with open(b, "ab") as f:
        f.write(bytes(10240))  # a longer record: zeros only
    assert compare_paths(a, b, cfg, normalizers=("timestamps",)).equivalent
    with open(b, "r+b") as f:
        f.seek(-100, 2)
        f.write(b"SECRET")
    result = compare_paths(a, b, cfg, normalizers=("timestamps",))
    assert not result.equivalent
    said = [c for n in result.difference.walk() for c in n.comments]
    assert any("follows tar's end-of-archive marker" in c and str(b) in c for c in said)
