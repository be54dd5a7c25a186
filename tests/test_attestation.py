"""Statement model, DSSE signing and verification through securesystemslib, weak keys."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from securesystemslib.dsse import Envelope

from verifier.attestation import (
    PAYLOAD_TYPE,
    Statement,
    build_statement,
    cosign_envelope,
    generate_keypair,
    load_public_key,
    sign_statement,
    statement_bytes,
    verify_envelope,
)
from verifier.attestation.ed25519 import IDENTITY, P, add, decode_point, weak_key_reason
from verifier.attestation.keys import signer_from_uri
from verifier.errors import InputError, IntegrityError
from verifier.report.codec import load_report, parse_report
from verifier.report.model import Report
from verifier.stages import ArtifactStatus, Verdict

REPORTS = Path(__file__).parent.parent / "fixtures" / "reports"
REPORT_SHA = "9" * 64


@pytest.fixture
def report() -> Report:
    return load_report(REPORTS / "canonical.json")


@pytest.fixture
def keys(tmp_path: Path) -> list[tuple[Path, Path]]:
    pairs = []
    for name in ("alice", "bob", "carol"):
        generate_keypair(tmp_path / name, tmp_path / f"{name}.pub")
        pairs.append((tmp_path / name, tmp_path / f"{name}.pub"))
    return pairs


def _envelope_bytes(statement: Statement, *privs: Path) -> bytes:
    return sign_statement(statement, [f"file:{p}" for p in privs])


def _doc(statement: Statement) -> dict:
    """The statement as a signer's payload, read back as plain JSON."""
    loaded: dict = json.loads(statement_bytes(statement))
    return loaded


def test_statement_fields(report: Report) -> None:
    st = _doc(build_statement(report, REPORT_SHA, time_verified="2026-11-22T13:00:00Z"))
    assert st["_type"] == "https://in-toto.io/Statement/v1"
    assert st["predicateType"] == "https://slsa.dev/verification_summary/v1"
    assert [s["name"] for s in st["subject"]] == sorted(a.name for a in report.artifacts)
    pred = st["predicate"]
    assert pred["timeVerified"] == "2026-11-22T13:00:00Z"
    assert pred["resourceUri"] == "http://127.0.0.1:8000/release.json"
    assert (pred["verificationResult"], pred["verifiedLevels"]) == ("FAILED", [])
    uris = [a["uri"] for a in pred["inputAttestations"]]
    assert uris[0] == report.release.manifest.url and uris[-1] == "report.json"
    assert {"http://127.0.0.1:8000/env.tar.zst", "http://127.0.0.1:8000/packages.lock",
            "http://127.0.0.1:8000/hello-1.0-src.tar.gz"} <= set(uris)
    assert pred["inputAttestations"][-1]["digest"] == {"sha256": REPORT_SHA}


def test_passed_and_reproduced_level_only_when_bit_identical(report: Report) -> None:
    report = replace(report, artifacts=report.artifacts[:1], verdict=Verdict.REPRODUCIBLE)
    assert _doc(build_statement(report, REPORT_SHA))["predicate"]["verifiedLevels"] == ["SLSA_BUILD_REPRODUCED"]
    report = replace(report, artifacts=(replace(report.artifacts[0], status=ArtifactStatus.EQUIVALENT),))
    pred = _doc(build_statement(report, REPORT_SHA))["predicate"]
    assert pred["verifiedLevels"] == []
    report = replace(report, verdict=Verdict.EQUIVALENT)
    assert _doc(build_statement(report, REPORT_SHA))["predicate"]["verificationResult"] == "FAILED"


def test_statement_bytes_are_deterministic(report: Report) -> None:
    doc = json.loads((REPORTS / "canonical.json").read_text(encoding="utf-8"), object_pairs_hook=lambda pairs: dict(reversed(pairs)))
    reordered = parse_report(json.dumps(doc).encode(), "reordered.json")
    one = statement_bytes(build_statement(report, REPORT_SHA))
    assert one == statement_bytes(build_statement(reordered, REPORT_SHA))
    assert b" " not in one.replace(b"hello 1.0", b"") and one.startswith(b'{"_type":')
    assert statement_bytes(build_statement(report, REPORT_SHA, time_verified="2030-01-01T00:00:00Z")) != one


