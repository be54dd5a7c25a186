"""`verifier report sign|verify|render` end to end: exit codes and one-line errors."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from verifier.cli.app import run
from verifier.errors import ExitCode

REPORTS = Path(__file__).parent.parent / "fixtures" / "reports"


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = run([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Path]:
    report = tmp_path / "report.json"
    shutil.copy(REPORTS / "canonical.json", report)
    for name in ("alice", "bob"):
        assert cli(capsys, "keygen", "--out", tmp_path / name)[0] == 0
    env = tmp_path / "report.intoto.json"
    code, out, _ = cli(capsys, "report", "sign", report, "--signing-key", f"file:{tmp_path / 'alice'}", "--out", env)
    assert code == 0 and "FAILED" in out
    return {"report": report, "env": env, "alice": tmp_path / "alice", "alice_pub": tmp_path / "alice.pub",
            "bob": tmp_path / "bob", "bob_pub": tmp_path / "bob.pub", "dir": tmp_path}


def test_verify_failed_report_exits_1_and_prints_what_it_verified(setup: dict, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "report", "verify", setup["env"], "--key", setup["alice_pub"])
    assert code == ExitCode.DIFFERENT
    report_sha = hashlib.sha256(setup["report"].read_bytes()).hexdigest()
    assert "result:      FAILED" in out and f"sha256:{report_sha}" in out and "signature verified by 1 key" in out
    assert err == ""


def test_verify_passed_report_exits_0(setup: dict, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    doc = json.loads(setup["report"].read_text())
    doc.update(verdict="REPRODUCIBLE", artifacts=doc["artifacts"][:1])
    passed = tmp_path / "passed.json"
    passed.write_text(json.dumps(doc))
    artifact = tmp_path / "sums"
    artifact.write_bytes(b"x")
    doc["artifacts"][0]["official"]["sha256"] = hashlib.sha256(b"x").hexdigest()
    passed.write_text(json.dumps(doc))
    env = tmp_path / "passed.intoto.json"
    assert cli(capsys, "report", "sign", passed, "--signing-key", f"file:{setup['alice']}", "--out", env,
               "--time-verified", "2026-11-22T13:00:00Z")[0] == 0
    code, out, _ = cli(capsys, "report", "verify", env, "--key", setup["alice_pub"], "--artifact", artifact,
                       "--resource-uri", "http://127.0.0.1:8000/release.json")
    assert code == 0 and "result:      PASSED" in out and "SLSA_BUILD_REPRODUCED" in out and "<- --artifact" in out


def test_two_verifiers_cosign_one_envelope(setup: dict, capsys: pytest.CaptureFixture[str]) -> None:
    both = setup["dir"] / "both.intoto.json"
    code, _, err = cli(capsys, "report", "sign", setup["report"], "--signing-key", f"file:{setup['bob']}",
                       "--append-to", setup["env"], "--out", both)
    assert code == 0, err
    code, out, _ = cli(capsys, "report", "verify", both, "--key", setup["alice_pub"], "--key", setup["bob_pub"],
                       "--threshold", "2")
    assert code == ExitCode.DIFFERENT and "verified by 2 key(s)" in out
    code, _, err = cli(capsys, "report", "verify", setup["env"], "--key", setup["alice_pub"], "--key",
                       setup["bob_pub"], "--threshold", "2")
    assert code == ExitCode.INTEGRITY and "1 of 2 required signatures" in err


def _edit_envelope(edit: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        doc = json.loads(path.read_text())
        edit(doc)
        path.write_text(json.dumps(doc))
    return apply


def _edit_payload(edit: Callable[[dict], None]) -> Callable[[dict], None]:
    def apply(doc: dict) -> None:
        statement = json.loads(base64.b64decode(doc["payload"]))
        edit(statement)
        doc["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    return apply


def _flip_sig(doc: dict) -> None:
    sig = bytearray(base64.b64decode(doc["signatures"][0]["sig"]))
    sig[5] ^= 1
    doc["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()


TAMPERING = {
    "payload result": (_edit_payload(lambda s: s["predicate"].update(verificationResult="PASSED")), "does not verify"),
    "payload subject digest": (_edit_payload(lambda s: s["subject"][0]["digest"].update(sha256="0" * 64)), "does not verify"),
    "payload extra field": (_edit_payload(lambda s: s.update(extra=1)), "does not verify"),
    "payload missing field": (_edit_payload(lambda s: s["predicate"].pop("policy")), "does not verify"),
    "payloadType": (lambda d: d.update(payloadType="application/json"), "payloadType"),
    "signature": (_flip_sig, "does not verify"),
    "truncated signature": (lambda d: d["signatures"][0].update(sig=d["signatures"][0]["sig"][:20]), "does not verify"),
    "empty signature": (lambda d: d["signatures"][0].update(sig=""), "does not verify"),
    "keyid": (lambda d: d["signatures"][0].update(keyid="0" * 64), "0 of 1 required signatures"),
    "envelope extra field": (lambda d: d.update(note="hi"), "unexpected field 'note'"),
    "envelope missing field": (lambda d: d.pop("payloadType"), "missing field 'payloadType'"),
    "signature extra field": (lambda d: d["signatures"][0].update(cert="x"), "unexpected field 'cert'"),
    "no signatures": (lambda d: d.update(signatures=[]), "no signatures"),
    "duplicate signature": (lambda d: d["signatures"].append(dict(d["signatures"][0])), "two signatures"),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_fails_with_one_line_and_exit_4(setup: dict, capsys: pytest.CaptureFixture[str], case: str) -> None:
    edit, message = TAMPERING[case]
    _edit_envelope(edit)(setup["env"])
    code, out, err = cli(capsys, "report", "verify", setup["env"], "--key", setup["alice_pub"])
    assert code == ExitCode.INTEGRITY, err
    assert message in err and err.count("\n") == 1 and err.startswith("verifier: error: ")
    assert "result" not in out


def test_verify_checks_the_json_report_digest(setup: dict, capsys: pytest.CaptureFixture[str]) -> None:
    verify = ["report", "verify", setup["env"], "--key", setup["alice_pub"], "--report", setup["report"]]
    assert cli(capsys, *verify)[0] == ExitCode.DIFFERENT
    setup["report"].write_bytes(setup["report"].read_bytes().replace(b'"DIFFERENT"', b'"REPRODUCIBLE"'))
    code, out, err = cli(capsys, *verify)
    assert code == ExitCode.INTEGRITY and "is not the attested report's" in err and out == ""


def test_wrong_key_and_wrong_artifact_exit_4(setup: dict, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "report", "verify", setup["env"], "--key", setup["bob_pub"])
    assert code == ExitCode.INTEGRITY and "0 of 1 required signatures" in err
    other = setup["dir"] / "other.tar.gz"
    other.write_bytes(b"not an official artifact")
    code, _, err = cli(capsys, "report", "verify", setup["env"], "--key", setup["alice_pub"], "--artifact", other)
    assert code == ExitCode.INTEGRITY and "matches no subject" in err


def _rsa_free_foreign_key(path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    path.write_bytes(key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


BAD_INPUT = {
    "not json": (lambda s: s["env"].write_text("{not json"), ["--key", "{alice_pub}"], "not valid JSON"),
    "duplicate json key": (lambda s: s["env"].write_text('{"payload":"","payload":""}'), ["--key", "{alice_pub}"], "duplicate JSON key"),
    "envelope is a list": (lambda s: s["env"].write_text("[]"), ["--key", "{alice_pub}"], "not a JSON object"),
    "bad base64": (lambda s: _edit_envelope(lambda d: d.update(payload="!!!"))(s["env"]), ["--key", "{alice_pub}"], "not valid base64"),
    "missing key file": (lambda s: None, ["--key", "{dir}/nope.pub"], "key file not found"),
    "unknown key type": (lambda s: _rsa_free_foreign_key(s["dir"] / "ec.pub"), ["--key", "{dir}/ec.pub"], "unsupported key type"),
    "not a key": (lambda s: (s["dir"] / "junk.pub").write_text("hello"), ["--key", "{dir}/junk.pub"], "not a PEM public key"),
    "key is a directory": (lambda s: None, ["--key", "{dir}"], "key"),
    "threshold > keys": (lambda s: None, ["--key", "{alice_pub}", "--threshold", "2"], "larger than the 1 distinct"),
    "threshold zero": (lambda s: None, ["--key", "{alice_pub}", "--threshold", "0"], "at least 1"),
    "missing envelope": (lambda s: s["env"].unlink(), ["--key", "{alice_pub}"], "no such envelope file"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_exits_2_with_one_line(setup: dict, capsys: pytest.CaptureFixture[str], case: str) -> None:
    prepare, args, message = BAD_INPUT[case]
    prepare(setup)
    args = [a.format(**{k: str(v) for k, v in setup.items()}) for a in args]
    code, _, err = cli(capsys, "report", "verify", setup["env"], *args)
    assert code == ExitCode.BAD_INPUT, err
    assert message in err and err.count("\n") == 1


def test_signing_errors_exit_2(setup: dict, capsys: pytest.CaptureFixture[str]) -> None:
    out = setup["dir"] / "x.intoto.json"
    sign = ["report", "sign", setup["report"], "--out", out, "--signing-key"]
    setup["bob"].chmod(0o640)
    for key, message in ((f"file:{setup['bob']}", "too open"), (f"file:{setup['dir']}/nope", "not found"),
                         (f"file:{setup['alice_pub']}", "too open"), ("kms:thing", "unsupported signing key scheme"),
                         ("nocolon", "file:PATH")):
        code, _, err = cli(capsys, *sign, key)
        assert code == ExitCode.BAD_INPUT and message in err and err.count("\n") == 1, (key, err)
    assert not out.exists()


def test_render_saved_report_as_html(setup: dict, capsys: pytest.CaptureFixture[str]) -> None:
    page, badge = setup["dir"] / "report.html", setup["dir"] / "badge.json"
    code, _, _ = cli(capsys, "report", "render", setup["report"], "--format", "html", "--output", page, "--badge", badge)
    assert code == 0
    assert page.read_text(encoding="utf-8") == (REPORTS / "golden" / "canonical.html").read_text(encoding="utf-8")
    assert json.loads(badge.read_text())["color"] == "red"
    code, out, _ = cli(capsys, "report", "render", setup["report"], "--format", "markdown")
    assert code == 0 and out == (REPORTS / "golden" / "canonical.md").read_text(encoding="utf-8")


def test_render_bad_input(setup: dict, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "report", "render", setup["report"], "--format", "pdf")
    assert code == ExitCode.BAD_INPUT and "unknown format" in err
    setup["report"].write_text('{"report_version": 1, "artifacts": 5, "verdict": []}')
    for fmt in ("text", "markdown", "html", "json", "junit"):
        code, _, err = cli(capsys, "report", "render", setup["report"], "--format", fmt)
        assert code in (0, ExitCode.BAD_INPUT) and "internal error" not in err
