"""The ``permissions`` normaliser removes ordinary rwx differences only: a setuid, setgid
or sticky bit added, or a member changing type, is never EQUIVALENT, and is never
explained as a umask (nor hidden by ``zip-metadata`` in a zip's external attributes)."""

from __future__ import annotations

import os
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

from fixtures.compare.pairs import EPOCH
from tests.compare.conftest import fields
from verifier.cli.app import run
from verifier.compare.api import compare_paths
from verifier.errors import ExitCode
from verifier.settings import Settings


def _tree(root: Path, mode: int, *, fifo: bool = False) -> Path:
    tool = root / "usr" / "bin" / "tool"
    tool.parent.mkdir(parents=True)
    if fifo:
        os.mkfifo(tool)
    else:
        tool.write_bytes(b"#!/bin/sh\n")
    os.chmod(tool, mode)
    os.utime(tool, (EPOCH, EPOCH))
    return root


def _tar(tmp: Path, name: str, mode: int, *, fifo: bool = False) -> Path:
    src = _tree(tmp / f"{name}.d", mode, fifo=fifo)
    out = tmp / name
    subprocess.run(["tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "-C", str(src), "-cf", str(out),
                    "usr/bin/tool"], check=True)
    return out


def _cpio(tmp: Path, name: str, mode: int) -> Path:
    src = _tree(tmp / f"{name}.d", mode)
    out = tmp / name
    with open(out, "wb") as f:
        subprocess.run(["cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0", "--reproducible"], input=b"usr/bin/tool\n",
                       stdout=f, cwd=src, check=True)
    return out


def _squashfs(tmp: Path, name: str, mode: int, *, fifo: bool = False) -> Path:
    src = _tree(tmp / f"{name}.d", mode, fifo=fifo)
    out = tmp / name
    subprocess.run(["mksquashfs", str(src), str(out), "-quiet", "-noappend", "-all-root", "-mkfs-time", "0",
                    "-all-time", str(EPOCH)], check=True, capture_output=True)
    return out


def _all_hints(result) -> str:  # type: ignore[no-untyped-def]
    return " ".join(h for node in result.difference.walk() for h in node.hints)


@pytest.mark.parametrize(("special", "name"), [(stat.S_ISUID, "setuid"), (stat.S_ISGID, "setgid"),
                                               (stat.S_ISVTX, "sticky")])
