"""Local files the user names are read only when they are regular files (a FIFO never hangs
a run), output paths that cannot be written are one-line errors with a documented exit
code, and URL schemes and redirects outside the network policy are refused with exit 2."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures_http import Server
from verifier.cli.app import run
from verifier.errors import ExitCode

ROOT = Path(__file__).parent.parent
REPORTS = ROOT / "fixtures" / "reports"
BOUND = 20  # seconds: a run blocked on a FIFO is killed here and fails the test


def bounded_cli(*args: object) -> tuple[int, str]:
    """The CLI in a child process, killed after BOUND seconds (a hang must fail, not block)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", "from verifier.cli.app import main; main()", *map(str, args)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=BOUND)
    return done.returncode, done.stderr


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str]:
    code = run([str(a) for a in args])
    return code, capsys.readouterr().err


def assert_one_line(err: str, *needles: str) -> None:
    assert err.count("\n") == 1 and "Traceback" not in err and "internal error" not in err, err
    for needle in needles:
        assert needle in err, err


def pin(name: str, url: str, data: bytes) -> dict:
    return {"name": name, "url": url, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def manifest(env_url: str, art_url: str, art: bytes = b"art") -> dict:
    return {"manifest_version": 1, "name": "x", "version": "1",
            "environment": {**pin("env.tar", env_url, b"env"), "format": "rootfs"}, "lockfile": None,
            "sources": [], "build": {"command": "true", "workdir": "/build", "outputs": ["*"],
                                     "source_date_epoch": 0, "variables": {}},
            "artifacts": [pin("art.bin", art_url, art)]}


def local_manifest(tmp_path: Path, art_url: str) -> Path:
    env = tmp_path / "env.tar"
    env.write_bytes(b"env")
    path = tmp_path / "m" / "release.json"
    path.parent.mkdir()
    path.write_text(json.dumps(manifest(env.as_uri(), art_url)))
    return path


# -- 1. local inputs: regular files only, never a wait on a FIFO ---------------------------

@pytest.mark.parametrize("as_uri", [True, False])
def test_a_pin_naming_a_fifo_is_refused_without_hanging(tmp_path: Path, as_uri: bool) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    release = local_manifest(tmp_path, fifo.as_uri() if as_uri else str(fifo))
    code, err = bounded_cli("fetch", "--cache-dir", tmp_path / "c", release)
    assert code == ExitCode.BAD_INPUT
    assert_one_line(err, f"{fifo}: is a FIFO", "art.bin")


def test_a_pin_naming_a_device_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    release = local_manifest(tmp_path, "/dev/zero")
    code, err = cli(capsys, "fetch", "--cache-dir", tmp_path / "c", release)
    assert code == ExitCode.BAD_INPUT
    assert_one_line(err, "/dev/zero: is a character device", "art.bin")


def test_a_manifest_path_naming_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "release.json"
    os.mkfifo(fifo)
    code, err = bounded_cli("fetch", "--cache-dir", tmp_path / "c", fifo)
    assert code == ExitCode.BAD_INPUT
    assert_one_line(err, f"{fifo}: is a FIFO", "manifest")


@pytest.fixture
def signed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Path]:
    report = tmp_path / "report.json"
    shutil.copy(REPORTS / "canonical.json", report)
    assert cli(capsys, "keygen", "--out", tmp_path / "alice")[0] == ExitCode.OK
    envelope = tmp_path / "report.intoto.json"
    code, _ = cli(capsys, "report", "sign", report, "--signing-key", f"file:{tmp_path / 'alice'}", "--out", envelope)
    assert code == ExitCode.OK
    return {"report": report, "envelope": envelope, "pub": tmp_path / "alice.pub"}


def test_a_report_or_key_naming_a_fifo_is_refused_without_hanging(tmp_path: Path, signed: dict[str, Path]) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for args in (["report", "render", fifo, "--format", "text"],
                 ["report", "verify", signed["envelope"], "--key", fifo],
                 ["report", "verify", fifo, "--key", signed["pub"]]):
        code, err = bounded_cli(*args)
        assert code == ExitCode.BAD_INPUT, args
        assert_one_line(err, f"{fifo}: is a FIFO")


