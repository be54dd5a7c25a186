"""zip, wheel and jar: members, order, timestamps, extra fields, compression, comment."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from fixtures.compare.pairs import zip_file
from tests.compare.conftest import fields, kinds, member_paths
from verifier.compare.api import compare_paths
from verifier.errors import LimitExceeded
from verifier.settings import Settings, UnpackLimits


def test_identical_wheels_report_nothing(tmp_path: Path, cfg: Settings) -> None:
    a = zip_file(tmp_path / "a.whl", {"pkg/__init__.py": "x = 1\n"})
    b = zip_file(tmp_path / "b.whl", {"pkg/__init__.py": "x = 1\n"})
    assert compare_paths(a, b, cfg).difference is None


def test_timestamps_and_content_at_the_member(tmp_path: Path, cfg: Settings) -> None:
    a = zip_file(tmp_path / "a.whl", {"pkg/__init__.py": "x = 1\n", "pkg-1.0.dist-info/RECORD": "r\n"})
    b = tmp_path / "b.whl"
    with zipfile.ZipFile(b, "w") as z:
        z.writestr(zipfile.ZipInfo("pkg/__init__.py", (2026, 1, 2, 3, 4, 6)), "x = 2\n")
        z.writestr(zipfile.ZipInfo("pkg-1.0.dist-info/RECORD", (2023, 11, 14, 22, 13, 20)), "r\n")
    diff = compare_paths(a, b, cfg).difference
    assert [n.source1 for n in kinds(diff, "content")] == [f"{a}::pkg/__init__.py"]
    dated = [n.source1 for n in kinds(diff, "metadata") if n.details and "date_time" in fields(n)]
    assert dated == [f"{a}::pkg/__init__.py (metadata)"]


def test_extra_fields_and_compression_without_content_change(tmp_path: Path, cfg: Settings) -> None:
    a = zip_file(tmp_path / "a.jar", {"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n"})
    b = zip_file(tmp_path / "b.jar", {"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n"},
                 extra=b"\xfe\xca\x00\x00", compression=zipfile.ZIP_STORED)
    diff = compare_paths(a, b, cfg).difference
    found = fields(diff)
    assert found["extra"] == "-\n+feca0000\n"
    assert found["compression"] == "-deflated\n+stored\n"
    assert not kinds(diff, "content"), "equal content under different compression is not a content change"


def test_added_member_order_and_comment(tmp_path: Path, cfg: Settings) -> None:
    a = zip_file(tmp_path / "a.zip", {"x": "1", "y": "2"})
    b = zip_file(tmp_path / "b.zip", {"y": "2", "x": "1", "z": "3"})
    with zipfile.ZipFile(b, "a") as z:
        z.comment = b"built on my laptop"
    diff = compare_paths(a, b, cfg).difference
    assert kinds(diff, "member")[0].unified_diff == "+z (1 bytes)\n"
    assert len(kinds(diff, "order")) == 1
    assert fields(diff, "header") == {"archive comment": "-\n+built on my laptop\n"}


def test_recognised_by_magic_not_name(tmp_path: Path, cfg: Settings) -> None:
    a = zip_file(tmp_path / "a.bin", {"m.py": "x = 1\n"})
    b = zip_file(tmp_path / "b.bin", {"m.py": "x = 2\n"})
    assert member_paths(compare_paths(a, b, cfg).difference) == ["m.py"]


def test_a_member_that_inflates_past_the_budget_is_an_error(tmp_path: Path) -> None:
    a = zip_file(tmp_path / "a.zip", {"big": b"\0" * (8 << 20)})
    b = zip_file(tmp_path / "b.zip", {"big": b"\0" * (8 << 20) + b"!"})
    with pytest.raises(LimitExceeded, match=r"member 'big' declares 838860[89] bytes.*limit max_expanded_bytes=1048576; "
                                            r"raise it with --unpack-limit max_expanded_bytes=N"):
        compare_paths(a, b, Settings(unpack=UnpackLimits(max_expanded_bytes=1 << 20)))


def test_a_directory_offset_past_the_end_is_a_comment(tmp_path: Path, cfg: Settings) -> None:
    a = zip_file(tmp_path / "a.zip", {"m": "x" * 1000})
    data = bytearray(a.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    data[central + 42:central + 46] = (10**6).to_bytes(4, "little")  # local header offset
    b = tmp_path / "b.zip"
    b.write_bytes(bytes(data))
    result = compare_paths(a, b, cfg)
    assert any("no local header where the central directory says" in d for d in result.degradations)
