"""Offline verification of a signed report, following the SLSA VSA verification steps.

1. the DSSE signature over PAE(payloadType, payload) by at least ``threshold`` distinct
   trusted Ed25519 keys; 2. the statement type and predicate type; 3. the strict statement
   model; 4. the verifier id; 5. the resource URI; 6. the subject digest of a given
   artifact. The result (PASSED/FAILED) and levels are returned for the caller to judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import UnverifiedSignatureError
from securesystemslib.signer import SSlibKey

from verifier.attestation.envelope import parse_envelope
from verifier.attestation.keys import load_public_key
from verifier.attestation.statement import read_statement
from verifier.errors import InputError, IntegrityError, where
from verifier.digests import digest_stream
from verifier.files import open_regular
from verifier.outcome import VerificationResult


@dataclass(frozen=True)
class VerifiedAttestation:
    """What a valid envelope vouches for, and who signed it."""

    keyids: tuple[str, ...]
    subjects: tuple[tuple[str, str], ...]  # (name, sha256)
    verifier_id: str
    resource_uri: str
    time_verified: str
    result: VerificationResult
    levels: tuple[str, ...]
    report_sha256: str | None
    artifact: tuple[str, str] | None  # (subject name, sha256) matched by --artifact

    @property
    def passed(self) -> bool:
        return self.result == VerificationResult.PASSED


def _trusted_keys(paths: list[Path], threshold: int) -> list[SSlibKey]:
    if threshold < 1:
        raise InputError(f"--threshold: must be at least 1, not {threshold}")
    keys = {key.keyid: key for key in map(load_public_key, paths)}
    if threshold > len(keys):
        raise InputError(f"--threshold {threshold}: larger than the {len(keys)} distinct key(s) given")
    return list(keys.values())


def _check_signatures(envelope: Envelope, keys: list[SSlibKey], threshold: int, place: str) -> tuple[str, ...]:
    pae, good = envelope.pae(), []
    for key in keys:
        signature = envelope.signatures.get(key.keyid)
        if signature is None:
            continue
        try:
            key.verify_signature(signature, pae)
            good.append(key.keyid)
        except UnverifiedSignatureError:
            raise IntegrityError(where(place, f"signature by key {key.keyid[:16]} does not verify (payload or signature altered)")) from None
    if len(good) < threshold:
        raise IntegrityError(where(place, f"{len(good)} of {threshold} required signatures by the given keys (signed by keyid {', '.join(k[:16] for k in envelope.signatures)})"))
    return tuple(sorted(good))


def _sha256_file(path: Path) -> str:
    with open_regular(path, "artifact") as f:
        try:
            return digest_stream(f).sha256
        except OSError as exc:
            raise InputError(where(path, f"cannot read artifact: {exc.strerror}")) from None


def _match_artifact(subjects: tuple[tuple[str, str], ...], artifact: Path, place: str) -> tuple[str, str]:
    sha = _sha256_file(artifact)
    for name, digest in subjects:
        if digest == sha:
            return name, digest
    raise IntegrityError(where(place, f"{artifact.name}: sha256 {sha} matches no subject of the attestation"))


def _expect(actual: str, expected: str | None, what: str, place: str) -> None:
    if expected is not None and actual != expected:
        raise IntegrityError(where(place, f"{what} is {actual[:200]!r}, expected {expected[:200]!r}"))


def verify_envelope(envelope_bytes: bytes, public_keys: list[Path], threshold: int, *,
                    artifact: Path | None = None, expected_resource_uri: str | None = None,
                    expected_verifier_id: str | None = None, place: str = "envelope") -> VerifiedAttestation:
    """Verify signatures and the VSA steps; raise IntegrityError/InputError with one line."""
    keys = _trusted_keys(public_keys, threshold)
    envelope = parse_envelope(envelope_bytes, place)
    keyids = _check_signatures(envelope, keys, threshold, place)
    statement = read_statement(envelope.payload, place)
    subjects = tuple((s.name, s.sha256) for s in statement.subjects)
    _expect(statement.verifier_id, expected_verifier_id, "verifier.id", place)
    _expect(statement.resource_uri, expected_resource_uri, "resourceUri", place)
    matched = _match_artifact(subjects, artifact, place) if artifact is not None else None
    return VerifiedAttestation(
        keyids=keyids, subjects=subjects, verifier_id=statement.verifier_id, resource_uri=statement.resource_uri,
        time_verified=statement.time_verified, result=statement.result, levels=statement.levels,
        report_sha256=statement.report_sha256, artifact=matched)