def test_an_environment_lock_naming_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "env.lock.json"
    os.mkfifo(fifo)
    code, err = bounded_cli("env", "build", "--lockfile", fifo, "--out", tmp_path / "env.tar")
    assert code == ExitCode.BAD_INPUT
    assert_one_line(err, f"{fifo}: is a FIFO", "environment lock")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env.lock.json"]


# -- 2. output paths that cannot be written --------------------------------------------------

@pytest.fixture
def two_tars(tmp_path: Path) -> tuple[Path, Path]:
    tars = []
    for side in ("a", "b"):
        content = tmp_path / f"content-{side}"
        content.mkdir()
        (content / "f.txt").write_text(f"side {side}\n")
        tar = tmp_path / f"{side}.tar"
        subprocess.run(["tar", "-cf", str(tar), "-C", str(content), "f.txt"], check=True)
        tars.append(tar)
    return tars[0], tars[1]


@pytest.mark.parametrize(("option", "target", "problem"), [
    ("--output", "dir", "is a directory"),
    ("--output", "/proc/self/x", "No such file or directory"),
    ("--html", "/proc/self/x", "No such file or directory"),
    ("--output", "file/below", "Not a directory"),
])
def test_compare_output_that_cannot_be_written_is_exit_2(
        tmp_path: Path, two_tars: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
        option: str, target: str, problem: str) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("a file, not a directory")
    path = target if target.startswith("/") else str(tmp_path / target)
    code, err = cli(capsys, "compare", option, path, *two_tars)
    assert code == ExitCode.BAD_INPUT
    assert_one_line(err, f"{path}: cannot write: {problem}")
    assert list((tmp_path / "dir").iterdir()) == []  # no temp file left behind


def test_a_full_disk_on_output_is_exit_5(two_tars: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, err = cli(capsys, "compare", "--output", "/dev/full", *two_tars)
    assert code == ExitCode.INFRASTRUCTURE
    assert_one_line(err, "/dev/full: cannot write: No space left on device")


def test_report_render_output_that_cannot_be_written_is_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.json"
    shutil.copy(REPORTS / "canonical.json", report)
    for target in ("/proc/self/x", str(tmp_path)):
        code, err = cli(capsys, "report", "render", report, "--format", "html", "--output", target)
        assert code == ExitCode.BAD_INPUT
        assert_one_line(err, f"{target}: cannot write")


# -- 3. a redirect to a file URL is a policy refusal ----------------------------------------

def test_a_redirect_to_a_file_url_is_exit_2(http_server: Server, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    http_server.add("/env.tar", body=b"env")
    http_server.add("/art.bin", status=302, location="file:///etc/passwd")
    url = http_server.add("/release.json", body=json.dumps(manifest("env.tar", "art.bin")).encode())
    code, err = cli(capsys, "fetch", "--cache-dir", tmp_path / "c", url)
    assert code == ExitCode.BAD_INPUT
    assert_one_line(err, "art.bin: redirect to a file URL refused")


# -- 4. the address policy's message ---------------------------------------------------------

def test_an_unspecified_address_is_named_with_its_article(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = cli(capsys, "fetch", "--cache-dir", tmp_path / "c", "http://0.0.0.0:9/release.json")
    assert code == ExitCode.BAD_INPUT
    assert_one_line(err, "0.0.0.0 is an unspecified address")


# -- 5. unknown URL schemes are refused, not read as local paths -----------------------------

def test_an_unknown_scheme_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = cli(capsys, "fetch", "--cache-dir", tmp_path / "c", "ftp://127.0.0.1/x")
    assert code == ExitCode.BAD_INPUT
    assert_one_line(err, "ftp://127.0.0.1/x: unsupported URL scheme 'ftp'")
    release = local_manifest(tmp_path, "ftp://127.0.0.1/art.bin")
    code, err = cli(capsys, "fetch", "--cache-dir", tmp_path / "c", release)
    assert code == ExitCode.BAD_INPUT
    assert_one_line(err, "ftp://127.0.0.1/art.bin", "'ftp'")  # the manifest's own check
