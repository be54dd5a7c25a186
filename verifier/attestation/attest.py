"""Signing a verify report, for the CLI: the report model in, the envelope's bytes and the
attested result out (the statement and envelope stay JSON inside this package)."""

from __future__ import annotations

from dataclasses import dataclass

from verifier.attestation.envelope import cosign_envelope, sign_statement
from verifier.attestation.statement import (
    DEFAULT_POLICY_URI,
    DEFAULT_VERIFIER_ID,
    build_statement,
    verification_result,
)
from verifier.outcome import VerificationResult
from verifier.report.model import Report


@dataclass(frozen=True)
class SignedReport:
    envelope: bytes  # the DSSE envelope, as written to *.intoto.json
    result: VerificationResult


@dataclass(frozen=True)
class SigningRequest:
    key_uris: tuple[str, ...]
    time_verified: str | None = None  # default: the report's finish time
    policy_uri: str = DEFAULT_POLICY_URI
    verifier_id: str = DEFAULT_VERIFIER_ID
    cosign: bytes | None = None  # an existing envelope of the same statement to add signatures to
    cosign_place: str = "envelope"


def sign_report(report: Report, report_sha256: str, request: SigningRequest) -> SignedReport:
    """Sign the report's statement with every key (or co-sign ``request.cosign``)."""
    statement = build_statement(report, report_sha256, time_verified=request.time_verified,
                                policy_uri=request.policy_uri, verifier_id=request.verifier_id)
    keys = list(request.key_uris)
    if request.cosign is None:
        envelope = sign_statement(statement, keys)
    else:
        envelope = cosign_envelope(request.cosign, request.cosign_place, statement, keys)
    return SignedReport(envelope, verification_result(report))