def test_permissions_never_hides_a_special_bit_in_a_tar(special: int, name: str, tmp_path: Path, cfg: Settings,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _tar(tmp_path, "p1.tar", 0o755), _tar(tmp_path, "p2.tar", 0o755 | special)
    result = compare_paths(a, b, cfg, normalizers=("permissions",))
    assert not result.equivalent and result.difference is not None
    assert fields(result.difference)["special bits"] == f"-none\n+{name}\n"
    hints = _all_hints(result)
    assert "umask" not in hints and "setuid/setgid/sticky bits differ" in hints
    assert run(["compare", "--normalize", "permissions", str(a), str(b)]) == ExitCode.DIFFERENT
    assert "EQUIVALENT" not in capsys.readouterr().out


def test_permissions_still_removes_rwx_bits(tmp_path: Path, cfg: Settings) -> None:
    a, b = _tar(tmp_path, "a.tar", 0o4755), _tar(tmp_path, "b.tar", 0o4775)
    result = compare_paths(a, b, cfg)
    assert fields(result.difference)["mode"] == "-0o755\n+0o775\n"
    assert "umask" in _all_hints(result)
    assert compare_paths(a, b, cfg, normalizers=("permissions",)).equivalent


def test_permissions_never_hides_a_type_change(tmp_path: Path, cfg: Settings) -> None:
    a, b = _tar(tmp_path, "a.tar", 0o644), _tar(tmp_path, "b.tar", 0o644, fifo=True)
    assert not compare_paths(a, b, cfg, normalizers=("permissions",)).equivalent


def test_cpio_setuid(tmp_path: Path, cfg: Settings) -> None:
    a, b = _cpio(tmp_path, "a.cpio", 0o755), _cpio(tmp_path, "b.cpio", 0o4755)
    result = compare_paths(a, b, cfg, normalizers=("permissions", "cpio-inodes"))
    assert not result.equivalent and fields(result.difference)["special bits"] == "-none\n+setuid\n"


def test_squashfs_setuid_and_type(tmp_path: Path, cfg: Settings) -> None:
    """unsquashfs lists modes as ls does (-rwsr-xr-x): read as type, rwx bits and special bits."""
    a, b = _squashfs(tmp_path, "a.sqfs", 0o755), _squashfs(tmp_path, "b.sqfs", 0o4755)
    result = compare_paths(a, b, cfg, normalizers=("permissions",))
    assert not result.equivalent and fields(result.difference)["special bits"] == "-none\n+setuid\n"
    c = _squashfs(tmp_path, "c.sqfs", 0o644)
    d = _squashfs(tmp_path, "d.sqfs", 0o644, fifo=True)
    result = compare_paths(c, d, cfg, normalizers=("permissions",))
    assert not result.equivalent and fields(result.difference)["type"] == "-reg\n+fifo\n"
    e = _squashfs(tmp_path, "e.sqfs", 0o775)
    assert compare_paths(a, e, cfg, normalizers=("permissions",)).equivalent


def _zip(path: Path, mode: int, body: bytes = b"#!/bin/sh\n") -> Path:
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo("usr/bin/tool", (2023, 11, 14, 22, 13, 20))
        info.create_system = 3
        info.external_attr = mode << 16
        z.writestr(info, body)
    return path


def test_zip_metadata_never_hides_a_setuid_bit_or_a_symlink(tmp_path: Path, cfg: Settings) -> None:
    a = _zip(tmp_path / "a.zip", stat.S_IFREG | 0o755)
    b = _zip(tmp_path / "b.zip", stat.S_IFREG | 0o4755)
    result = compare_paths(a, b, cfg, normalizers=("zip-metadata",))
    assert not result.equivalent and fields(result.difference)["special bits"] == "-none\n+setuid\n"
    c = _zip(tmp_path / "c.zip", stat.S_IFREG | 0o644, b"/etc/shadow")
    d = _zip(tmp_path / "d.zip", stat.S_IFLNK | 0o777, b"/etc/shadow")  # a symlink: its content is the target
    result = compare_paths(c, d, cfg, normalizers=("zip-metadata",))
    assert not result.equivalent and fields(result.difference)["type"] == "-reg\n+sym\n"
    e = _zip(tmp_path / "e.zip", stat.S_IFREG | 0o644)
    assert compare_paths(a, e, cfg, normalizers=("zip-metadata",)).equivalent


def test_directory_trees_compare_modes_and_empty_directories(tmp_path: Path, cfg: Settings) -> None:
    """Before, two trees differing only in a setuid bit or an empty directory were IDENTICAL."""
    a, b = _tree(tmp_path / "a", 0o755), _tree(tmp_path / "b", 0o4755)
    result = compare_paths(a, b, cfg, normalizers=("permissions",))
    assert not result.identical and not result.equivalent
    assert fields(result.difference)["special bits"] == "-none\n+setuid\n"
    c = _tree(tmp_path / "c", 0o775)
    assert compare_paths(a, c, cfg, normalizers=("permissions",)).equivalent
    d = _tree(tmp_path / "d", 0o755)
    (d / "usr" / "lib").mkdir()
    result = compare_paths(a, d, cfg)
    assert not result.identical and "+usr/lib/" in (result.difference.details[0].unified_diff or "")


def _sqfs_xattr(tmp: Path, name: str, mtime: int, xattr: bytes | None) -> Path:
    src = tmp / f"{name}.d"
    src.mkdir()
    (src / "tool").write_bytes(b"#!/bin/sh\n")
    if xattr is not None:
        os.setxattr(src / "tool", "user.test", xattr)
    os.utime(src / "tool", (mtime, mtime))
    out = tmp / name
    subprocess.run(["mksquashfs", str(src), str(out), "-quiet", "-noappend", "-all-root", "-mkfs-time", "0", "-xattrs"],
                   check=True, capture_output=True)
    return out


def test_squashfs_xattrs_are_never_hidden(tmp_path: Path, cfg: Settings) -> None:
    """unsquashfs 4.5 does not list xattrs (a file capability): the xattr tables are compared."""
    a = _sqfs_xattr(tmp_path, "a.sqfs", EPOCH, None)
    b = _sqfs_xattr(tmp_path, "b.sqfs", EPOCH + 600, b"cap")
    result = compare_paths(a, b, cfg, normalizers=("timestamps",))
    assert not result.equivalent and "extended attributes differ" in str(result.difference.to_json())
    c = _sqfs_xattr(tmp_path, "c.sqfs", EPOCH, b"cap")
    d = _sqfs_xattr(tmp_path, "d.sqfs", EPOCH + 600, b"other")
    assert not compare_paths(c, d, cfg, normalizers=("timestamps",)).equivalent
    e = _sqfs_xattr(tmp_path, "e.sqfs", EPOCH + 600, b"cap")
    assert compare_paths(c, e, cfg, normalizers=("timestamps",)).equivalent