def test_report_without_official_artifacts_cannot_be_attested(report: Report) -> None:
    report = replace(report, artifacts=tuple(replace(a, official=None) for a in report.artifacts))
    with pytest.raises(InputError, match="no official artifacts"):
        build_statement(report, REPORT_SHA)


def test_sign_and_verify_failed_result(report: Report, keys: list) -> None:
    (alice, alice_pub), _, _ = keys
    data = _envelope_bytes(build_statement(report, REPORT_SHA), alice)
    v = verify_envelope(data, [alice_pub], 1)
    assert v.result == "FAILED" and not v.passed
    assert v.keyids == (load_public_key(alice_pub).keyid,)
    assert v.report_sha256 == REPORT_SHA and len(v.subjects) == 3


def test_non_ascii_payload_pae_uses_byte_length(report: Report, keys: list) -> None:
    (alice, alice_pub), _, _ = keys
    envelope = json.loads(sign_statement(build_statement(report, REPORT_SHA), [f"file:{alice}"]))
    payload = base64.b64decode(envelope["payload"])
    assert len(payload) != len(payload.decode("utf-8"))  # "ü" in a subject name
    pae = b"DSSEv1 %d %b %d %b" % (len(PAYLOAD_TYPE), PAYLOAD_TYPE.encode(), len(payload), payload)
    public = serialization.load_pem_public_key(alice_pub.read_bytes())
    public.verify(base64.b64decode(envelope["signatures"][0]["sig"]), pae)  # raises if wrong
    assert verify_envelope(json.dumps(envelope).encode(), [alice_pub], 1).subjects[0][0] == "hello-1.0-manual-ü.pdf"


def test_threshold_and_cosigning(report: Report, keys: list) -> None:
    (alice, alice_pub), (bob, bob_pub), (_, carol_pub) = keys
    statement = build_statement(report, REPORT_SHA, time_verified="2026-11-22T13:00:00Z")
    first = _envelope_bytes(statement, alice)
    with pytest.raises(IntegrityError, match="1 of 2 required signatures"):
        verify_envelope(first, [alice_pub, bob_pub], 2)
    independent = build_statement(load_report(REPORTS / "canonical.json"), REPORT_SHA, time_verified="2026-11-22T13:00:00Z")
    both = cosign_envelope(first, "env", independent, [f"file:{bob}"])
    assert len(verify_envelope(both, [alice_pub, bob_pub, carol_pub], 2).keyids) == 2
    with pytest.raises(InputError, match="larger than the 1 distinct"):
        verify_envelope(both, [alice_pub, alice_pub], 2)  # the same key twice counts once


def test_cosigning_refuses_a_different_statement(report: Report, keys: list) -> None:
    (alice, _), (bob, _), _ = keys
    first = _envelope_bytes(build_statement(report, REPORT_SHA), alice)
    with pytest.raises(IntegrityError, match="refusing to co-sign"):
        cosign_envelope(first, "env", build_statement(report, "8" * 64), [f"file:{bob}"])


def test_artifact_digest_must_be_a_subject(report: Report, keys: list, tmp_path: Path) -> None:
    (alice, alice_pub), _, _ = keys
    artifact = tmp_path / "hello-1.0.tar.gz"
    artifact.write_bytes(b"official bytes")
    a = report.artifacts[1]
    assert a.official is not None
    official = replace(a.official, sha256=hashlib.sha256(b"official bytes").hexdigest())
    report = replace(report, artifacts=(report.artifacts[0], replace(a, official=official), *report.artifacts[2:]))
    data = _envelope_bytes(build_statement(report, REPORT_SHA), alice)
    assert verify_envelope(data, [alice_pub], 1, artifact=artifact).artifact[0] == "hello-1.0.tar.gz"
    artifact.write_bytes(b"tampered bytes")
    with pytest.raises(IntegrityError, match="matches no subject"):
        verify_envelope(data, [alice_pub], 1, artifact=artifact)


