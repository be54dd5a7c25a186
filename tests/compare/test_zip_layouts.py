"""Valid zip layouts other than the usual one (issue 14, defect 13): data before the first
local header (self-extracting archives, with offsets from the zip's start or from the
file's start) and the central directory first (Mozilla's omni.ja). Each is read as a
zip and the differing members are named; the zips are built here, the omni.ja one by
hand with struct."""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from fixtures.compare.pairs import zip_file
from tests.compare.conftest import fields, kinds, member_paths
from verifier.compare.api import compare_paths
from verifier.settings import Settings

STUB = b"#!/bin/sh\necho 'self-extracting'\nexit 0\n" + bytes(range(256)) * 64  # 16 KiB: no PK in the head
DOS_TIME, DOS_DATE = (22 << 11) | (13 << 5) | 10, ((2023 - 1980) << 9) | (11 << 5) | 14


def _members(**overrides: str) -> dict[str, str]:
    return {"chrome/a.js": "let a = 1;\n" * 50, "chrome/b.css": "body { color: red }\n", **overrides}


def _standalone(members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in members.items():
            z.writestr(zipfile.ZipInfo(name, (2023, 11, 14, 22, 13, 20)), body)
    return out.getvalue()


def sfx_relative(path: Path, members: dict[str, str]) -> Path:
    """``cat stub archive.zip``: offsets still count from the zip's own start."""
    path.write_bytes(STUB + _standalone(members))
    return path


def sfx_adjusted(path: Path, members: dict[str, str]) -> Path:
    """A zip written after a stub, its offsets counted from the file's start (as zip -A leaves them)."""
    with open(path, "wb") as f:
        f.write(STUB)
        with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
            for name, body in members.items():
                z.writestr(zipfile.ZipInfo(name, (2023, 11, 14, 22, 13, 20)), body)
    return path


def omni_ja(path: Path, members: dict[str, str], preload: int = 0) -> Path:
    """Mozilla's optimised jar: a 4-byte preload length, the central directory, the local
    headers and data, then the end record (whose directory offset is 4), every offset
    counted from the file's start."""
    records, locals_, names = [], [], [name.encode() for name in members]
    stored = [zlib.compress(body.encode(), 9)[2:-4] for body in members.values()]  # raw deflate
    directory_size = sum(46 + len(n) for n in names)
    offset = 4 + directory_size
    for name, body, data in zip(names, members.values(), stored):
        crc = zlib.crc32(body.encode())
        head = struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, 8, DOS_TIME, DOS_DATE, crc, len(data),
                           len(body), len(name), 0)
        records.append(struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, 8, DOS_TIME, DOS_DATE, crc,
                                   len(data), len(body), len(name), 0, 0, 0, 0, 0o644 << 16, offset) + name)
        locals_.append(head + name + data)
        offset += len(head) + len(name) + len(data)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(names), len(names), directory_size, 4, 0)
    path.write_bytes(struct.pack("<I", preload) + b"".join(records) + b"".join(locals_) + end)
    return path


def test_the_omni_ja_layout_is_one_zipfile_cannot_read(tmp_path: Path) -> None:
    jar = omni_ja(tmp_path / "omni.ja", _members())
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(jar).testzip()  # what the auditor met before: compared as bytes


def test_omni_ja_members_are_named(tmp_path: Path, cfg: Settings) -> None:
    a = omni_ja(tmp_path / "a.ja", _members())
    b = omni_ja(tmp_path / "b.ja", _members(**{"chrome/b.css": "body { color: blue }\n"}))
    result = compare_paths(a, b, cfg)
    assert member_paths(result.difference) == ["chrome/b.css"]
    assert result.degradations == () and not kinds(result.difference, "bytes")


def test_omni_ja_preload_and_layout_are_said(tmp_path: Path, cfg: Settings) -> None:
    a = omni_ja(tmp_path / "a.ja", _members())
    b = omni_ja(tmp_path / "b.ja", _members(), preload=1234)
    diff = compare_paths(a, b, cfg).difference
    assert [n.source1 for n in kinds(diff, "bytes")] == [f"{a}::(data before the zip)"]
    c = tmp_path / "c.zip"
    c.write_bytes(_standalone(_members()))
    found = fields(compare_paths(a, c, cfg).difference, "header")
    assert found == {"layout": "-central directory first (omni.ja)\n+standard\n"}


@pytest.mark.parametrize("build", [sfx_relative, sfx_adjusted])
def test_self_extracting_zips_name_their_members(build, tmp_path: Path, cfg: Settings) -> None:  # type: ignore[no-untyped-def]
    a = build(tmp_path / "a.sh", _members())
    b = build(tmp_path / "b.sh", _members(**{"chrome/a.js": "let a = 2;\n"}))
    assert STUB[:4] != b"PK\x03\x04" and b"PK" not in a.read_bytes()[:8192]
    result = compare_paths(a, b, cfg)
    assert member_paths(result.difference) == ["chrome/a.js"]
    assert result.degradations == ()


def test_a_changed_stub_is_compared_as_a_file(tmp_path: Path, cfg: Settings) -> None:
    a = sfx_relative(tmp_path / "a.sh", _members())
    b = tmp_path / "b.sh"
    b.write_bytes(a.read_bytes().replace(b"self-extracting", b"SELF-EXTRACTING"))
    diff = compare_paths(a, b, cfg).difference
    assert [n.source1 for n in kinds(diff, "bytes")] == [f"{a}::(data before the zip)"]
    assert not kinds(diff, "member") and not kinds(diff, "content")


def test_a_stub_against_a_plain_zip_is_the_layout(tmp_path: Path, cfg: Settings) -> None:
    a = zip_file(tmp_path / "a.zip", _members())
    b = sfx_adjusted(tmp_path / "b.zip", _members())
    diff = compare_paths(a, b, cfg).difference
    assert fields(diff, "header") == {"layout": "-standard\n+data before the first member\n"}


def test_a_tar_ending_in_a_zip_is_still_a_tar(tmp_path: Path, cfg: Settings) -> None:
    import tarfile

    def tar_with(path: Path, body: str) -> Path:
        with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as t:
            data = _standalone(_members(**{"chrome/a.js": body}))
            info = tarfile.TarInfo("inner.zip")
            info.size, info.mtime = len(data), 1700000000
            t.addfile(info, io.BytesIO(data))
        return path

    a, b = tar_with(tmp_path / "a.tar", "1\n"), tar_with(tmp_path / "b.tar", "2\n")
    assert member_paths(compare_paths(a, b, cfg).difference) == ["chrome/a.js"]
    found = [n.source1 for n in kinds(compare_paths(a, b, cfg).difference, "content")]
    assert found == [f"{a}::inner.zip::chrome/a.js"]


def test_a_hostile_entry_count_is_bounded(tmp_path: Path, cfg: Settings) -> None:
    a = omni_ja(tmp_path / "a.ja", _members())
    data = bytearray(a.read_bytes())
    data[-12:-10] = struct.pack("<H", 0xFFFF)  # 65535 entries claimed, two present
    b = tmp_path / "b.ja"
    b.write_bytes(bytes(data))
    started = time.monotonic()
    result = compare_paths(a, b, cfg)
    assert time.monotonic() - started < 5
    assert any("b.ja is corrupt" in d and "central directory record 2 of 65535" in d for d in result.degradations)
