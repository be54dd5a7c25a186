"""Times in comparison reports: fractional PAX mtimes and an RPM's buildtime/filemtimes are
shown as ISO 8601 UTC with the difference, never as raw epoch numbers."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from fixtures.compare.pairs import EPOCH, rpm
from tests.conftest import require_tool
from verifier.cli.app import run
from verifier.render.values import change, time_lines

A, B = "1795985391.1045394", "1795985391.1095285"


def test_a_fractional_epoch_is_iso_8601_with_the_exact_difference() -> None:
    assert change("mtime", A, B) == "2026-11-29T20:49:51.1045394Z → 2026-11-29T20:49:51.1095285Z (+0.0049891 s)"
    assert change("mtime", "1795985391.5", "1795985401.5") == "2026-11-29T20:49:51.5Z → 2026-11-29T20:50:01.5Z (+10 s)"


def test_rpm_time_tags_are_time_fields() -> None:
    assert change("buildtime", str(EPOCH), str(EPOCH + 5)) == "2023-11-14T22:13:20Z → 2023-11-14T22:13:25Z (+5 s)"
    shown = time_lines("filemtimes", f"@@ -1,2 +1,2 @@\n {EPOCH}\n-{EPOCH}\n+{EPOCH + 3600}\n")
    assert shown == "@@ -1,2 +1,2 @@\n 2023-11-14T22:13:20Z\n-2023-11-14T22:13:20Z\n+2023-11-14T23:13:20Z (+1 h)\n"
    assert time_lines("description", "-1700000000\n+2\n") == "-1700000000\n+2\n"  # not a time field


def test_pax_tar_fractional_mtimes_in_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tars = []
    for side, (body, when) in {"a": ("x\n", A), "b": ("y\n", B)}.items():
        src = tmp_path / side
        src.mkdir()
        (src / "f").write_text(body)
        subprocess.run(["touch", "-d", f"@{when}", str(src / "f")], check=True)
        out = tmp_path / f"{side}.tar"
        subprocess.run(["tar", "--format=pax", "-C", str(src), "-cf", str(out), "f"], check=True)
        tars.append(out)
    assert run(["compare", *map(str, tars)]) == 1
    text = capsys.readouterr().out
    assert "mtime: 2026-11-29T20:49:51.1045394Z → 2026-11-29T20:49:51.1095285Z (+0.0049891 s)" in text
    assert "1795985391" not in text


def test_rpm_buildtime_and_filemtimes_in_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_tool("rpmbuild")
    a, b = rpm(tmp_path, 1, "same", "h", EPOCH), rpm(tmp_path, 1, "same", "h", EPOCH + 5)
    assert run(["compare", str(a), str(b)]) == 1
    text = capsys.readouterr().out
    for tag in ("buildtime", "filemtimes"):
        shown = text.split(f"└─ {tag} [field]", 1)[1].split("└─", 1)[0]
        assert "│ -2023-11-14T22:13:20Z\n" in shown and "│ +2023-11-14T22:13:25Z (+5 s)\n" in shown
    assert not re.search(r"│ [-+ ]17000000\d\d$", text, re.M)  # no raw epoch left
