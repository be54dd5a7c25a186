"""The typed report model and the compare document: written in one place, read back with
one validation (issue 13, item 1)."""

from __future__ import annotations

import io
import json
import tarfile
import time
from dataclasses import replace
from pathlib import Path

import pytest

from verifier.cli.app import run
from verifier.compare.api import compare_paths
from verifier.errors import ExitCode, InputError
from verifier.report.codec import load_report, parse_report, report_bytes
from verifier.report.comparison import cap_diffs, comparison_bytes, comparison_document, load_comparison
from verifier.settings import Settings

CANONICAL = Path(__file__).parent.parent / "fixtures" / "reports" / "canonical.json"


def tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_a_report_reads_back_to_the_same_model_and_bytes() -> None:
    report = load_report(CANONICAL)
    assert parse_report(report_bytes(report), "again") == report
    assert report_bytes(report) == CANONICAL.read_bytes()


def test_a_report_written_before_output_notes_still_loads(tmp_path: Path) -> None:
    doc = json.loads(CANONICAL.read_text(encoding="utf-8"))
    del doc["sandbox"]["output_notes"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(doc))
    assert load_report(old).sandbox is not None and load_report(old).sandbox.output_notes == ()


@pytest.mark.parametrize("data", [b"", b"[]", b'{"report_version": 2}', b'{"report_version": 1}',
                                  b'{"report_version": 1, "report_version": 1}'])
def test_what_is_not_a_report_is_one_error_naming_the_file(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        load_report(path)
    assert caught.value.message.startswith(f"{path}") and caught.value.message.isprintable()


def test_report_render_of_a_malformed_report_exits_2_naming_the_field(tmp_path: Path, capsys) -> None:
    doc = json.loads(CANONICAL.read_text(encoding="utf-8"))
    doc["artifacts"][1]["difference"]["details"][0]["comments"] = "not a list"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc))
    assert run(["report", "render", str(path)]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "field artifacts/1/difference/details/0/comments" in err


def test_the_compare_document_round_trips_and_is_validated(tmp_path: Path) -> None:
    a = tar(tmp_path / "a.tar", {"f": b"1\n2\n3\n"})
    b = tar(tmp_path / "b.tar", {"f": b"1\nx\n3\n", "g": b"new"})
    doc = comparison_document(a, b, compare_paths(a, b, Settings()))
    saved = tmp_path / "c.json"
    saved.write_bytes(comparison_bytes(doc))
    assert load_comparison(saved) == doc
    broken = json.loads(saved.read_text())
    broken["difference"]["details"] = [{"source1": 1}]
    saved.write_text(json.dumps(broken))
    with pytest.raises(InputError, match=r"c\.json: not a valid compare document: field difference/details/0: "):
        load_comparison(saved)


def test_cap_diffs_is_display_only(tmp_path: Path) -> None:
    a = tar(tmp_path / "a.tar", {"f": b"".join(b"%d\n" % i for i in range(100))})
    b = tar(tmp_path / "b.tar", {"f": b"".join(b"%d\n" % (i * 2) for i in range(100))})
    doc = comparison_document(a, b, compare_paths(a, b, Settings()))
    capped = cap_diffs(doc, 5)
    assert capped.status == doc.status and capped.identical == doc.identical
    assert capped.difference is not None and doc.difference is not None
    diffs = [d.unified_diff for d in capped.difference.walk() if d.unified_diff]
    assert diffs and all(d.count("\n") <= 5 for d in diffs)
    assert any("--max-diff-lines" in c for d in capped.difference.walk() for c in d.comments)
    assert replace(capped, difference=doc.difference) == doc


def test_a_large_report_loads_in_bounded_time(tmp_path: Path) -> None:
    """20,000 differing artifacts (33 MB): measured 3.2 s; the bound leaves room for a busy host."""
    doc = json.loads(CANONICAL.read_text(encoding="utf-8"))
    doc["artifacts"] = [dict(doc["artifacts"][1], name=f"a{i}.tar.gz") for i in range(20000)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    started = time.monotonic()
    report = load_report(path)
    assert len(report.artifacts) == 20000 and time.monotonic() - started < 20
