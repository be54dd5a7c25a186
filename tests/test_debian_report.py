"""The report's optional ``debian`` section: absent from other reports, round-trips, rendered."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from verifier.render.formats import PRESENTERS, ReportFormat
from verifier.report.codec import load_report, parse_report, report_bytes
from verifier.report.model import ArchiveRecord, DebianRecord

CANONICAL = Path(__file__).parent.parent / "fixtures" / "reports" / "canonical.json"
RECORD = DebianRecord(
    "hello", "2.10-3", ArchiveRecord("http://mirror.invalid/debian", "bookworm", "a" * 64, "Sat, 11 Jul 2026",
                                     ("4D64FEC119C2029067D6E791F8D2585B8783D481",), "/usr/share/keyrings/k.gpg"),
    "re-resolved", None, "none", "", (), ("work/hello-2.10-3/rebuilt/hello_2.10-3_amd64.deb",))


def test_the_debian_section_is_absent_unless_set_and_round_trips() -> None:
    report = load_report(CANONICAL)
    assert "debian" not in json.loads(report_bytes(report))
    with_debian = replace(report, debian=RECORD)
    data = report_bytes(with_debian)
    assert json.loads(data)["debian"]["environment"] == "re-resolved"
    assert parse_report(data, "again") == with_debian


def test_every_readable_format_shows_the_environment_origin_and_the_chain() -> None:
    report = replace(load_report(CANONICAL), debian=RECORD)
    for fmt in ("text", "markdown", "html"):
        out = PRESENTERS[ReportFormat(fmt)](report)
        assert "NOT the original one" in out and "4D64FEC119C2029067D6E791F8D2585B8783D481" in out, fmt
        assert "hello_2.10-3_amd64.deb" in out.replace("\\", ""), fmt
