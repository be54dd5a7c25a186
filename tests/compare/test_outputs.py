"""`verifier compare` outputs: formats, exit codes, --load, display limits, and golden
outputs for one pair per comparator (fixtures/compare/expected/, reviewed like code;
VERIFIER_UPDATE_GOLDEN=1 rewrites them)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.compare.pairs import EPOCH, cpio, deb, pyc, squashfs, tar, zip_file
from tests.compare.conftest import assert_golden
from tests.conftest import require_tool
from verifier.cli.app import run
from verifier.errors import ExitCode


def _tarballs(tmp: Path) -> tuple[Path, Path]:
    files = {"VERSION": "1.0\n", "src/main.c": "int main(void) { return 0; }\n"}
    a = tar(tmp, "a.tar.gz", files, compress="gzip")
    b = tar(tmp, "b.tar.gz", {**files, "src/main.c": "int main(void) { return 1; }\n"}, mtime=EPOCH + 3600,
            compress="gzip")
    return a, b


def _debs(tmp: Path) -> tuple[Path, Path]:
    require_tool("dpkg-deb")
    return deb(tmp, "a", "1.0", {"README": "one\n"}), deb(tmp, "b", "1.1", {"README": "two\n"})


def _wheels(tmp: Path) -> tuple[Path, Path]:
    a = zip_file(tmp / "a.whl", {"pkg/__init__.py": "x = 1\n", "pkg/data.txt": "d\n"})
    b = zip_file(tmp / "b.whl", {"pkg/__init__.py": "x = 2\n", "pkg/data.txt": "d\n"}, date_time=(2025, 1, 1, 0, 0, 0))
    return a, b


def _cpios(tmp: Path) -> tuple[Path, Path]:
    require_tool("cpio")
    a = cpio(tmp, "a.cpio", {"etc/motd": "hello\n"})
    b = tmp / "b.cpio"
    b.write_bytes(a.read_bytes().replace(b"hello\n", b"HELLO\n"))  # same inodes: only the content differs
    return a, b


def _squashfs(tmp: Path) -> tuple[Path, Path]:
    require_tool("mksquashfs")
    return squashfs(tmp, "a", {"etc/conf": "one\n"}), squashfs(tmp, "b", {"etc/conf": "two\n"})


def _pycs(tmp: Path) -> tuple[Path, Path]:
    return pyc(tmp, "a", "x = 1\n"), pyc(tmp, "b", "x = 1\n", source_mtime=EPOCH + 60)


PAIRS: dict[str, Callable[[Path], tuple[Path, Path]]] = {
    "tarball-pair": _tarballs, "deb-pair": _debs, "wheel-pair": _wheels, "cpio-pair": _cpios,
    "squashfs-pair": _squashfs, "pyc-pair": _pycs,
}


@pytest.mark.parametrize("fmt", ["text", "markdown"])
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_golden_output(name: str, fmt: str, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    a, b = PAIRS[name](tmp_path)
    code = run(["compare", a.name, b.name, "--format", fmt, "--source-date-epoch", str(EPOCH)])
    assert code == ExitCode.DIFFERENT
    assert_golden(f"{name}.{'md' if fmt == 'markdown' else 'txt'}", capsys.readouterr().out)


def test_formats_load_and_exit_codes(tmp_path: Path, capsys) -> None:
    a, b = _tarballs(tmp_path)
    assert run(["compare", str(a), str(a)]) == ExitCode.OK
    saved = tmp_path / "c.json"
    assert run(["compare", str(a), str(b), "--format", "json", "--output", str(saved)]) == ExitCode.DIFFERENT
    doc = json.loads(saved.read_text())
    assert doc["compare_version"] == 1 and doc["identical"] is False
    assert run(["compare", "--load", str(saved), "--format", "html", "--output", str(tmp_path / "c.html")]) == 1
    page = (tmp_path / "c.html").read_text()
    assert "<details" in page and "Content-Security-Policy" in page and "http://" not in page.split("<body>")[1]
    capsys.readouterr()
    assert run(["compare", str(a), str(tmp_path / "missing")]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing: no such file" in err


@pytest.mark.parametrize("value", ["soon", "20:10"])
def test_a_bad_build_time_is_a_one_line_error(value: str, tmp_path: Path, capsys) -> None:
    a, b = _tarballs(tmp_path)
    assert run(["compare", str(a), str(b), "--build-time", value]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--build-time" in err


def test_output_limits_cut_the_display_never_the_result(tmp_path: Path, capsys) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("".join(f"line {i}\n" for i in range(500)))
    b.write_text("".join(f"LINE {i}\n" for i in range(500)))
    code = run(["compare", str(a), str(b), "--format", "markdown", "--max-diff-lines", "5"])
    out = capsys.readouterr().out
    assert code == ExitCode.DIFFERENT and "diff cut to 5 lines" in out
    code = run(["compare", str(a), str(b), "--max-report-bytes", "300"])
    out = capsys.readouterr().out
    assert code == ExitCode.DIFFERENT and "output cut at 300 bytes" in out and len(out.encode()) < 500
