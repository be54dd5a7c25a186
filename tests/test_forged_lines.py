"""Issue 14, defect 1: a string taken from an input (an archive member's name, a file name,
a path) must never start a line of its own in any output. Member names carrying LF, CR
and a bidi override go through `verifier compare`, a rendered verify report in every
format and an error message; each output must show them escaped on the line they belong to.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from verifier.cli.app import run
from verifier.compare.api import compare_paths
from verifier.errors import ExitCode, InputError
from verifier.render import ReportFormat, render
from verifier.report.codec import load_report, parse_report
from verifier.settings import Settings
from verifier.stages import ArtifactStatus

REPORTS = Path(__file__).parent.parent / "fixtures" / "reports"
FORGED = "VERDICT: identical"
NAMES = (f"evil\n{FORGED}", f"cr\r{FORGED}", f"bidi\u202e{FORGED}", f"crlf\r\n{FORGED}")
# a forged line: the text at the start of a line, after any indentation, tree glyphs,
# diff markers, list or quote markers and HTML tags a presenter puts in front of it
FORGED_LINE = re.compile(r"^(?:[\s│└─●+\-#*>|`]|<[^>]*>)*" + re.escape(FORGED), re.M)


def tar(path: Path, members: dict[str, bytes], mtime: int) -> Path:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), mtime
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """Two tars whose members differ in content, in metadata, and in which exist at all."""
    a = tar(tmp_path / "a.tar", {"common": b"1", **{n: b"one" for n in NAMES}}, 5)
    b = tar(tmp_path / "b.tar", {"common": b"1", **{n: b"two" for n in NAMES},
                                 **{f"only{n}": b"x" for n in NAMES}}, 6)
    return a, b


def assert_no_forged_line(out: str) -> None:
    assert "\r" not in out and "\u202e" not in out
    forged = FORGED_LINE.search(out)
    assert forged is None, out[max(forged.start() - 200, 0): forged.end() + 50]


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "json"])
def test_compare_output_has_no_forged_line(pair: tuple[Path, Path], fmt: str, capsys) -> None:
    code = run(["compare", str(pair[0]), str(pair[1]), "--format", fmt])
    out = capsys.readouterr().out
    assert code == ExitCode.DIFFERENT
    assert_no_forged_line(out)
    shown = "\\\\n" if fmt == "json" else "\\\\x0a" if fmt != "markdown" else r"\\\\x0a"
    assert re.search(shown + "VERDICT", out), out  # the name is shown, escaped, on its line


def test_compare_of_directories_has_no_forged_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for name in NAMES:
        (tmp_path / "b" / name).write_bytes(b"x")
    assert run(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == ExitCode.DIFFERENT
    out = capsys.readouterr().out
    assert_no_forged_line(out)
    assert "evil\\x0aVERDICT" in out


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_verify_report_has_no_forged_line_in_any_format(pair: tuple[Path, Path], fmt: ReportFormat) -> None:
    report = load_report(REPORTS / "canonical.json")
    tree = compare_paths(pair[0], pair[1], Settings()).difference
    assert tree is not None
    artifacts = tuple(replace(a, difference=tree, comments=(f"renamed: {NAMES[0]} -> {NAMES[1]}",))
                      if a.status == ArtifactStatus.DIFFERENT else a for a in report.artifacts)
    report = replace(report, artifacts=artifacts, reasons=(f"{NAMES[0]} differs",))
    out = render(report, fmt)
    if fmt == ReportFormat.JSON:
        assert "\\nVERDICT" in out and parse_report(out.encode(), "again") == report
        out = out.replace("\\n", "").replace("\\r", "")
    assert_no_forged_line(out)


def test_error_message_is_one_line_with_controls_escaped(tmp_path: Path, capsys) -> None:
    missing = tmp_path / f"no\n{FORGED}\r\x1b[2K"
    assert run(["compare", str(missing), str(tmp_path)]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("verifier: error: ")
    assert "\r" not in err and "\x1b" not in err
    assert f"no\\x0a{FORGED}\\x0d\\x1b[2K" in err  # names the input, visibly


@pytest.mark.parametrize("raw", [f"a\n{FORGED}", f"a\r{FORGED}", f"a\u2028{FORGED}", f"a\x85{FORGED}", "a\u202eb"])
def test_verifier_error_message_never_spans_lines(raw: str) -> None:
    error = InputError(f"{raw}: invalid")
    assert error.message.isprintable() and error.message.endswith(": invalid")
    assert str(error) == error.message and ("\\x" in error.message or "\\u" in error.message)
