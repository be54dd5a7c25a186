"""What a terminal user sees besides the report: `--version`, and the live status line of
long steps (rebuild: elapsed time and the last build-log line; compares: members so far),
which must be silent when standard error is not a terminal and must never pass an escape
sequence from a build log or an archive member name to the terminal."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import pty
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from rich.console import Console

from fixtures.compare.pairs import EPOCH, tar
from tests.test_pipeline import A, release, run_verify
from verifier.cli.app import run
from verifier.compare.api import compare_paths
from verifier.sandbox.fake import FakeBuild
from verifier.sandbox.log import LogCapture
from verifier.settings import Settings
from verifier.status import StatusLine

ROOT = Path(__file__).parent.parent


def _terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=100, color_system="standard"), out


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert run(["--version"]) == 0
    assert capsys.readouterr().out == f"verifier {version}\n"


def test_status_line_is_silent_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with StatusLine(False).step("rebuilding") as step:
        step.detail("compiling hello.c")
        step.member("a.tar::x")
    assert capsys.readouterr() == ("", "")


def test_status_line_shows_elapsed_time_and_a_cleaned_detail() -> None:
    console, out = _terminal()
    with StatusLine(True, console).step("rebuilding") as step:
        step.detail("gcc -o hello hello.c \x1b[31mred\x1b]0;title\x07 \u202eevil")
        time.sleep(1.4)
    shown = out.getvalue()
    assert "rebuilding" in shown and re.search(r"(?<![0-9])[1-9] s", shown)  # the elapsed seconds
    assert "\\x1b[31mred" in shown and "\\u202eevil" in shown and "\\x07" in shown
    assert "\x1b[31mred" not in shown and "\x1b]0;" not in shown and "\u202e" not in shown and "\x07" not in shown


def test_status_line_stays_on_one_line_of_the_terminal() -> None:
    console, out = _terminal()
    with StatusLine(True, console).step("rebuilding") as step:
        step.detail("x" * 500 + "\nVERDICT: identical")
        time.sleep(0.4)
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "VERDICT: identical" not in plain.replace("\\x0a", "")  # the newline is escaped, not obeyed
    assert all(len(line) <= 100 for line in plain.replace("\r", "\n").split("\n"))


def test_build_log_lines_reach_the_callback_in_order(tmp_path: Path) -> None:
    read, write = os.pipe()
    seen: list[str] = []
    capture = LogCapture(os.fdopen(read, "rb"), tmp_path / "build.log", seen.append)
    with os.fdopen(write, "wb") as w:
        w.write(b"step 1\nstep 2\n\xffbad utf-8\n")
    assert capture.text().endswith("bad utf-8")
    assert seen == ["step 1", "step 2", "\ufffdbad utf-8"]
    assert (tmp_path / "build.log").read_bytes().startswith(b"step 1\n")


def test_compare_reports_each_member_as_it_goes(tmp_path: Path) -> None:
    """The comparison API's ``progress`` callback only; the command's status line is tested below."""
    files = {"VERSION": "1.0\n", "src/main.c": "int main(void) { return 0; }\n"}
    a = tar(tmp_path, "a.tar.gz", files, compress="gzip")
    b = tar(tmp_path, "b.tar.gz", {**files, "src/main.c": "return 1;\n"}, mtime=EPOCH + 1, compress="gzip")
    seen: list[str] = []
    compare_paths(a, b, Settings(), progress=seen.append)
    assert seen[0] == str(a)
    assert any(label.endswith("src/main.c") for label in seen)


def test_compare_command_prints_no_status_when_stderr_is_not_a_terminal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {"VERSION": "1.0\n"}
    a = tar(tmp_path, "a.tar", files)
    b = tar(tmp_path, "b.tar", files, mtime=EPOCH + 1)
    assert run(["compare", str(a), str(b)]) == 1
    assert capsys.readouterr().err == ""


def _compare_with_stderr_on(tmp_path: Path, terminal: bool) -> tuple[int, bytes, bytes]:
    """``verifier compare`` in a child process whose standard error is a pseudo-terminal (or a
    pipe); standard output is a pipe in both cases. Returns (exit status, stdout, stderr)."""
    files = {f"src/file-{i:03d}.c": f"int f{i}(void) {{ return {i}; }}\n" for i in range(300)}
    a = tar(tmp_path, "a.tar", files)
    b = tar(tmp_path, "b.tar", {k: v.replace("return", "return -") for k, v in files.items()}, mtime=EPOCH + 1)
    code = "import sys; from verifier.cli.app import run; sys.exit(run(sys.argv[1:]))"
    argv = [sys.executable, "-c", code, "compare", str(a), str(b)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm", "COLUMNS": "100"}
    env.pop("FORCE_COLOR", None)
    if not terminal:
        done = subprocess.run(argv, capture_output=True, env=env, timeout=120, check=False)
        return done.returncode, done.stdout, done.stderr
    master, slave = pty.openpty()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, env=env) as child:
        os.close(slave)
        err = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            err += chunk
        out = child.stdout.read() if child.stdout else b""
        status = child.wait(timeout=120)
    os.close(master)
    return status, out, err


def test_compare_command_shows_live_progress_on_a_terminal(tmp_path: Path) -> None:
    """Reviewer finding: a long ``verifier compare`` showed nothing on a terminal. Now its status
    line counts the members compared and names the latest; the report on stdout is unchanged."""
    status, out, err = _compare_with_stderr_on(tmp_path, terminal=True)
    shown = err.decode("utf-8", "replace")
    assert status == 1, shown
    assert "comparing" in shown
    counts = {int(n) for n in re.findall(r"(\d+) compared · ", shown)}
    assert counts and max(counts) > 300, shown  # every member, the archive and pkg/ itself
    assert re.search(r"\d+ compared · (pkg/)?src/file-\d{3}\.c", shown), shown
    assert b"compared \xc2\xb7" not in out and b"file-000.c" in out  # the report, without the status line


def test_compare_command_shows_no_progress_when_stderr_is_a_pipe(tmp_path: Path) -> None:
    status, out, err = _compare_with_stderr_on(tmp_path, terminal=False)
    assert status == 1 and b"file-000.c" in out
    assert err == b""


def test_fetch_prints_a_capped_table_for_many_artifacts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 14 defect 11, printing half: every pin is checked, the table shows the first 50."""
    def pin(name: str, data: bytes) -> dict:
        (tmp_path / name).write_bytes(data)
        return {"name": name, "url": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

    doc = {"manifest_version": 1, "name": "many", "version": "1", "lockfile": None, "sources": [],
           "environment": {**pin("env.tar", b"env"), "format": "rootfs"},
           "build": {"command": "true", "workdir": "/build", "outputs": ["*"], "source_date_epoch": 0,
                     "variables": {}},
           "artifacts": [pin("a-release-artifact-with-a-very-long-name-" * 3 + ".tar.gz", b"long")]
                         + [pin(f"out-{i:03d}.o", b"%d" % i) for i in range(119)]}
    (tmp_path / "release.json").write_text(json.dumps(doc))
    assert run(["fetch", str(tmp_path / "release.json"), "--cache-dir", str(tmp_path / "cache")]) == 0
    out = capsys.readouterr().out
    assert "out-047.o" in out and "out-048.o" not in out and "… and 71 more" in out
    assert "all 121 pinned files verified" in out
    assert len(out.splitlines()) < 60 and max(len(line) for line in out.splitlines()[:-1]) <= 100


def test_doctor_table_fits_100_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(["doctor", "--cache-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "podman" in out and max(len(line) for line in out.splitlines()) <= 100


@pytest.mark.parametrize("terminal", [True, False])
def test_verify_shows_each_step_and_the_last_build_log_line_only_on_a_terminal(
        settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        terminal: bool) -> None:
    """The pipeline with the fake sandbox; FORCE_COLOR makes rich treat the captured stderr as a terminal."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    manifest = release(tmp_path / "rel", {"a.txt": A})
    build = FakeBuild({"out/a.txt": b"other\n"}, log="compiling a.c\nlinking a \x1b[31mred\n")
    run_verify(dataclasses.replace(settings, progress=terminal), manifest, build)
    err = capsys.readouterr().err
    if not terminal:
        assert err == ""
        return
    for step in ("preparing the build environment", "rebuilding", "comparing artifacts"):
        assert step in err
    assert "linking a \\x1b[31mred" in err and "\x1b[31mred" not in err  # the last log line, escaped
    assert "1 compared · official/a.txt" in err
