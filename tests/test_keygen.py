"""`verifier keygen`: an Ed25519 key pair usable by `report sign` and `report verify`."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from verifier.attestation import load_public_key
from verifier.cli.app import run
from verifier.errors import ExitCode


def test_keygen_writes_a_0600_private_key_and_a_public_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "key"
    assert run(["keygen", "--out", str(key)]) == 0
    out = capsys.readouterr().out
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    keyid = load_public_key(tmp_path / "key.pub").keyid
    assert f"keyid:       {keyid}" in out and f"file:{key}" in out


def test_keygen_refuses_to_overwrite_and_to_follow_links(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "key"
    assert run(["keygen", "--out", str(key)]) == 0
    before = key.read_bytes()
    assert run(["keygen", "--out", str(key)]) == ExitCode.BAD_INPUT
    assert "already exists" in capsys.readouterr().err and key.read_bytes() == before
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    assert run(["keygen", "--out", str(tmp_path / "link")]) == ExitCode.BAD_INPUT
    assert not (tmp_path / "elsewhere").exists()


def test_keygen_into_missing_directory_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["keygen", "--out", str(tmp_path / "no" / "key")]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert "cannot create key file" in err and err.count("\n") == 1
