"""GnuPG keys sign reports (`gnupg:FINGERPRINT`) and verify offline from an exported key file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_tool
from verifier.cli.app import run
from verifier.errors import ExitCode

CANONICAL = Path(__file__).parent.parent / "fixtures" / "reports" / "canonical.json"


@pytest.fixture
def gpg_key(tmp_path: Path, monkeypatch) -> str:
    require_tool("gpg")
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "verifier test <t@example.invalid>",
                    "ed25519", "sign", "never"], check=True, capture_output=True)
    listing = subprocess.run(["gpg", "--list-keys", "--with-colons"], check=True, capture_output=True, text=True).stdout
    yield next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr"))
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], capture_output=True, env=dict(os.environ, GNUPGHOME=str(home)))


def test_gpg_signed_report_verifies_and_tampering_fails(tmp_path: Path, gpg_key: str, capsys) -> None:
    public = tmp_path / "gpg-key.json"
    assert run(["keygen", "--gpg", gpg_key, "--out", str(public)]) == ExitCode.OK
    envelope = tmp_path / "report.intoto.json"
    assert run(["report", "sign", str(CANONICAL), "--signing-key", f"gnupg:{gpg_key}",
                "--time-verified", "2026-01-01T00:00:00Z", "--out", str(envelope)]) == ExitCode.OK
    doc = json.loads(envelope.read_text())
    assert "other_headers" in doc["signatures"][0]
    code = run(["report", "verify", str(envelope), "--key", str(public)])
    assert code == ExitCode.DIFFERENT, "the canonical report's result is FAILED: signature valid, exit 1"
    doc["payload"] = doc["payload"][:-4] + "AAAA"
    (tmp_path / "tampered.json").write_text(json.dumps(doc))
    capsys.readouterr()
    assert run(["report", "verify", str(tmp_path / "tampered.json"), "--key", str(public)]) == ExitCode.INTEGRITY
    assert "does not verify" in capsys.readouterr().err


def test_unknown_gpg_key(tmp_path: Path, gpg_key: str, capsys) -> None:
    code = run(["keygen", "--gpg", "0" * 40, "--out", str(tmp_path / "k.json")])
    assert code == ExitCode.BAD_INPUT
    assert "GnuPG key not usable" in capsys.readouterr().err


def test_signing_with_gpg_where_gpg_is_missing_is_an_infrastructure_error(tmp_path: Path, monkeypatch,
                                                                         capsys) -> None:
    (tmp_path / "bin").mkdir()  # neither beside the interpreter nor on PATH
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    code = run(["report", "sign", str(CANONICAL), "--signing-key", f"gnupg:{'a' * 40}",
                "--time-verified", "2026-01-01T00:00:00Z", "--out", str(tmp_path / "report.dsse.json")])
    assert code == ExitCode.INFRASTRUCTURE
    assert "gpg: not installed (install gnupg" in capsys.readouterr().err
    assert not (tmp_path / "report.dsse.json").exists()