def test_expected_verifier_and_resource(report: Report, keys: list) -> None:
    (alice, alice_pub), _, _ = keys
    data = _envelope_bytes(build_statement(report, REPORT_SHA, verifier_id="urn:example:ci"), alice)
    assert verify_envelope(data, [alice_pub], 1, expected_verifier_id="urn:example:ci").verifier_id == "urn:example:ci"
    with pytest.raises(IntegrityError, match="verifier.id"):
        verify_envelope(data, [alice_pub], 1, expected_verifier_id="urn:example:other")
    with pytest.raises(IntegrityError, match="resourceUri"):
        verify_envelope(data, [alice_pub], 1, expected_resource_uri="http://127.0.0.1:8000/other.json")


def test_signed_statement_with_an_extra_field_is_malformed(report: Report, keys: list) -> None:
    (alice, alice_pub), _, _ = keys
    statement = _doc(build_statement(report, REPORT_SHA))
    statement["predicate"]["extra"] = True
    envelope = Envelope(json.dumps(statement).encode(), PAYLOAD_TYPE, {})
    envelope.sign(signer_from_uri(f"file:{alice}"))  # a signer that is not verifier: the reader still refuses
    data = json.dumps(envelope.to_dict()).encode()
    with pytest.raises(InputError, match="statement field predicate"):
        verify_envelope(data, [alice_pub], 1)


def test_keygen_writes_private_key_0600_and_refuses_overwrite(tmp_path: Path) -> None:
    keyid = generate_keypair(tmp_path / "k", tmp_path / "k.pub")
    assert stat.S_IMODE(os.stat(tmp_path / "k").st_mode) == 0o600
    assert load_public_key(tmp_path / "k.pub").keyid == keyid
    with pytest.raises(InputError, match="already exists"):
        generate_keypair(tmp_path / "k", tmp_path / "k2.pub")


def test_private_key_with_open_permissions_is_refused(report: Report, keys: list) -> None:
    (alice, _), _, _ = keys
    alice.chmod(0o644)
    with pytest.raises(InputError, match="permissions 0644 are too open"):
        sign_statement(build_statement(report, REPORT_SHA), [f"file:{alice}"])


def _torsion_points() -> list[tuple[int, int]]:
    """All 8 small-order points, computed: [L]Q for points Q until one has order 8."""
    order = 2**252 + 27742317777372353535851937790883648493
    for y in range(2, 200):
        q = decode_point(y.to_bytes(32, "little"))
        if q is None:
            continue
        t, acc, k = IDENTITY, q, order
        while k:
            if k & 1:
                t = add(t, acc)
            acc, k = add(acc, acc), k >> 1
        multiples = [IDENTITY]
        for _ in range(7):
            multiples.append(add(multiples[-1], t))
        if len(set(multiples)) == 8:
            return multiples
    raise AssertionError("no point of order 8 found")


