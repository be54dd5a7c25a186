"""`verifier doctor` lists the tools and the runtime choice; a broken podman is exit 5."""

from __future__ import annotations

from verifier.cli.app import run
from verifier.errors import ExitCode
from verifier.tools import TOOLS


def test_doctor_lists_every_tool_and_the_runtime(capsys, tmp_path) -> None:
    assert run(["doctor", "--cache-dir", str(tmp_path)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert all(tool.name in out for tool in TOOLS)
    assert "OCI runtime: " in out and "podman version" in out


def test_doctor_with_a_forced_runtime(capsys, tmp_path) -> None:
    assert run(["doctor", "--cache-dir", str(tmp_path), "--runtime", "runc"]) == ExitCode.OK
    assert "OCI runtime: runc (set by --runtime)" in capsys.readouterr().out


def test_doctor_without_podman_is_an_infrastructure_error(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine where none of the tools is installed
    assert run(["doctor", "--cache-dir", str(tmp_path)]) == ExitCode.INFRASTRUCTURE
    out = capsys.readouterr().out
    assert "MISSING" in out and "OCI runtime: unavailable: " in out and "podman not found" in out
