"""Signed reports: in-toto Statement v1 + SLSA VSA v1 predicate in a DSSE envelope.

See docs/attestation.md. Crypto and DSSE come from securesystemslib; this package adds
the statement model, strict envelope reading, key-file hygiene and the VSA checks.
"""

from verifier.attestation.attest import SignedReport, SigningRequest, sign_report
from verifier.attestation.envelope import cosign_envelope, parse_envelope, sign_statement
from verifier.attestation.keys import generate_keypair, load_public_key
from verifier.attestation.statement import (
    DEFAULT_POLICY_URI,
    DEFAULT_VERIFIER_ID,
    PAYLOAD_TYPE,
    Statement,
    build_statement,
    read_statement,
    statement_bytes,
    verification_result,
)
from verifier.attestation.verify import VerifiedAttestation, verify_envelope

__all__ = [
    "DEFAULT_POLICY_URI", "DEFAULT_VERIFIER_ID", "PAYLOAD_TYPE", "SignedReport", "SigningRequest",
    "Statement", "VerifiedAttestation", "build_statement", "cosign_envelope", "generate_keypair",
    "load_public_key", "parse_envelope", "read_statement", "sign_report", "sign_statement", "statement_bytes",
    "verification_result", "verify_envelope",
]