def _encode(point: tuple[int, int]) -> bytes:
    x, y = point
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def test_every_small_order_encoding_is_rejected(tmp_path: Path) -> None:
    encodings = {_encode(p) for p in _torsion_points()}
    encodings |= {(P + y).to_bytes(32, "little") for y in (0, 1)}  # non-canonical y
    encodings |= {((1 << 255) | y).to_bytes(32, "little") for y in (1, P - 1)}  # x = 0 with sign bit
    assert len(encodings) == 12
    for raw in encodings:
        assert weak_key_reason(raw), raw.hex()
    pem = tmp_path / "weak.pub"
    pem.write_bytes(Ed25519PublicKey.from_public_bytes(_encode(IDENTITY)).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(InputError, match="small-order"):
        load_public_key(pem)


@pytest.mark.parametrize("path", [("artifacts",), ("artifacts", 0), ("artifacts", 0, "official"),
                                  ("artifacts", 0, "official", "sha256"), ("artifacts", 0, "name"),
                                  ("release",), ("release", "manifest", "url"), ("inputs",),
                                  ("inputs", "sources"), ("inputs", "environment"), ("verdict",),
                                  ("tool",), ("finished",)])
@pytest.mark.parametrize("bad", ["x", 7, None, [1], {"k": 1}, "0" * 64])
def test_malformed_reports_are_input_errors(path: tuple, bad: object, tmp_path: Path) -> None:
    target = doc = json.loads((REPORTS / "canonical.json").read_text(encoding="utf-8"))
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = bad
    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(doc))
    try:
        statement = build_statement(load_report(saved), REPORT_SHA)
    except InputError as exc:
        assert exc.message.isprintable()
    else:
        assert statement.subjects


JUNK_ENVELOPES = [
    b"", b"\xff\xfe", b"[" * 100000, b"null", b"1e999", b'{"a": NaN}',
    b'{"payload": 1, "payloadType": "application/vnd.in-toto+json", "signatures": [{"keyid": "k", "sig": "AA=="}]}',
    b'{"payload": "", "payloadType": "application/vnd.in-toto+json", "signatures": {"keyid": "k"}}',
    b'{"payload": "", "payloadType": "application/vnd.in-toto+json", "signatures": ["x"]}',
    b'{"payload": "", "payloadType": "application/vnd.in-toto+json", "signatures": [{"keyid": 5, "sig": ""}]}',
    b'{"payload": "", "payloadType": ["x"], "signatures": []}',
    b'{"payload": "e30=", "payloadType": "application/vnd.in-toto+json", "signatures": [{"keyid": "k", "sig": "A"}]}',
]


@pytest.mark.parametrize("data", JUNK_ENVELOPES, ids=range(len(JUNK_ENVELOPES)))
def test_junk_envelopes_are_one_line_errors(data: bytes, keys: list) -> None:
    (_, alice_pub), _, _ = keys
    with pytest.raises((InputError, IntegrityError)) as caught:
        verify_envelope(data, [alice_pub], 1)
    assert "\n" not in str(caught.value)


def test_validly_signed_junk_payload_is_malformed_input(keys: list) -> None:
    from securesystemslib.dsse import Envelope

    from verifier.attestation.keys import signer_from_uri

    (alice, alice_pub), _, _ = keys
    for payload, message in ((b"[1, 2]", "not a JSON object"), (b"{\"_type\": 1}", "_type"),
                             (b'{"a": 1, "a": 2}', "duplicate JSON key")):
        envelope = Envelope(payload, PAYLOAD_TYPE, {})
        envelope.sign(signer_from_uri(f"file:{alice}"))
        with pytest.raises((InputError, IntegrityError), match=message):
            verify_envelope(json.dumps(envelope.to_dict()).encode(), [alice_pub], 1)


@pytest.mark.parametrize("doc", [
    {}, [], {"format": "verifier-gpg-public-key-v1"},
    {"format": "verifier-gpg-public-key-v1", "keyid": "a" * 40, "key": {"keytype": "eddsa"}},
    {"format": "verifier-gpg-public-key-v1", "keyid": "a" * 40,
     "key": {"keytype": "eddsa", "scheme": "pgp+eddsa-ed25519", "keyval": {"public": 7}}},
    {"format": "verifier-gpg-public-key-v1", "keyid": 7, "key": {}},
    {"format": "verifier-gpg-public-key-v1", "keyid": "not-hex", "key": {
        "keytype": "eddsa", "scheme": "pgp+eddsa-ed25519", "keyval": {"public": {"q": "00"}}}},
])
def test_malformed_gpg_key_files_are_one_line_input_errors(doc: object, tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as caught:
        load_public_key(path)
    assert caught.value.message.startswith(f"{path}") and caught.value.message.isprintable()
