"""RPM packages: header tags field by field (volatile ones labelled), then the payload."""

from __future__ import annotations

from pathlib import Path

from fixtures.compare.pairs import rpm
from tests.compare.conftest import kinds, member_paths
from tests.conftest import require_tool
from verifier.compare.api import compare_paths
from verifier.settings import Settings


def test_header_fields_and_payload(tmp_path: Path, cfg: Settings) -> None:
    require_tool("rpmbuild")
    a = rpm(tmp_path, 1, "content 1", "host-a")
    b = rpm(tmp_path, 1, "content 2", "host-b")
    diff = compare_paths(a, b, cfg).difference
    tags = {n.source1: n for n in kinds(diff, "field")}
    assert tags["buildhost"].unified_diff.endswith("\n-host-a\n+host-b\n")
    assert "volatile tag" in tags["buildhost"].comments[0]
    assert "version" not in tags and "name" not in tags, "equal tags are not reported"
    assert member_paths(diff) == ["usr/share/demo/file.txt"]
    result = compare_paths(a, b, cfg, normalizers=("rpm-signature", "rpm-buildinfo"))
    assert not result.equivalent, "normalisers never hide the payload's content change"


def test_only_volatile_tags_differ_is_equivalent_after_normalisers(tmp_path: Path, cfg: Settings) -> None:
    require_tool("rpmbuild")
    a = rpm(tmp_path, 1, "same", "host-a")
    b = rpm(tmp_path, 1, "same", "host-b")
    result = compare_paths(a, b, cfg, normalizers=("rpm-signature", "rpm-buildinfo"))
    assert not result.identical and not kinds(result.difference, "content")
    assert result.equivalent


def test_corrupt_rpm_degrades_to_bytes(tmp_path: Path, cfg: Settings) -> None:
    require_tool("rpmbuild")
    a = rpm(tmp_path, 1, "content 1", "h")
    bad = tmp_path / "bad.rpm"
    bad.write_bytes(a.read_bytes()[:200] + b"\xff" * 300)
    result = compare_paths(a, bad, cfg)
    assert any("bad.rpm is corrupt (RPM lead and headers)" in d for d in result.degradations)
    assert result.difference.kind == "bytes"
