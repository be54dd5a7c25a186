"""Archives holding one member name more than once: every entry is paired (by name and
occurrence) and compared, so a normaliser can never turn a content change in a repeated
name into EQUIVALENT. Archives are written by the real tools (tar -r, cpio -A, ar q);
zip by Python's zipfile, which writes a repeated name as asked."""

from __future__ import annotations

import os
import subprocess
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.compare.pairs import EPOCH
from tests.compare.conftest import kinds
from verifier.cli.app import run
from verifier.compare.api import compare_paths
from verifier.errors import ExitCode
from verifier.settings import Settings

SECOND = "a.txt (entry 2 of that name)"


def _write(work: Path, content: bytes, mtime: int) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    f = work / "a.txt"
    f.write_bytes(content)
    os.utime(f, (mtime, mtime))
    return f


def _tar(out: Path, entries: list[tuple[bytes, int]]) -> None:
    work = out.parent / f"{out.name}.d"
    for i, (content, mtime) in enumerate(entries):
        _write(work, content, mtime)
        subprocess.run(["tar", "-c" if i == 0 else "-r", "--format=pax", "--owner=0", "--group=0", "--numeric-owner",
                        "--pax-option=delete=atime,delete=ctime", "-f", str(out), "-C", str(work), "a.txt"], check=True)


def _cpio(out: Path, entries: list[tuple[bytes, int]]) -> None:
    work = out.parent / f"{out.name}.d"
    for i, (content, mtime) in enumerate(entries):
        _write(work, content, mtime)
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet", *(["-A"] if i else []), "-O", str(out)], cwd=work,
                       input=b"a.txt\n", check=True)


def _ar(out: Path, entries: list[tuple[bytes, int]]) -> None:
    work = out.parent / f"{out.name}.d"
    for content, mtime in entries:
        _write(work, content, mtime)
        subprocess.run(["ar", "qU", str(out), "a.txt"], cwd=work, check=True, capture_output=True)


def _zip(out: Path, entries: list[tuple[bytes, int]]) -> None:
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as z:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": what this test is about
        for content, mtime in entries:
            info = zipfile.ZipInfo("a.txt", (1980 + mtime % 7, 1, 1, 0, 0, 0))
            info.create_system = 3 if mtime % 2 else 0
            z.writestr(info, content)


FORMATS: dict[str, tuple[Callable[[Path, list[tuple[bytes, int]]], None], tuple[str, ...]]] = {
    "tar": (_tar, ("timestamps",)),
    "cpio": (_cpio, ("timestamps", "cpio-inodes")),
    "ar": (_ar, ("timestamps",)),
    "zip": (_zip, ("timestamps", "zip-metadata")),
}


def _pair(tmp_path: Path, fmt: str) -> tuple[Path, Path]:
    make = FORMATS[fmt][0]
    a, b = tmp_path / f"dl1.{fmt}", tmp_path / f"dl2.{fmt}"
    make(a, [(b"same\n", EPOCH), (b"first\n", EPOCH + 1)])
    make(b, [(b"same\n", EPOCH + 5), (b"second\n", EPOCH + 5)])
    return a, b


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_content_change_in_a_repeated_name_is_found(fmt: str, tmp_path: Path, cfg: Settings) -> None:
    a, b = _pair(tmp_path, fmt)
    diff = compare_paths(a, b, cfg).difference
    assert diff is not None
    content = [n for n in kinds(diff, "content") if n.source1.endswith(f"::{SECOND}")]
    assert content and "-first" in (content[0].unified_diff or "") and "+second" in (content[0].unified_diff or "")
    said = [c for n in kinds(diff, "member") for c in n.comments]
    assert any("member name 'a.txt' occurs 2 time(s) in the first and 2 in the second" in c for c in said)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_normalisers_never_make_a_repeated_name_equivalent(fmt: str, tmp_path: Path, cfg: Settings,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _pair(tmp_path, fmt)
    normalizers = FORMATS[fmt][1]
    result = compare_paths(a, b, cfg, normalizers=normalizers)
    assert not result.equivalent and result.normalized is not None and not result.normalized.equivalent
    assert run(["compare", "--normalize", ",".join(normalizers), str(a), str(b)]) == ExitCode.DIFFERENT
    assert "EQUIVALENT" not in capsys.readouterr().out


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_repeated_name_on_one_side_is_listed(fmt: str, tmp_path: Path, cfg: Settings) -> None:
    make = FORMATS[fmt][0]
    a, b = tmp_path / f"one.{fmt}", tmp_path / f"two.{fmt}"
    make(a, [(b"same\n", EPOCH)])
    make(b, [(b"same\n", EPOCH), (b"same\n", EPOCH)])
    result = compare_paths(a, b, cfg, normalizers=FORMATS[fmt][1])
    assert not result.equivalent and result.difference is not None
    listed = "".join(n.unified_diff or "" for n in kinds(result.difference, "member"))
    assert "+a.txt (" in listed and "entry 2 of that name" in listed


def test_repeated_names_alone_keep_a_pair_from_being_equivalent(tmp_path: Path, cfg: Settings) -> None:
    """Same entries on both sides, only timestamps differ: still not EQUIVALENT, since an
    extracted archive keeps one entry of a name and which one is up to the extractor."""
    a, b = tmp_path / "a.tar", tmp_path / "b.tar"
    _tar(a, [(b"x\n", EPOCH), (b"y\n", EPOCH)])
    _tar(b, [(b"x\n", EPOCH + 5), (b"y\n", EPOCH + 5)])
    result = compare_paths(a, b, cfg, normalizers=("timestamps",))
    assert not result.equivalent and result.difference is not None
    assert not kinds(result.difference, "content")
